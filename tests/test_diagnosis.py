"""The diagnosis's rules, fed answers computed here: which misconception a crop's or a block's output shows.

The end-to-end proof, every mutant of the corpus diagnosed through the probe, is in
``tests/test_grader.py``; here the matching rules are pinned without any student process, and
the corpus's parameter variants (a LeakyReLU of any slope, a crop rule on one axis) are
diagnosed by the probe's own request handlers run in this process.
"""

from __future__ import annotations

import os
import re
import sys

import pytest
import torch
from torch.nn.functional import conv2d, elu, leaky_relu, max_pool2d

from grader.checking.diagnosis import CROP_CASES, Trial, find_misconceptions, findings, named_misconceptions, same
from grader.checking.misconceptions import BY_ID, CATALOGUE, Weights
from grader.checking.reference import UPSTREAM_STAND_INS, contracting_oracle, reference_crop
from grader.checking.remote import ProbeProcess, RemoteStudent
from grader.course.notebook_cells import task_namespace
from tests.probe_here import REFERENCE_SOURCE, ProbeHandlersHere
from tests.submissions import CORRECT_VARIANTS, PARAMETER_VARIANT_MISCONCEPTIONS, PARAMETER_VARIANTS, solution_answer
from unet_kit.assignment import REPOSITORY_ROOT, SOLUTION_NOTEBOOK, TASKS

VARIANT = {variant.name: variant for variant in PARAMETER_VARIANTS}


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


# -- a crop rule on one axis ------------------------------------------------------------------------
def test_each_window_start_rule_is_named_on_the_one_axis_it_is_used_on():
    def centre(size, new_size):
        return size // 2 - new_size // 2

    for misconception in (m for m in CATALOGUE["crop"] if m.window_starts):
        for rule in misconception.window_starts:
            for axis, rows_rule, columns_rule in (("rows", rule, centre), ("columns", centre, rule)):
                def student_crop(image, new_shape, rows_rule=rows_rule, columns_rule=columns_rule):
                    top, left = rows_rule(image.shape[2], new_shape[2]), columns_rule(image.shape[3], new_shape[3])
                    return window(image, top, left, new_shape)

                found = findings("crop", crop_trials(student_crop))
                assert [(f.id, f.specifics) for f in found] == [(misconception.id, {"axes": axis})], (axis, found)


def test_a_window_of_another_size_is_not_judged_by_where_it_starts():
    def swapped(image, new_shape):
        return reference_crop(image, (0, 0, new_shape[3], new_shape[2]))

    assert named_misconceptions("crop", crop_trials(swapped)) == ["crop.height_and_width_swapped"]


