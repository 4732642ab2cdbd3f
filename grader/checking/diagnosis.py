"""Name the misconception behind a task's failed checks.

After a task's hidden checks fail, the checker calls ``diagnose(task, student)``: it builds the
student's module (or calls their function) with inputs and weights chosen here, and compares
each answer with the predictions of ``grader.checking.misconceptions``. A misconception is named when,
on every input, one of its predictions equals the student's answer (the same values, or the
same error), and on at least one input that prediction differs from the right answer. A
prediction with a free parameter is made with the value fitted to the first answer
(``grader.checking.fitting``); a crop's window start is judged on each axis on its own.
``find_misconceptions`` also says what was read from the answer (the slope, the axes), for
the feedback. The diagnosis advises; it never changes a score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch.nn.functional import conv2d

from grader.checking.fitting import fitted_value
from grader.checking.inspection import close_enough, random_input
from grader.checking.misconceptions import (
    BY_ID,
    CATALOGUE,
    FreeParameter,
    Misconception,
    NotThisMistake,
    Weights,
)
from grader.checking.probe import describe_error
from grader.checking.reference import (
    StandInsNotFound,
    contracting_oracle,
    expanding_oracle,
    reference_crop,
    unet_forward,
    unet_stand_ins,
)
from grader.checking.remote import RemoteModule, RemoteStudent, StudentCodeFailed
from grader.checking.window_starts import Crop, wrong_axes_by_mistake

Answer = torch.Tensor | str  # an output, or the first line of the error it raised


@dataclass
class Trial:
    """One input: the student's answer, the right answer, and what the predictions are called with."""

    answer: Answer
    right: Answer | None
    arguments: tuple


def _attempt(compute: Callable[[], torch.Tensor]) -> Answer | None:
    """The value, the error it raised as the probe reports errors, or None if the mistake cannot apply."""
    try:
        return compute()
    except NotThisMistake:
        return None
    except StudentCodeFailed as failure:
        return str(failure)
    except Exception as error:  # noqa: BLE001 - a predicted failure is a prediction too
        return describe_error(error)


def same(first: Answer | None, second: Answer | None) -> bool:
    if first is None or second is None or isinstance(first, str) != isinstance(second, str):
        return False
    if isinstance(first, str):
        return first == second
    return close_enough(first, second)


@dataclass(frozen=True)
class Finding:
    """A misconception named for one student, with what was read from their answer (a slope, the axes)."""

    id: str
    specifics: dict[str, str] = field(default_factory=dict)

    @property
    def explanation(self) -> str:
        return BY_ID[self.id].explained(self.specifics)


Variant = tuple[Callable[..., torch.Tensor], dict[str, str]]  # a prediction and what it says of the student


def _variants(misconception: Misconception, trials: list[Trial]) -> list[Variant]:
    """The misconception's predictions, a free parameter's made with the value fitted to the first answer."""
    values = [trial for trial in trials if isinstance(trial.answer, torch.Tensor)]
    variants = []
    for variant in misconception.predicts:
        if not isinstance(variant, FreeParameter):
            variants.append((variant, {}))
        elif values and (value := fitted_value(variant, values[0].answer, values[0].arguments)) is not None:
            if variant.admits(value):
                variants.append((variant.predict_with(value), {variant.placeholder: variant.describe(value)}))
    return variants


def match(misconception: Misconception, trials: list[Trial]) -> Finding | None:
    """The finding if on every input a variant gives the answer, and on one input not the right answer too."""
    variants = _variants(misconception, trials)
    telling: dict[str, str] | None = None
    for trial in trials:
        predictions = [(_attempt(lambda predict=predict, arguments=trial.arguments: predict(*arguments)), specifics)
                       for predict, specifics in variants]
        agreeing = [(prediction, specifics) for prediction, specifics in predictions if same(prediction, trial.answer)]
        if not agreeing:
            return None
        if telling is None:
            telling = next((specifics for prediction, specifics in agreeing if not same(prediction, trial.right)), None)
    return None if telling is None else Finding(misconception.id, telling)


def window_start_findings(misconceptions: list[Misconception], trials: list[Trial]) -> list[Finding]:
    """Crop mistakes in the window's start, judged per axis (``grader.checking.window_starts``), with their axes."""
    if not misconceptions or not all(isinstance(trial.answer, torch.Tensor) for trial in trials):
        return []
    crops = [Crop(*trial.arguments, trial.answer, trial.right) for trial in trials]
    return [Finding(id, {"axes": " and ".join(axes)}) for id, axes in wrong_axes_by_mistake(misconceptions, crops).items()]


def findings(task: str, trials: list[Trial], module: RemoteModule | None = None,
             build_arguments: tuple = ()) -> list[Finding]:
    """Structure first (a mistake in the layers explains whatever values follow), then values."""
    if module is not None:
        shown = [Finding(m.id) for m in CATALOGUE[task] if m.shows_in and m.shows_in(module, build_arguments)]
        if shown:
            return shown
    if all(same(trial.answer, trial.right) for trial in trials):
        return []
    by_window = window_start_findings([m for m in CATALOGUE[task] if m.window_starts], trials)
    matched = [(m, found) for m in CATALOGUE[task] if m.predicts and not m.window_starts
               if (found := match(m, trials))]
    by_value = [found for m, found in matched if not m.fallback] or [found for _, found in matched]
    order = [m.id for m in CATALOGUE[task]]
    return sorted(by_window + by_value, key=lambda found: order.index(found.id))


