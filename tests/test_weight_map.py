"""The paper's weight map: heavy on thin membranes between touching cells, balanced between the classes."""

from __future__ import annotations

import matplotlib
import numpy as np
import torch

from unet_kit.weight_map import W0, border_weight_map, border_weights, class_balance, draw_border_weights


def two_cells_and_a_lone_one(gap: int = 2) -> np.ndarray:
    """Membrane (True) everywhere but three square cells: two ``gap`` pixels apart, one far from both."""
    membrane = np.ones((80, 120), dtype=bool)
    membrane[10:40, 10:40] = False
    membrane[10:40, 40 + gap:70 + gap] = False
    membrane[50:75, 95:118] = False
    return membrane


def test_a_thin_membrane_between_two_cells_weighs_far_more_than_membrane_near_one_cell():
    membrane = two_cells_and_a_lone_one()
    weights = border_weight_map(membrane)
    between = weights[25, 40]  # on the 2-pixel membrane that keeps the two cells apart
    beside_one = weights[45, 105]  # membrane just above the lone cell, 30 px from any other cell
    assert between > class_balance(membrane)[25, 40] + 0.8 * W0
    assert beside_one < class_balance(membrane)[45, 105] + 0.01 * W0


def test_both_classes_weigh_the_same_in_total():
    membrane = two_cells_and_a_lone_one()
    balance = class_balance(membrane)
    assert np.isclose(balance[membrane].sum(), balance[~membrane].sum())


def test_a_batch_of_targets_gets_one_map_each_in_its_shape():
    targets = torch.from_numpy(np.stack([two_cells_and_a_lone_one(2), two_cells_and_a_lone_one(6)])[:, None]).float()
    weights = border_weights(targets)
    assert weights.shape == targets.shape and weights.dtype == torch.float32
    assert weights[0, 0, 25, 40] > weights[1, 0, 25, 42]  # the wider the gap, the lighter its membrane


def test_the_figure_draws_a_slices_label_and_its_map():
    matplotlib.use("Agg")
    label = np.where(two_cells_and_a_lone_one(), 0, 255).astype(np.uint8)
    figure = draw_border_weights(label, window=64)
    assert len(figure.axes) == 3  # label, map, colour bar
