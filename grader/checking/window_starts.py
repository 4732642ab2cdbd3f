"""A crop's window start, judged on each axis on its own.

A student may halve the difference on the rows and get the columns right, or take the top-left
corner on one axis and be one pixel off on the other. The diagnosis reads where the student's
window lies in the image, then asks, for the rows and for the columns separately, which
mistakes' rules (``Misconception.window_starts``) give that start on every input. An axis that
starts where the right answer does names nothing.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch

from grader.checking.misconceptions import Misconception

#: The axes a crop's window has a start on, by the dimension of (N, C, H, W) they index.
CROP_AXES = (("rows", 2), ("columns", 3))


@dataclass
class Crop:
    """One input of the diagnosis: the image, the shape asked for, the student's window and the right one."""

    image: torch.Tensor
    new_shape: tuple
    answer: torch.Tensor
    right: torch.Tensor


def window_positions(image: torch.Tensor, window: torch.Tensor) -> set[tuple[int, int]]:
    """Every (top, left) where ``image``, cut as Python slicing cuts it, gives exactly ``window``.

    The diagnosis's images hold distinct values, so a crop's window is found at one position; an
    answer that is no window of the image (the wrong size, resampled) is found at none.
    """
    if window.dim() != 4 or window.dtype != image.dtype:
        return set()
    height, width = window.shape[2], window.shape[3]
    rows, columns = image.shape[2], image.shape[3]
    return {(top, left) for top in range(-rows, rows) for left in range(-columns, columns)
            if torch.equal(image[:, :, top:top + height, left:left + width], window)}


def _starts(windows: set[tuple[int, int]], dimension: int) -> set[int]:
    return {window[dimension - 2] for window in windows}


def _gives(rule, sizes: list[tuple[int, int]], starts: list[set[int]]) -> bool:
    """Whether ``rule(size, new_size)`` is the student's start on every input."""
    return all(rule(*size) in start for size, start in zip(sizes, starts))


def _explaining_each_wrong_axis(misconceptions: list[Misconception],
                                crops: list[Crop]) -> list[tuple[str, list[Misconception]]]:
    """Each axis the student's start is wrong on, with the mistakes whose rule gives it on every input.

    Only a window of the size asked for is judged by where it starts: a window of another size is
    another mistake (the height and width swapped), whose start may agree with a rule by chance.
    """
    if any(crop.answer.shape != crop.right.shape for crop in crops):
        return []
    windows = [window_positions(crop.image, crop.answer) for crop in crops]
    right_windows = [window_positions(crop.image, crop.right) for crop in crops]
    wrong_axes = []
    for axis, dimension in CROP_AXES:
        starts = [_starts(found, dimension) for found in windows]
        if all(start & _starts(right, dimension) for start, right in zip(starts, right_windows)):
            continue
        sizes = [(int(crop.image.shape[dimension]), int(crop.new_shape[dimension])) for crop in crops]
        explaining = [m for m in misconceptions if any(_gives(rule, sizes, starts) for rule in m.window_starts)]
        if explaining:
            wrong_axes.append((axis, explaining))
    return wrong_axes


def _cost(explanation: tuple[Misconception, ...]) -> tuple[int, int]:
    """Fewer mistakes first, then fewer fallbacks: the simplest account of the student's window."""
    mistakes = {m.id: m for m in explanation}.values()
    return len(mistakes), sum(m.fallback for m in mistakes)


def wrong_axes_by_mistake(misconceptions: list[Misconception], crops: list[Crop]) -> dict[str, list[str]]:
    """The mistakes that explain the student's window, each with the axes it explains.

    Of the ways to explain every wrong axis, those with the fewest mistakes, then the fewest
    fallbacks, are named: ``- 1`` on both axes is one off-by-one, not also a halved difference on
    the axis where the two agree. A wrong axis that no rule explains names nothing.
    """
    wrong_axes = _explaining_each_wrong_axis(misconceptions, crops)
    explanations = list(itertools.product(*(explaining for _, explaining in wrong_axes)))
    simplest = min(map(_cost, explanations))
    axes_of: dict[str, list[str]] = {}
    for explanation in explanations:
        if _cost(explanation) == simplest:
            for (axis, _), mistake in zip(wrong_axes, explanation):
                axes = axes_of.setdefault(mistake.id, [])
                if axis not in axes:
                    axes.append(axis)
    return {m.id: axes_of[m.id] for m in misconceptions if m.id in axes_of}
