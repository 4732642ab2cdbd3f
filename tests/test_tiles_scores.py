"""Scores of predicted slices: cells are compared, not membrane widths; the obvious failures score badly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from unet_kit.data import load_isbi2012
from unet_kit.metrics import predicted_cells, segmentation_scores


@pytest.fixture(scope="module")
def validation_labels() -> np.ndarray:
    return load_isbi2012().train_labels[25:27]


def as_probability(membranes: np.ndarray) -> np.ndarray:
    return membranes.astype(np.float32)


def test_the_truth_itself_scores_zero_everywhere(validation_labels):
    scores = segmentation_scores(as_probability(validation_labels == 0), validation_labels)
    assert scores.pixel_error == 0 and scores.adapted_rand_error == pytest.approx(0, abs=1e-9)
    assert scores.split_variation_of_information == pytest.approx(0, abs=1e-9)
    assert scores.merge_variation_of_information == pytest.approx(0, abs=1e-9)


def test_thicker_membranes_around_the_right_cells_cost_pixels_but_no_rand_error(validation_labels):
    thick = np.stack([ndimage.binary_dilation(labels == 0) for labels in validation_labels])
    scores = segmentation_scores(as_probability(thick), validation_labels)
    assert scores.pixel_error > 0.02
    assert scores.adapted_rand_error < 0.01


def test_calling_everything_cell_merges_and_scores_badly(validation_labels):
    scores = segmentation_scores(np.zeros(validation_labels.shape, np.float32), validation_labels)
    assert scores.pixel_error == pytest.approx((validation_labels == 0).mean())
    assert scores.adapted_rand_error > 0.9 and scores.merge_variation_of_information > 3


def test_a_gap_in_one_membrane_merges_two_cells():
    labels = np.full((20, 20), 255, np.uint8)
    labels[:, 10] = 0  # two cells split by a vertical membrane
    gapped = labels.copy()
    gapped[9:11, 10] = 255
    assert segmentation_scores(as_probability(labels == 0), labels).adapted_rand_error == pytest.approx(0, abs=1e-9)
    assert segmentation_scores(as_probability(gapped == 0), labels).adapted_rand_error > 0.3


def test_predicted_cells_cover_every_pixel_when_any_cell_exists():
    membranes = np.zeros((8, 8), np.float32)
    membranes[:, 3:5] = 1
    labelled = predicted_cells(membranes)
    assert labelled.min() > 0 and len(np.unique(labelled)) == 2
