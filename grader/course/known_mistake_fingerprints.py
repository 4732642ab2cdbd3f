"""The fingerprints behind the notebook's visible tests, computed from the grader's own catalogue.

``unet_kit.known_mistakes`` runs a student's module with weights fixed by shape on fixed
inputs and compares fingerprints of the outputs. This module computes the stored side: the
design's outputs from the reference oracles and each misconception's from its oracle, on the
same cases and the same weights, plus the feedback paragraph of every misconception (its blanks
and their defaults), so a student reads the same words in the notebook and in the feedback. Only numbers and prose reach
the student's copy, never an oracle.

``python -m grader generate`` writes the file; a test fails when the committed one is stale.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch.nn.functional import conv2d

from grader.checking.misconception_feedback import FEEDBACK
from grader.checking.misconceptions import CATALOGUE, Misconception, NotThisMistake, Weights
from grader.checking.reference import (
    StandInContractingBlock,
    StandInExpandingBlock,
    StandInFeatureMapBlock,
    contracting_oracle,
    expanding_oracle,
    unet_forward,
)
from unet_kit.known_mistakes import (
    CASES,
    FINGERPRINTS_FILE,
    Case,
    error_fingerprint,
    fingerprint,
    fixed_input,
    fixed_values,
    with_fixed_weights,
)


class FixedWeights(Weights):
    """Every weight a misconception asks for, with the values ``with_fixed_weights`` gives a student's layer.

    ``shapes`` are the weights the oracles may look for by their input channels (the feature-map
    block's 1x1 or 3x3 kernel).
    """

    def __init__(self, shapes: tuple[tuple[int, ...], ...] = ()):
        super().__init__({f"layer{i}.weight": fixed_values(shape) for i, shape in enumerate(shapes)})

    def conv(self, *shape: int) -> tuple[torch.Tensor, torch.Tensor]:
        return fixed_values(shape), fixed_values((shape[0],))

    def transposed_conv(self, *shape: int) -> tuple[torch.Tensor, torch.Tensor]:
        return fixed_values(shape), fixed_values((shape[1],))  # a transposed layer's weight is (in, out, k, k)


def _right_block(task: str, weights: Weights, case: Case, *inputs: torch.Tensor) -> torch.Tensor:
    channels = case.build[0]
    half = channels // 2
    if task == "contracting_block":
        return contracting_oracle(*inputs, *weights.conv(2 * channels, channels, 3, 3),
                                  *weights.conv(2 * channels, 2 * channels, 3, 3))
    if task == "expanding_block":
        return expanding_oracle(*inputs, *weights.conv(half, channels, 2, 2), *weights.conv(half, channels, 3, 3),
                                *weights.conv(half, half, 3, 3))
    return conv2d(*inputs, *weights.conv(case.build[1], channels, 1, 1))


def _stand_in_blocks(input_channels: int, output_channels: int, hidden: int):
    """The U-Net's blocks as the grader's stand-ins, holding the weights a student's blocks get."""
    return (with_fixed_weights(StandInFeatureMapBlock(input_channels, hidden)),
            [with_fixed_weights(StandInContractingBlock(hidden * 2**level)) for level in range(4)],
            [with_fixed_weights(StandInExpandingBlock(hidden * 2**level)) for level in (4, 3, 2, 1)],
            with_fixed_weights(StandInFeatureMapBlock(hidden, output_channels)))


def _arguments(task: str, case: Case) -> tuple:
    """What the task's oracles are called with: the weights (or, for the U-Net, the blocks) and the inputs."""
    inputs = tuple(fixed_input(*shape) for shape in case.inputs)
    if task == "unet":
        return (_stand_in_blocks(*case.build), *inputs)
    if task == "feature_map_block":
        inputs_, outputs = case.build
        return (FixedWeights(((outputs, inputs_, 1, 1), (outputs, inputs_, 3, 3))), *inputs)
    return (FixedWeights(), *inputs)


def _attempt(predict, arguments: tuple) -> dict | None:
    """The prediction's fingerprint (of its output or its error), or None where the mistake cannot apply."""
    try:
        with torch.no_grad():
            return fingerprint(predict(*arguments))
    except NotThisMistake:
        return None
    except Exception as error:  # noqa: BLE001 - a mistake that makes the code fail is predicted by its error
        return error_fingerprint(error)


def _right(task: str, case: Case) -> dict:
    arguments = _arguments(task, case)
    with torch.no_grad():
        if task == "unet":
            return fingerprint(unet_forward(*arguments))
        return fingerprint(_right_block(task, arguments[0], case, *arguments[1:]))


def _variants(task: str, misconception: Misconception) -> list[list[dict | None]]:
    return [[_attempt(predict, _arguments(task, case)) for case in CASES[task]] for predict in misconception.predicts]


def known_mistake_fingerprints() -> dict:
    """The whole stored file: explanations by misconception id, and per task the right and the mistaken outputs."""
    tasks = {}
    for task in CASES:
        mistakes = [{"id": m.id, "variants": _variants(task, m)} for m in CATALOGUE[task] if m.predicts]
        tasks[task] = {"right": [_right(task, case) for case in CASES[task]],
                       "mistakes": [m for m in mistakes if any(any(v) for v in m["variants"])]}
    explanations = {id: {"text": entry["explanation"].strip(), "defaults": entry.get("defaults", {})}
                    for id, entry in sorted(FEEDBACK.items())}
    return {"explanations": explanations, "tasks": tasks}


def write_known_mistake_fingerprints(path: Path = FINGERPRINTS_FILE) -> Path:
    path.write_text(json.dumps(known_mistake_fingerprints(), indent=1) + "\n", encoding="utf-8")
    return path
