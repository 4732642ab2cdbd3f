"""The challenge's scores on slices small enough to work out by hand (the arithmetic is in each test).

Most cases share one ground truth, 4 rows by 7 columns: cell A in columns 0-2, a membrane in
column 3, cell B in columns 4-6. So 24 pixels are counted (12 in A, 12 in B) and 4 are membrane.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from unet_kit.challenge import (
    challenge_scores,
    challenge_thresholds,
    flood_boundaries,
    segment_agreement,
    true_cells,
)
from unet_kit.metrics import segmentation_scores

CELL, MEMBRANE = 255, 0


def two_cells() -> np.ndarray:
    labels = np.full((4, 7), CELL, dtype=np.uint8)
    labels[:, 3] = MEMBRANE
    return labels


def membranes_in_columns(probabilities: dict[int, float]) -> np.ndarray:
    """A 4 x 7 membrane probability: 0 everywhere but the given columns."""
    prediction = np.zeros((4, 7))
    for column, probability in probabilities.items():
        prediction[:, column] = probability
    return prediction


def test_thresholds_run_from_zero_to_one_in_the_challenges_eleven_steps():
    thresholds = challenge_thresholds()
    assert len(thresholds) == 11 and thresholds[0] == 0.0
    assert [round(value, 1) for value in thresholds] == [index / 10 for index in range(11)]
    assert thresholds[-1] < 1.0  # ten additions of 0.1 fall just short of 1, as in the challenge's loop


def test_flooding_leaves_a_line_only_where_two_cells_are_equally_near():
    boundary = np.zeros((4, 8), dtype=bool)
    boundary[:, 3] = True  # one pixel wide: every pixel touches both cells
    assert (flood_boundaries(~boundary)[:, 3] == 0).all()
    boundary[:, 4] = True  # two wide: each half is nearer one cell, so the cells meet without a line
    flooded = flood_boundaries(~boundary)
    assert (flooded[:, :4] == 1).all() and (flooded[:, 4:] == 2).all()


def test_flooding_a_cross_of_boundary_gives_four_cells_and_a_thin_cross():
    boundary = np.zeros((6, 6), dtype=bool)
    boundary[2, :] = boundary[:, 2] = True
    flooded = flood_boundaries(~boundary)
    assert sorted(np.unique(flooded)) == [0, 1, 2, 3, 4]
    assert (flooded[2, :] == 0).all() and (flooded[:, 2] == 0).all()


def test_a_slice_with_no_cell_pixel_is_one_segment():
    assert (flood_boundaries(np.zeros((3, 3), dtype=bool)) == 1).all()


def test_a_perfect_prediction_scores_one_and_no_pixel_error():
    labels = two_cells()
    scores = challenge_scores(membranes_in_columns({3: 1.0}), labels)
    assert scores.v_rand == 1.0 and scores.v_info == 1.0 and scores.pixel_error == 0.0


def test_a_thick_membrane_costs_pixels_but_no_cells():
    # columns 2-4 predicted membrane: A keeps 8 of its 12 pixels, B 8 of 12
    scores = challenge_scores(membranes_in_columns({2: 1.0, 3: 1.0, 4: 1.0}), two_cells())
    assert scores.v_rand == pytest.approx(1.0) and scores.v_info == pytest.approx(1.0)
    # cell pixels: 16 predicted, all true, of 24 true: precision 1, recall 2/3, F = 0.8
    assert scores.pixel_error == pytest.approx(1 - 0.8)


def test_a_missed_membrane_merges_two_cells():
    # No boundary at all: one segment over both cells. Shares: A 1/2, B 1/2, the segment 1.
    # Rand: together in truth 1/4 + 1/4 = 1/2, in the proposal 1, in both 1/2:
    #   precision 1/2 / 1 = 1/2, recall 1/2 / 1/2 = 1, F = 2 * 1/2 / (3/2) = 2/3.
    # Information: the proposal has no entropy, so it tells nothing about the truth: V_Info 0.
    scores = challenge_scores(membranes_in_columns({}), two_cells())
    assert scores.v_rand == pytest.approx(2 / 3)
    assert scores.v_info == 0.0


def test_a_false_membrane_splits_a_cell_and_its_line_pixels_count_one_by_one():
    # Predicted boundaries in columns 1 and 3, each one pixel wide between two predicted cells,
    # so both become lines. Counted pixels (24): A's column 0 -> segment 1 (4 px), column 1 ->
    # 4 one-pixel segments, column 2 -> segment 2 (4 px); B -> segment 3 (12 px).
    predicted = flood_boundaries(membranes_in_columns({1: 1.0, 3: 1.0}) < 0.5)
    assert (predicted[:, 1] == 0).all() and (predicted[:, 3] == 0).all()
    n = 24
    singles = 4 / n
    # Rand: in truth (1/2)^2 * 2 = 1/2; in the proposal and in both (every segment lies in one
    # true cell) (1/6)^2 * 2 + (1/2)^2 + singles / n = 45/144: precision 1, recall 45/72 = 5/8.
    together = 2 * (1 / 6) ** 2 + (1 / 2) ** 2 + singles / n
    assert together == pytest.approx(45 / 144)
    expected_rand = 2 * 1 * (5 / 8) / (1 + 5 / 8)  # 10/13
    # Information: H(truth) = ln 2; H(proposal) = H(joint) = 2 (1/6) ln 6 + (1/2) ln 2 + (4/24) ln 24;
    # mutual information = H(truth) = ln 2: precision 1, recall ln 2 / H(proposal).
    proposal_entropy = 2 * (1 / 6) * math.log(6) + 0.5 * math.log(2) + singles * math.log(n)
    recall = math.log(2) / proposal_entropy
    expected_info = 2 * recall / (1 + recall)
    agreement = segment_agreement(true_cells(two_cells()), predicted)
    assert agreement.v_rand == pytest.approx(expected_rand) == pytest.approx(10 / 13)
    assert agreement.v_info == pytest.approx(expected_info) == pytest.approx(0.63984, abs=1e-5)
    scores = challenge_scores(membranes_in_columns({1: 1.0, 3: 1.0}), two_cells())
    assert (scores.v_rand, scores.v_info) == (pytest.approx(10 / 13), pytest.approx(expected_info))


def test_a_faint_membrane_is_found_at_a_higher_threshold_than_one_half():
    # The membrane has probability 0.3: at 0.5 it is cell, and the two cells merge. The sweep finds
    # that a cell probability above 0.7 (not 0.7 itself) leaves it boundary: a perfect split.
    prediction, labels = membranes_in_columns({3: 0.3}), two_cells()
    at_one_half = segmentation_scores(prediction, labels)
    assert at_one_half.pixel_error == pytest.approx(4 / 28)
    scores = challenge_scores(prediction, labels)
    assert scores.v_rand == 1.0 and scores.v_info == pytest.approx(1.0) and scores.pixel_error == 0.0
    assert scores.v_rand_threshold == 0.7


def test_slices_share_one_threshold_whose_mean_score_is_best():
    # Slice 1: faint membrane (0.3): merged (2/3) below threshold 0.7, perfect (1) from 0.7.
    # Slice 2: true membrane (1.0) and a false one in column 1 at 0.8: perfect below threshold
    #   0.2, split (10/13) from 0.2. Means: below 0.2 (2/3 + 1) / 2 = 5/6; from 0.2 to 0.6
    #   (2/3 + 10/13) / 2; from 0.7 (1 + 10/13) / 2 = 23/26, the best. Each slice alone would
    #   score 1, the challenge's mean does not.
    prediction = np.stack([membranes_in_columns({3: 0.3}), membranes_in_columns({1: 0.8, 3: 1.0})])
    labels = np.stack([two_cells(), two_cells()])
    scores = challenge_scores(prediction, labels)
    assert scores.v_rand == pytest.approx(23 / 26)
    assert scores.v_rand_threshold == 0.7


def test_pixel_error_is_one_minus_the_best_f_score_of_cell_pixels_over_all_slices():
    # Column 0 wrongly membrane as well: cell pixels predicted 20, all true, of 24 true.
    # Precision 1, recall 5/6, F = 10/11 at every threshold: pixel error 1/11.
    scores = challenge_scores(membranes_in_columns({0: 1.0, 3: 1.0}), two_cells())
    assert scores.pixel_error == pytest.approx(1 / 11)
    # Over two slices the counts add up: with a perfect second slice, 44 of 48 true cell pixels
    # found, no false ones: F = 2 * (11/12) / (23/12) = 22/23.
    prediction = np.stack([membranes_in_columns({0: 1.0, 3: 1.0}), membranes_in_columns({3: 1.0})])
    scores = challenge_scores(prediction, np.stack([two_cells(), two_cells()]))
    assert scores.pixel_error == pytest.approx(1 - 22 / 23)
