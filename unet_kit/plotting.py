"""Figures for the notebook: the data, the training curve and the predictions."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np


def _grid(rows: int, columns: int, panel_inches: float = 3.2):
    figure, axes = plt.subplots(rows, columns, figsize=(columns * panel_inches, rows * panel_inches),
                                squeeze=False, constrained_layout=True)
    for axis in axes.flat:
        axis.set_axis_off()
    return figure, axes


def show_examples(images: np.ndarray, labels: np.ndarray, indices: Sequence[int]) -> None:
    """Each chosen slice three ways: the EM image, its label, and the membranes drawn over it."""
    figure, axes = _grid(len(indices), 3)
    for row, index in zip(axes, indices):
        row[0].imshow(images[index], cmap="gray")
        row[0].set_title(f"slice {index}: electron micrograph")
        row[1].imshow(labels[index], cmap="gray")
        row[1].set_title("label: white = cell, black = membrane")
        row[2].imshow(images[index], cmap="gray")
        row[2].imshow(np.ma.masked_where(labels[index] != 0, labels[index]), cmap="autumn", alpha=0.5)
        row[2].set_title("membranes over the image")
    plt.show()


def plot_training_curve(losses: Sequence[float], learning_rates: Sequence[float] | None = None,
                        smoothing: int = 20) -> None:
    """Loss per step and its running mean, so the trend shows through the noise of small batches;
    with ``learning_rates``, the schedule on a second axis, to see the loss follow it."""
    figure, axis = plt.subplots(figsize=(7, 3.5), constrained_layout=True)
    steps = np.arange(1, len(losses) + 1)
    axis.plot(steps, losses, alpha=0.35, label="loss per step")
    if len(losses) >= smoothing:
        running = np.convolve(losses, np.ones(smoothing) / smoothing, mode="valid")
        axis.plot(steps[smoothing - 1:], running, label=f"mean of {smoothing} steps")
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


def show_predictions(images: np.ndarray, labels: np.ndarray, membrane_probability: np.ndarray,
                     slice_numbers: Sequence[int], threshold: float = 0.5) -> None:
    """Input, label, predicted membrane probability and the errors of the thresholded prediction."""
    figure, axes = _grid(len(images), 4)
    for row, image, label, probability, number in zip(axes, images, labels,
                                                      membrane_probability, slice_numbers):
        truth = label == 0
        predicted = probability >= threshold
        errors = np.zeros((*truth.shape, 3))
        errors[predicted & ~truth] = (1.0, 0.2, 0.2)  # membrane predicted inside a cell
        errors[~predicted & truth] = (0.2, 0.6, 1.0)  # membrane missed
        row[0].imshow(image, cmap="gray")
        row[0].set_title(f"slice {number}")
        row[1].imshow(truth, cmap="gray_r")
        row[1].set_title("true membranes")
        row[2].imshow(probability, cmap="magma", vmin=0, vmax=1)
        row[2].set_title("predicted membrane probability")
        row[3].imshow(errors)
        row[3].set_title(f"errors: red extra, blue missed ({np.mean(predicted != truth):.1%})")
    plt.show()
