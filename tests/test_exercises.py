"""The ungraded exercises measure the student's own network and give nothing away before a guess."""

from __future__ import annotations

import pytest

from tests.bad_submissions import MUTANT_BY_NAME
from tests.submissions import solution_answer
from unet_kit.assignment import TASKS
from unet_kit.exercises import (
    check_output_side,
    check_receptive_field,
    measured_output_side,
    measured_receptive_field,
)


def unet_class(answers: dict[str, str] | None = None) -> type:
    import torch
    import torch.nn.functional as F
    from torch import nn

    namespace = {"torch": torch, "nn": nn, "F": F}
    for task in TASKS:
        exec((answers or {}).get(task) or solution_answer(task), namespace)
    return namespace["UNet"]


@pytest.fixture(scope="module")
def unet():
    return unet_class()


def test_sides_of_the_form_16k_plus_12_lose_135_pixels(unet):
    assert [measured_output_side(unet, side) for side in (380, 508, 572)] == [245, 373, 437]


def test_the_receptive_field_of_the_assignments_unet_is_188_pixels(unet):
    assert measured_receptive_field(unet) == 188


def test_the_students_own_network_is_measured_so_padded_blocks_give_their_own_answer(unet):
    padded = MUTANT_BY_NAME["contracting_padded_convolutions"]
    assert measured_output_side(unet_class({padded.task: padded.answer()}), 572) != measured_output_side(unet, 572)


def test_no_prediction_yet_prints_how_to_answer_and_not_the_answer(unet, capsys):
    check_output_side(None, unet, input_side=572)
    check_receptive_field(None, unet)
    printed = capsys.readouterr().out
    assert "in place of None" in printed and "437" not in printed and "188" not in printed


def test_a_right_prediction_is_confirmed_and_a_wrong_one_fails_with_the_measured_value(unet, capsys):
    check_output_side(437, unet, input_side=572)
    assert "Right: the output side for a 572 x 572 input is 437." in capsys.readouterr().out
    with pytest.raises(AssertionError, match="was 388; your network gives 437"):
        check_output_side(388, unet, input_side=572)
