"""Figures for the notebook: the data, the training curve and the predictions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap, to_rgb

from unet_kit.figure_style import BLUE, LIGHT_GREY, MEMBRANE_CAPTION, ORANGE, YELLOW, draw_grey_image, draw_membranes, frame, panel_grid
from unet_kit.metrics import membrane_mask


def show_examples(images: np.ndarray, labels: np.ndarray, indices: Sequence[int]) -> None:
    """Each chosen slice three ways: the EM image, its label, and the membranes drawn over it."""
    figure, axes = panel_grid(len(indices), 3)
    for row, index in zip(axes, indices):
        membranes = membrane_mask(labels[index])
        draw_grey_image(row[0], images[index])
        row[0].set_title(f"slice {index}: electron micrograph")
        draw_membranes(row[1], membranes)
        row[1].set_title(f"label: {MEMBRANE_CAPTION}")
        draw_grey_image(row[2], images[index])
        row[2].imshow(np.ma.masked_where(~membranes, membranes), cmap=ListedColormap([YELLOW]), alpha=0.5)
        row[2].set_title("membranes (yellow) over the image")
    plt.show()


def plot_training_curve(losses: Sequence[float], learning_rates: Sequence[float] | None = None,
                        smoothing: int = 20, validation_losses: Mapping[int, float] | None = None) -> None:
    """Loss per step and its running mean, so the trend shows through the noise of small batches;
    with ``learning_rates``, the schedule on a second axis, to see the loss follow it; with
    ``validation_losses`` (training steps done -> loss on held-out data), points that show whether
    what the network learns carries over to slices it never trains on."""
    figure, axis = plt.subplots(figsize=(7, 3.5), constrained_layout=True)
    steps = np.arange(1, len(losses) + 1)
    axis.plot(steps, losses, alpha=0.35, label="loss per step")
    if len(losses) >= smoothing:
        running = np.convolve(losses, np.ones(smoothing) / smoothing, mode="valid")
        axis.plot(steps[smoothing - 1:], running, label=f"mean of {smoothing} steps")
    if validation_losses:
        axis.plot(list(validation_losses), list(validation_losses.values()), "o", color="black",
                  markerfacecolor="white", label="validation loss")
    axis.set_xlabel("training step")
    axis.set_ylabel("binary cross-entropy")
    axis.legend(loc="upper center")
    if learning_rates is not None:
        rate_axis = axis.twinx()
        rate_axis.plot(np.arange(1, len(learning_rates) + 1), learning_rates, color="grey", linestyle="--",
                       label="learning rate")
        rate_axis.set_ylabel("learning rate")
        rate_axis.set_ylim(bottom=0)
        rate_axis.legend(loc="upper right")
    plt.show()


def error_image(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB: right cells white and right membranes light grey, for orientation; orange for membrane
    predicted inside a cell, blue for membrane missed."""
    errors = np.ones((*truth.shape, 3))
    errors[predicted & truth] = to_rgb(LIGHT_GREY)
    errors[predicted & ~truth] = to_rgb(ORANGE)
    errors[~predicted & truth] = to_rgb(BLUE)
    return errors


def show_predictions(images: np.ndarray, labels: np.ndarray, membrane_probability: np.ndarray,
                     slice_numbers: Sequence[int], threshold: float = 0.5) -> None:
    """Input, label, predicted membrane probability and the errors of the thresholded prediction.

    Label and probability share one shading (black = membrane), so they compare at a glance.
    """
    figure, axes = panel_grid(len(images), 4)
    for row, image, label, probability, number in zip(axes, images, labels,
                                                      membrane_probability, slice_numbers):
        truth = membrane_mask(label)
        predicted = probability >= threshold
        draw_grey_image(row[0], image)
        row[0].set_title(f"slice {number}")
        draw_membranes(row[1], truth)
        row[1].set_title("true membranes")
        shading = draw_membranes(row[2], probability)
        row[2].set_title("predicted membrane probability")
        frame(row[3])
        row[3].imshow(error_image(truth, predicted), interpolation="nearest")
        row[3].set_title(f"errors: {np.mean(predicted != truth):.1%} of pixels\norange extra, blue missed")
    figure.colorbar(shading, ax=axes[:, 2], location="bottom", shrink=0.8, label="membrane probability")
    figure.suptitle(f"Held-out slices, labels and predictions shaded alike ({MEMBRANE_CAPTION}); "
                    f"errors at threshold {threshold:g}")
    plt.show()
