"""Why a one-pixel gap barely moves the pixel error but ruins the adapted Rand error.

Two cells side by side, split by a straight membrane. One prediction misses a single pixel of
that membrane along its length, which joins the two cells into one; another draws the membrane
a pixel too thick everywhere, which costs many pixels and no cell. Every score is computed by
``unet_kit.metrics``, the functions that score the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from unet_kit.figure_style import BLUE, MEMBRANE_CAPTION, YELLOW, draw_membranes, panel_grid
from unet_kit.metrics import SegmentationScores, cells, membrane_mask, predicted_cells, segmentation_scores

#: Cells in the bottom row: membrane (label 0) black, then one colour per cell.
CELL_COLOURS = ListedColormap(["black", YELLOW, BLUE])


def two_cells(side: int = 32, membrane_width: int = 2) -> np.ndarray:
    """Challenge-style labels (255 = cell, 0 = membrane): a vertical membrane through the middle of a square."""
    labels = np.full((side, side), 255, dtype=np.uint8)
    left = side // 2 - membrane_width // 2
    labels[:, left:left + membrane_width] = 0
    return labels


def with_gap(labels: np.ndarray) -> np.ndarray:
    """Membrane probability that matches ``labels`` except for one missing row of the membrane, half way down."""
    probability = membrane_mask(labels).astype(np.float32)
    probability[labels.shape[0] // 2] = 0
    return probability


def one_pixel_too_thick(labels: np.ndarray) -> np.ndarray:
    """Membrane probability that matches ``labels`` but for one extra column of membrane on the right of each."""
    membranes = membrane_mask(labels)
    return (membranes | np.roll(membranes, 1, axis=1)).astype(np.float32)


@dataclass(frozen=True)
class ToyPrediction:
    title: str
    membrane_probability: np.ndarray
    scores: SegmentationScores


def toy_predictions(labels: np.ndarray) -> list[ToyPrediction]:
    """The gap and the thick membrane, each with its scores against ``labels``."""
    return [ToyPrediction(title, probability, segmentation_scores(probability, labels))
            for title, probability in (("a one-pixel gap", with_gap(labels)),
                                       ("a membrane 1 px too thick", one_pixel_too_thick(labels)))]


def draw_membrane_gap_toy(side: int = 32, membrane_width: int = 2) -> plt.Figure:
    """Top: the label and two predictions, membranes black; bottom: the cells each one makes, one colour per cell."""
    labels = two_cells(side, membrane_width)
    predictions = toy_predictions(labels)
    figure, axes = panel_grid(2, 1 + len(predictions), panel_inches=3.4)
    draw_membranes(axes[0, 0], membrane_mask(labels))
    axes[0, 0].set_title(f"label: two cells\n{MEMBRANE_CAPTION}")
    axes[1, 0].imshow(cells(membrane_mask(labels)), cmap=CELL_COLOURS, vmin=0, vmax=2, interpolation="nearest")
    axes[1, 0].set_title("the label's 2 cells")
    for column, prediction in enumerate(predictions, start=1):
        scores = prediction.scores
        draw_membranes(axes[0, column], prediction.membrane_probability)
        axes[0, column].set_title(f"prediction with\n{prediction.title}\npixel error {scores.pixel_error:.4f}\n"
                                  f"adapted Rand error {scores.adapted_rand_error:.2f}")
        found = predicted_cells(prediction.membrane_probability)
        axes[1, column].imshow(found, cmap=CELL_COLOURS, vmin=0, vmax=2, interpolation="nearest")
        axes[1, column].set_title(f"the {found.max()} cell{'s' if found.max() != 1 else ''} it makes")
    figure.suptitle("One missing pixel of membrane merges two cells:\nthe pixel error hardly moves, "
                    "the adapted Rand error jumps.\nA membrane drawn too thick costs more pixels but no cell.\n"
                    "Lower is better for both scores.")
    return figure
