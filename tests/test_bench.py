"""The benchmark's pieces do what its tables claim; no figure here is timed or compared with a target."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from bench import report, training
from bench.grading_cost import perfect_submission
from unet_kit.assignment import TASKS
from unet_kit.budgets import BUDGETS
from unet_kit.data import load_isbi2012

TINY = dataclasses.replace(BUDGETS["smoke"], name="tiny", steps=4, tile_size=188, hidden_channels=2)


def test_perfect_submission_holds_every_solution_and_no_stub_or_marker():
    notebook = perfect_submission()
    answers = {cell.metadata.nbgrader.grade_id: cell.source for cell in notebook.cells
               if cell.metadata.get("nbgrader", {}).get("solution")}
    assert sorted(answers) == sorted(TASKS)
    for task, source in answers.items():
        assert "NotImplementedError" not in source and "SOLUTION" not in source, task


@pytest.mark.slow
def test_training_checkpoints_score_the_validation_slices_as_steps_grow():
    model, history = training.train_and_score(TINY, load_isbi2012(), torch.device("cpu"), mixed_precision=False,
                                              channels_last=True, checkpoints=2, report=lambda line: None)
    assert [point.step for point in history] == [2, 4]
    assert history[0].training_seconds < history[1].training_seconds
    for point in history:
        scores = dataclasses.asdict(point.scores)
        assert all(math.isfinite(value) and value >= 0 for value in scores.values())
        assert scores["pixel_error"] <= 1 and scores["adapted_rand_error"] <= 1


def test_step_speed_table_states_the_ratio_to_the_ceiling():
    speed = {"variant": "fp32, contiguous", "images_per_second": 2.0, "flop_per_step": 5e10,
             "flop_per_second": 1e11, "seconds_per_step": 0.5, "ceiling": "fp32"}
    table = report.step_speed_table([speed], {"fp32": 2e11})
    assert table.splitlines()[-1] == "| fp32, contiguous | 2.00 | 50.0 | 100 | 200 (fp32) | 0.50 |"
