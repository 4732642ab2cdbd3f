"""Visible tests that name the mistake: your code, fixed weights, fixed inputs, known answers.

A test cell calls ``explain_known_mistakes(task, answer, **earlier_answers)`` first. It gives
every parameter of your module a value that depends only on the parameter's shape, feeds it
inputs computed from a formula, and compares a short fingerprint of each output with stored
fingerprints: the design's, and those of the mistakes students make most (computed by the
instructors' grader, which also explains each one). The stored numbers are outputs, not code:
nothing here says how to write a task. When your output is the design's, the cell goes on to
its own checks; when it is a known mistake's, or an earlier task's function is wrong, the cell
fails and says which.

The crop needs no fingerprints: its task states the rule, so each axis's window start is
compared with the rule and with the usual wrong ones, rows and columns separately.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

#: Written by ``python -m grader generate`` from the grader's own catalogue of misconceptions.
FINGERPRINTS_FILE = Path(__file__).with_name("known_mistakes.json")
PROJECTIONS = 6  # numbers per fingerprint besides the shape
RELATIVE_TOLERANCE = 1e-6  # float64 outputs agree to ~1e-15; a real mistake moves them by far more

#: The tasks before each task whose functions it calls, and the names they have in the notebook.
EARLIER_TASKS = {
    "expanding_block": ("crop",),
    "unet": ("crop", "contracting_block", "expanding_block", "feature_map_block"),
}
TASK_TITLES = {
    "crop": "Task 1's crop", "contracting_block": "Task 2's ContractingBlock",
    "expanding_block": "Task 3's ExpandingBlock", "feature_map_block": "Task 4's FeatureMapBlock",
    "unet": "Task 5's UNet",
}
NORMALISATION_OR_DROPOUT = ("Norm", "Dropout")  # BatchNorm2d, GroupNorm, Dropout2d, ...


def fixed_values(shape: tuple[int, ...]) -> torch.Tensor:
    """A float64 tensor of ``shape`` whose values depend on the shape alone, scaled like an initialisation."""
    count = math.prod(shape)
    phase = sum((axis + 1) * size for axis, size in enumerate(shape)) * 0.113
    values = torch.sin(0.5 + phase + 0.731 * torch.arange(count, dtype=torch.float64))
    fan_in = math.prod(shape[1:]) if len(shape) > 1 else 4
    return (values / math.sqrt(fan_in)).reshape(shape)


def fixed_input(*shape: int) -> torch.Tensor:
    """A float64 input of ``shape`` with positive and negative values and no symmetry."""
    index = torch.arange(math.prod(shape), dtype=torch.float64)
    return (torch.sin(0.37 * index + 0.2) + 0.5 * torch.cos(1.31 * index)).reshape(shape)


def with_fixed_weights(module: nn.Module) -> nn.Module:
    """``module`` in float64, each parameter set to ``fixed_values`` of its shape."""
    module.double()  # in place, as every nn.Module conversion is
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(fixed_values(tuple(parameter.shape)))
    return module


def fingerprint(output: torch.Tensor) -> dict:
    """The output's shape and a few fixed projections of its values: enough to tell outputs apart."""
    values = output.detach().double().flatten()
    index = torch.arange(values.numel(), dtype=torch.float64)
    scale = math.sqrt(max(values.numel(), 1))
    projections = [float((values * torch.cos(0.61 * (k + 1) * index + 0.3 * k)).sum()) / scale
                   for k in range(PROJECTIONS)]
    return {"shape": list(output.shape), "values": projections}


def error_fingerprint(error: BaseException) -> dict:
    """An error by its type and the numbers in its message: those survive rewordings between torch versions."""
    return {"error": type(error).__name__, "numbers": sorted(int(n) for n in re.findall(r"\d+", str(error)))}


def same_fingerprint(first: dict | None, second: dict | None) -> bool:
    if first is None or second is None or ("error" in first) != ("error" in second):
        return False
    if "error" in first:
        return first == second
    if first["shape"] != second["shape"]:
        return False
    scale = 1 + max(abs(v) for v in second["values"]) if second["values"] else 1
    return all(abs(a - b) <= RELATIVE_TOLERANCE * scale for a, b in zip(first["values"], second["values"]))


@dataclass(frozen=True)
class Case:
    """One run of a task: the module's constructor arguments and its inputs' shapes."""

    build: tuple[int, ...]
    inputs: tuple[tuple[int, ...], ...]

    def run(self, answer: type) -> dict:
        """The fingerprint of the output, or of the error building or running the module raised."""
        try:
            module = with_fixed_weights(answer(*self.build))
            with torch.no_grad():
                return fingerprint(module(*(fixed_input(*shape) for shape in self.inputs)))
        except NotImplementedError:
            raise
        except Exception as error:  # noqa: BLE001 - a known mistake may be known by the error it raises
            return error_fingerprint(error)