def named_misconceptions(task: str, trials: list[Trial], module: RemoteModule | None = None,
                         build_arguments: tuple = ()) -> list[str]:
    """The ids of ``findings``."""
    return [found.id for found in findings(task, trials, module, build_arguments)]


# -- one diagnosis per task ------------------------------------------------------------------------
def _indexed(*shape: int) -> torch.Tensor:
    return torch.arange(int(torch.tensor(shape).prod()), dtype=torch.float64).reshape(*shape)


#: Odd and even differences, H even with h odd, h != w: on each axis every window-start rule of
#: ``grader.checking.misconceptions`` gives its own starts (the two of Python's round excepted), so a rule
#: is recognised on the rows or the columns alone.
CROP_CASES = (((1, 2, 10, 12), (1, 2, 5, 7)), ((2, 1, 9, 16), (2, 1, 6, 9)), ((1, 1, 7, 11), (1, 1, 4, 6)))


def diagnose_crop(student: RemoteStudent) -> list[Finding]:
    trials = []
    for image_shape, new_shape in CROP_CASES:
        image = _indexed(*image_shape)
        trials.append(Trial(_attempt(lambda image=image, new_shape=new_shape: student.call("crop", image, new_shape)),
                            reference_crop(image, new_shape), (image, new_shape)))
    return findings("crop", trials)


def _block_trials(module: RemoteModule, values: dict, inputs: list[tuple], right) -> list[Trial]:
    weights = Weights(values)
    return [Trial(_attempt(lambda x=x: module(*x, parameters=values)),
                  _attempt(lambda x=x: right(weights, *x)), (weights, *x)) for x in inputs]


def diagnose_contracting_block(student: RemoteStudent) -> list[Finding]:
    channels = 3
    module = student.build("ContractingBlock", channels, seed=channels)

    def right(weights: Weights, x: torch.Tensor) -> torch.Tensor:
        return contracting_oracle(x, *weights.conv(2 * channels, channels, 3, 3),
                                  *weights.conv(2 * channels, 2 * channels, 3, 3))

    inputs = [(random_input(2, channels, 20, 22, seed=1),), (random_input(1, channels, 17, 19, seed=2),)]
    trials = _block_trials(module, module.fresh_parameters(seed=7), inputs, right)
    return findings("contracting_block", trials, module, (channels,))


def diagnose_expanding_block(student: RemoteStudent) -> list[Finding]:
    channels = 4
    module = student.build("ExpandingBlock", channels, seed=channels)

    def right(weights: Weights, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        half = channels // 2
        return expanding_oracle(x, skip, *weights.conv(half, channels, 2, 2), *weights.conv(half, channels, 3, 3),
                                *weights.conv(half, half, 3, 3))

    inputs = [(random_input(1, channels, 5, 5, seed=3), random_input(1, channels // 2, 13, 13, seed=4)),
              (random_input(2, channels, 6, 7, seed=5), random_input(2, channels // 2, 16, 18, seed=6))]
    trials = _block_trials(module, module.fresh_parameters(seed=8), inputs, right)
    return findings("expanding_block", trials, module, (channels,))


def diagnose_feature_map_block(student: RemoteStudent) -> list[Finding]:
    module = student.build("FeatureMapBlock", 3, 2, seed=23)

    def right(weights: Weights, x: torch.Tensor) -> torch.Tensor:
        return conv2d(x, *weights.conv(2, 3, 1, 1))

    inputs = [(random_input(2, 3, 6, 7, seed=9),), (random_input(1, 3, 5, 5, seed=10),)]
    trials = _block_trials(module, module.fresh_parameters(seed=11), inputs, right)
    return findings("feature_map_block", trials, module, (3, 2))


def diagnose_unet(student: RemoteStudent) -> list[Finding]:
    arguments = (1, 3, 2)  # three output maps: enough logits that some are negative
    model = student.build("UNet", *arguments, seed=2)
    shown = findings("unet", [], model, arguments)
    if shown:
        return shown
    values = model.fresh_parameters(seed=12)
    x = random_input(2, 1, 196, 204, seed=13)
    try:
        blocks = unet_stand_ins(model, values, *arguments)
    except StandInsNotFound:
        return []
    with torch.no_grad():
        trial = Trial(_attempt(lambda: model(x, parameters=values)), _attempt(lambda: unet_forward(blocks, x)),
                      (blocks, x))
        return findings("unet", [trial])


DIAGNOSES: dict[str, Callable[[RemoteStudent], list[Finding]]] = {
    "crop": diagnose_crop, "contracting_block": diagnose_contracting_block,
    "expanding_block": diagnose_expanding_block, "feature_map_block": diagnose_feature_map_block,
    "unet": diagnose_unet,
}


def find_misconceptions(task: str, student: RemoteStudent) -> list[Finding]:
    """The misconceptions the student's code shows in ``task``, with what was read from its answers."""
    try:
        student.probe.request("forget")  # the checks' modules (a 64-wide U-Net is 250 MB) make room
        return DIAGNOSES[task](student)
    except StudentCodeFailed:
        return []


def diagnose(task: str, student: RemoteStudent) -> list[str]:
    """The ids of the misconceptions the student's code shows in ``task`` (empty if none is recognised)."""
    return [found.id for found in find_misconceptions(task, student)]