def test_a_crop_wrong_only_on_an_axis_no_rule_explains_names_nothing():
    def second_column(image, new_shape):
        return window(image, image.shape[2] // 2 - new_shape[2] // 2, 1, new_shape)

    assert named_misconceptions("crop", crop_trials(second_column)) == []


# -- an activation's free parameter ------------------------------------------------------------------
def contracting_trials(activation) -> list[Trial]:
    """A contracting block with ``activation`` after each convolution, on the diagnosis's kind of inputs."""
    generator = torch.Generator().manual_seed(3)
    values = {name: (torch.rand(*shape, generator=generator, dtype=torch.float64) * 2 - 1) / 4
              for name, shape in (("conv1.weight", (6, 3, 3, 3)), ("conv1.bias", (6,)),
                                  ("conv2.weight", (6, 6, 3, 3)), ("conv2.bias", (6,)))}
    weights = Weights(values)
    trials = []
    for shape in ((2, 3, 20, 22), (1, 3, 17, 19)):
        x = torch.randn(*shape, dtype=torch.float64, generator=generator)
        hidden = activation(conv2d(x, values["conv1.weight"], values["conv1.bias"]))
        answer = max_pool2d(activation(conv2d(hidden, values["conv2.weight"], values["conv2.bias"])), 2, 2)
        trials.append(Trial(answer, contracting_oracle(x, *values.values()), (weights, x)))
    return trials


@pytest.mark.parametrize("slope", [0.01, 0.5, 1.5])
def test_a_leaky_relu_is_named_with_the_slope_fitted_to_its_answer(slope):
    found = findings("contracting_block", contracting_trials(lambda x: leaky_relu(x, slope)))
    assert [(f.id, f.specifics) for f in found] == [
        ("contracting_block.other_activation", {"activation": f"a LeakyReLU (slope {slope:g})"})]


def test_an_elu_is_named_with_the_alpha_fitted_to_its_answer():
    found = findings("contracting_block", contracting_trials(lambda x: elu(x, 0.7)))
    assert [(f.id, f.specifics) for f in found] == [("contracting_block.other_activation", {"activation": "an ELU (alpha 0.7)"})]


def test_no_activation_at_all_is_not_called_a_leaky_relu_of_slope_one():
    assert named_misconceptions("contracting_block", contracting_trials(lambda x: x)) == []


def test_an_activation_that_differs_between_inputs_is_not_fitted_to_the_first_alone():
    trials = contracting_trials(lambda x: leaky_relu(x, 0.2))
    trials[1].answer = contracting_trials(lambda x: leaky_relu(x, 0.3))[1].answer
    assert named_misconceptions("contracting_block", trials) == []


# -- the corpus's parameter variants, diagnosed by the probe's handlers --------------------------------
def diagnosed_here(task: str, answer: str):
    """The findings for the solution notebook with ``task``'s answer cell replaced by ``answer``."""
    namespace = task_namespace(SOLUTION_NOTEBOOK)
    exec(compile(answer, f"<answer to {task}>", "exec"), namespace)
    return find_misconceptions(task, RemoteStudent(ProbeHandlersHere(namespace), task))


@pytest.mark.parametrize("variant", PARAMETER_VARIANTS, ids=lambda variant: variant.name)
def test_parameter_variant_is_named_with_its_misconceptions(variant):
    found = diagnosed_here(variant.task, variant.answer())
    assert tuple(f.id for f in found) == PARAMETER_VARIANT_MISCONCEPTIONS[variant.name]


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if task == "unet" else name
                                  for name, (task, _) in CORRECT_VARIANTS.items()])
def test_correct_variant_is_never_named(name):
    task, source = CORRECT_VARIANTS[name]
    assert diagnosed_here(task, source) == []


def test_the_feedback_shows_the_fitted_slope_and_the_wrong_axes():
    (leaky,) = diagnosed_here("contracting_block", VARIANT["contracting_leaky_relu_slope_0_2"].answer())
    assert leaky.explanation.startswith("Your block uses a LeakyReLU (slope 0.2) where the U-Net uses ReLU.")
    top_left, halves = diagnosed_here("crop", VARIANT["crop_halves_in_rows_top_left_in_columns"].answer())
    assert "at index 0 in columns (the image's edge)" in top_left.explanation
    assert halves.explanation.startswith("Your window starts at half the difference in rows:")


@pytest.mark.slow  # starts a probe process and runs the notebook's answers in it
def test_parameter_variants_are_named_through_a_probe_process(tmp_path):
    setup = ("import torch\nimport torch.nn.functional as F\nfrom torch import nn\n\n"
             "def answer_with(source):  # a student rerunning one answer cell\n"
             "    exec(source, globals())\n    return torch.zeros(0)\n")
    cells = [(0, setup), *((index, solution_answer(task)) for index, task in enumerate(TASKS, start=1))]
    probe = ProbeProcess(command=[sys.executable, str(REPOSITORY_ROOT / "grader" / "checking" / "probe.py")], cells=cells,
                         workdir=tmp_path, environment={**os.environ, "PYTHONPATH": str(REPOSITORY_ROOT)},
                         stand_ins_source=REFERENCE_SOURCE, stand_ins_by_task=UPSTREAM_STAND_INS)
    try:
        found = {}
        for variant in PARAMETER_VARIANTS:
            student = RemoteStudent(probe, variant.task)
            student.call("answer_with", variant.answer())
            found[variant.name] = tuple(f.id for f in find_misconceptions(variant.task, student))
    finally:
        probe.stop()
    assert found == PARAMETER_VARIANT_MISCONCEPTIONS