#: The runs each module task is compared on; the grader computes the stored answers from the same cases.
CASES: dict[str, tuple[Case, ...]] = {
    "contracting_block": (Case((3,), ((1, 3, 20, 22),)), Case((3,), ((2, 3, 17, 19),))),
    "expanding_block": (Case((4,), ((1, 4, 5, 5), (1, 2, 13, 13))), Case((4,), ((2, 4, 6, 7), (2, 2, 16, 18)))),
    "feature_map_block": (Case((3, 5), ((2, 3, 6, 7),)), Case((3, 5), ((1, 3, 5, 5),))),
    "unet": (Case((3, 3, 2), ((1, 3, 188, 204),)),),  # three output maps: some logits are negative
}
#: (image shape, new shape) for the crop: each axis meets an odd difference, an even one, and both
#: parities of H and h, so every wrong rule below disagrees with the right one somewhere.
CROP_CASES = (((1, 2, 10, 9), (1, 2, 5, 6)), ((2, 1, 9, 13), (2, 1, 6, 6)), ((1, 1, 13, 10), (1, 1, 6, 5)))
#: Wrong window starts on one axis of size S cropped to s, by misconception id (Task 1 states the right rule).
CROP_START_RULES: tuple[tuple[str, Callable[[int, int], int]], ...] = (
    ("crop.top_left_window", lambda size, new: 0),
    ("crop.halves_the_difference", lambda size, new: (size - new) // 2),
    ("crop.python_round", lambda size, new: round((size - new) / 2)),
    ("crop.start_off_by_one", lambda size, new: _right_start(size, new) + 1),
    ("crop.start_off_by_one", lambda size, new: _right_start(size, new) - 1),
)


def _right_start(size: int, new: int) -> int:
    return size // 2 - new // 2  # the rule Task 1 states


class KnownMistake(AssertionError):
    """A visible test found a mistake it can name."""


def _load() -> dict:
    return json.loads(FINGERPRINTS_FILE.read_text(encoding="utf-8"))


def _explanation(catalogue: dict, misconception: str, **specifics: str) -> str:
    """The feedback's paragraph, its blanks filled with what was read here (or the grader's defaults)."""
    entry = catalogue["explanations"][misconception]
    return entry["text"].format(**{**entry["defaults"], **specifics})


# -- the crop ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """Whether a task's outputs are the design's; the known mistakes they show; else how they differ.

    Only ``named`` mistakes fail a task's own test here (an unnamed difference is left to the
    cell's own checks, which say more about shapes); any difference is reported when a later
    task calls this one.
    """

    right: bool
    named: tuple[str, ...] = ()
    difference: str = "its outputs differ from the design's on the visible test's fixed inputs."

    def sentences(self) -> list[str]:
        if self.right or self.named:
            return list(self.named)
        return [self.difference]


def judge_crop(crop: Callable, catalogue: dict) -> Verdict:
    """Where ``crop``'s window lies on each axis, judged against Task 1's rule and the usual wrong ones."""
    starts: dict[str, list[tuple[int, int, int]]] = {"rows": [], "columns": []}
    for image_shape, new_shape in CROP_CASES:
        image = torch.arange(math.prod(image_shape)).reshape(image_shape)
        batch, channels, height, width = image_shape
        cropped = crop(image, new_shape)
        if tuple(cropped.shape) != (batch, channels, new_shape[2], new_shape[3]):
            return _crop_shape_mistake(tuple(cropped.shape), image_shape, new_shape, catalogue)
        first = int(cropped.flatten()[0])
        top, left = (first // width) % height, first % width
        if not torch.equal(cropped, image[:, :, top:top + new_shape[2], left:left + new_shape[3]]):
            return Verdict(False, difference="it does not keep one rectangular window of the image: it should "
                           "return image[:, :, top:top + h, left:left + w] for one top and one left.")
        starts["rows"].append((height, new_shape[2], top))
        starts["columns"].append((width, new_shape[3], left))
    axes_by_mistake: dict[str, list[str]] = {}
    unexplained = []
    for axis, observed in starts.items():
        if all(start == _right_start(size, new) for size, new, start in observed):
            continue
        explained = [m for m, rule in CROP_START_RULES if all(start == rule(size, new) for size, new, start in observed)]
        if explained:
            axes_by_mistake.setdefault(explained[0], []).append(axis)
        else:
            unexplained.append(
                f"its window starts at the wrong {axis[:-1]} for some sizes ("
                + ", ".join(f"{size} cropped to {new} starts at {start}" for size, new, start in observed)
                + "; Task 1's rule gives " + ", ".join(str(_right_start(size, new)) for size, new, _ in observed) + ").")
    named = tuple(_explanation(catalogue, mistake, axes=" and ".join(axes)) for mistake, axes in axes_by_mistake.items())
    if unexplained:
        return Verdict(False, named, " ".join(unexplained))
    return Verdict(not named, named)


def _crop_shape_mistake(shape, image_shape, new_shape, catalogue) -> Verdict:
    batch, channels = image_shape[:2]
    if shape == (batch, channels, new_shape[3], new_shape[2]):
        return Verdict(False, (_explanation(catalogue, "crop.height_and_width_swapped"),))
    if shape in {(batch, channels, new_shape[1], new_shape[2]), (batch, channels, new_shape[0], new_shape[1])}:
        return Verdict(False, (_explanation(catalogue, "crop.wrong_axes_of_new_shape"),))
    return Verdict(False, difference=f"cropping a {tuple(image_shape)} image to {tuple(new_shape)} gave shape {shape}, "
                   "not the batch and channels of the image with the height and width of new_shape[2:].")


# -- the blocks and the U-Net -------------------------------------------------------------------------
def _structure_mistakes(task: str, module: nn.Module, build: tuple[int, ...]) -> list[str]:
    """Mistakes the layers show before any value is computed."""
    layer_names = [type(layer).__name__ for layer in module.modules()]
    convolutions = [layer for layer in module.modules() if isinstance(layer, nn.Conv2d)]
    found = []
    if task == "contracting_block":
        if any(part in name for name in layer_names for part in NORMALISATION_OR_DROPOUT):
            found.append("contracting_block.normalisation_or_dropout")
        if convolutions and all(layer.bias is None for layer in convolutions):
            found.append("contracting_block.convolutions_without_bias")
    if task == "unet":
        hidden = build[2]  # UNet(input_channels, output_channels, hidden_channels)
        if max((layer.in_channels for layer in convolutions), default=0) > 16 * hidden:
            found.append("unet.ignores_hidden_channels")  # the widest layer takes 16 * hidden_channels
    return found


def _crop_calls_mistakes(task: str, answer) -> list[str]:
    """Mistakes seen in how the expanding block calls ``crop``: it must shrink the skip, never grow a map."""
    if task != "expanding_block":
        return []
    names = getattr(getattr(answer, "forward", None), "__globals__", {})
    student_crop = names.get("crop")
    if not callable(student_crop):
        return []
    calls = []

    def recording_crop(image, new_shape):
        calls.append((tuple(image.shape), tuple(int(size) for size in new_shape)))
        return student_crop(image, new_shape)

    names["crop"] = recording_crop
    try:
        CASES[task][0].run(answer)
    finally:
        names["crop"] = student_crop
    grows = any(image[2] < new_shape[2] or image[3] < new_shape[3] for image, new_shape in calls)
    return ["expanding_block.crops_the_upsampled_map"] if grows else []


def _matching_mistakes(task: str, answers: list[dict], catalogue: dict) -> list[str]:
    stored = catalogue["tasks"][task]
    named = []
    for mistake in stored["mistakes"]:
        telling = False
        for case, answer in enumerate(answers):
            agreeing = [variant[case] for variant in mistake["variants"] if same_fingerprint(answer, variant[case])]
            if not agreeing:
                break
            telling = telling or any(not same_fingerprint(v, stored["right"][case]) for v in agreeing)
        else:
            if telling:
                named.append(mistake["id"])
    return named


def _activation_readings(answer: type) -> tuple[float, float, float] | None:
    """f2(-1), f2(-2) and f1(-1) of a contracting block's two activations, read from constant maps.

    All weights are set to zero except where noted, so each map stays constant and pooling cannot
    change it: with only the second bias at -1 (or -2) the output is f2(-1) (or f2(-2)); with the
    first bias at -1 and the second convolution averaging its inputs plus 1.5, it is f2(1.5 + f1(-1)).
    """
    try:
        module = answer(1)
        module.double()
        convolutions = {tuple(layer.weight.shape): layer for layer in module.modules() if isinstance(layer, nn.Conv2d)}
        first, second = convolutions.get((2, 1, 3, 3)), convolutions.get((2, 2, 3, 3))
        if first is None or second is None or first.bias is None or second.bias is None:
            return None
        readings = []
        with torch.no_grad():
            for first_bias, second_weight, second_bias in ((0.0, 0.0, -1.0), (0.0, 0.0, -2.0), (-1.0, 1 / 18, 1.5)):
                for parameter in module.parameters():
                    parameter.zero_()
                first.bias.fill_(first_bias)
                second.weight.fill_(second_weight)
                second.bias.fill_(second_bias)
                output = module(torch.zeros(1, 1, 12, 12, dtype=torch.float64))
                if output.numel() == 0 or float(output.max() - output.min()) > 1e-9:
                    return None
                readings.append(float(output.flatten()[0]))
        return readings[0], readings[1], readings[2] - 1.5
    except Exception:  # noqa: BLE001 - a block this probe cannot drive gets no activation reading
        return None


def _activation_sentence(answer: type, catalogue: dict) -> str | None:
    """The other-activation paragraph, naming the LeakyReLU's slope when the readings show one."""
    readings = _activation_readings(answer)
    if readings is None:
        return None
    at_minus_one, at_minus_two, first_at_minus_one = readings
    not_relu = [value for value in (first_at_minus_one, at_minus_one) if abs(value) > 1e-9 and abs(value + 1) > 1e-9]
    if not not_relu:
        return None
    if abs(at_minus_two - 2 * at_minus_one) < 1e-9 and -1 < at_minus_one < 0:
        return _explanation(catalogue, "contracting_block.other_activation",
                            activation=f"a LeakyReLU (slope {-at_minus_one:.3g})")
    return _explanation(catalogue, "contracting_block.other_activation")


def judge(task: str, answer, catalogue: dict | None = None) -> Verdict:
    """Run ``answer`` on the task's fixed cases and name the known mistakes its outputs show."""
    catalogue = catalogue or _load()
    if task == "crop":
        return judge_crop(answer, catalogue)
    build = CASES[task][0].build
    named = _structure_mistakes(task, answer(*build), build)
    if named:  # each of these changes the outputs; a wide U-Net would also be slow to run
        return Verdict(False, tuple(_explanation(catalogue, misconception) for misconception in named))
    answers = [case.run(answer) for case in CASES[task]]
    if all(same_fingerprint(a, r) for a, r in zip(answers, catalogue["tasks"][task]["right"])):
        return Verdict(True)
    if task == "contracting_block":  # read first: it names a LeakyReLU's slope, whatever it is
        activation = _activation_sentence(answer, catalogue)
        if activation:
            return Verdict(False, (activation,))
    named = _crop_calls_mistakes(task, answer) or _matching_mistakes(task, answers, catalogue)
    return Verdict(False, tuple(_explanation(catalogue, misconception) for misconception in named))


def _first_failing_earlier_task(task: str, earlier: dict, catalogue: dict) -> tuple[str, str] | None:
    for earlier_task in EARLIER_TASKS.get(task, ()):
        answer = earlier.get(earlier_task)
        if answer is None:
            continue
        try:
            problems = judge(earlier_task, answer, catalogue).sentences()
        except NotImplementedError:
            problems = ["it is not written yet (it still raises NotImplementedError)."]
        except Exception as error:  # noqa: BLE001 - an earlier task that crashes is the earlier task's problem
            problems = [f"it raises {type(error).__name__}: {error}."]
        if problems:
            return earlier_task, problems[0]
    return None


def explain_known_mistakes(task: str, answer, **earlier_answers) -> None:
    """Fail with the mistake's name when ``answer`` (or an earlier task it calls) is a known mistake.

    Returns quietly when the outputs are the design's, when no known mistake explains them (the
    cell's own checks then speak) and when ``answer`` itself raises (its own traceback is clearer).
    """
    catalogue = _load()
    try:
        verdict = judge(task, answer, catalogue)
    except NotImplementedError:
        return  # not started: the cell's own call shows that plainly
    except Exception:  # noqa: BLE001 - an earlier task may be the cause; else the cell's own checks speak
        verdict = Verdict(False)
    if verdict.right:
        return
    cause = _first_failing_earlier_task(task, earlier_answers, catalogue)
    if cause is not None:
        earlier_task, problem = cause
        raise KnownMistake(
            f"{TASK_TITLES[task]} calls {TASK_TITLES[earlier_task]}, which is wrong: {problem} "
            f"Fix Task {list(TASK_TITLES).index(earlier_task) + 1} first, run its test cell, then run this one again.")
    if verdict.named:
        raise KnownMistake(f"{TASK_TITLES[task]}: " + " ".join(verdict.named))
