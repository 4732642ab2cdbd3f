"""The diagnosis's rules, fed answers computed here: which misconception a crop's output shows.

The end-to-end proof, every mutant of the corpus diagnosed through the probe, is in
``tests/test_grader.py``; here the matching rules are pinned without any student process.
"""

from __future__ import annotations

import re

import torch

from grader.diagnosis import CROP_CASES, Trial, named_misconceptions, same
from grader.misconceptions import BY_ID, CATALOGUE
from grader.reference import reference_crop


def indexed(*shape: int) -> torch.Tensor:
    return torch.arange(int(torch.tensor(shape).prod()), dtype=torch.float64).reshape(*shape)


def crop_trials(student_crop) -> list[Trial]:
    trials = []
    for image_shape, new_shape in CROP_CASES:
        image = indexed(*image_shape)
        trials.append(Trial(student_crop(image, new_shape), reference_crop(image, new_shape), (image, new_shape)))
    return trials


def window(image, top, left, new_shape):
    return image[:, :, top:top + new_shape[2], left:left + new_shape[3]]


def test_a_correct_crop_is_never_diagnosed():
    assert named_misconceptions("crop", crop_trials(reference_crop)) == []


def test_each_crop_mistake_is_named_by_its_own_prediction():
    for misconception in CATALOGUE["crop"]:
        found = named_misconceptions("crop", crop_trials(misconception.predicts[0]))
        assert misconception.id in found, (misconception.id, found)


def test_halving_the_difference_is_named_alone_not_also_as_off_by_one():
    def halves(image, new_shape):
        return window(image, (image.shape[2] - new_shape[2]) // 2, (image.shape[3] - new_shape[3]) // 2, new_shape)

    assert named_misconceptions("crop", crop_trials(halves)) == ["crop.halves_the_difference"]


def test_a_mistake_must_explain_every_input_not_just_one():
    def top_left_only_on_the_first(image, new_shape):
        return window(image, 0, 0, new_shape) if image.shape[2] == 10 else window(image, 1, 1, new_shape)

    assert "crop.top_left_window" not in named_misconceptions("crop", crop_trials(top_left_only_on_the_first))


def test_the_same_error_counts_as_the_same_answer_and_different_shapes_never_do():
    assert same("RuntimeError: start (-3) out of range", "RuntimeError: start (-3) out of range")
    assert not same("RuntimeError: one", "RuntimeError: two")
    assert not same(torch.zeros(2, 3), torch.zeros(3, 2))
    assert not same(torch.zeros(2), "ValueError: no")


def test_every_misconception_explains_itself_and_points_back_to_the_notebook():
    for misconception in BY_ID.values():
        assert misconception.id.split(".")[0] in CATALOGUE
        assert misconception.explanation.startswith("Your ") and re.search(r"reread .*Task [1-5]", misconception.explanation, re.IGNORECASE)
        assert bool(misconception.predicts) != bool(misconception.shows_in)
