"""The paper's weight map: each pixel's loss weighted to stress the thin borders between touching cells.

Ronneberger et al. (2015), eq. 2: ``w(x) = w_c(x) + w_0 exp(-(d1(x) + d2(x))^2 / (2 sigma^2))``,
where ``w_c`` balances the two classes' frequencies and ``d1``, ``d2`` are the distances to the
nearest and the second nearest cell. Far from two cells the second term vanishes, so each cell's
distances are computed only within ``REACH`` pixels of it: a slice takes a fraction of a second.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy import ndimage

from unet_kit.figure_style import draw_grey_image

W0, SIGMA = 10.0, 5.0  # the paper's values, in pixels
#: Beyond this distance from a cell, exp(-d^2 / (2 sigma^2)) < 1e-5 for any pair it could form.
REACH = int(math.ceil(SIGMA * math.sqrt(2 * math.log(1e5)))) + 1


def class_balance(membrane: np.ndarray) -> np.ndarray:
    """w_c: each pixel weighted by the other class's frequency, so both classes weigh the same in total."""
    share = float(membrane.mean())
    return np.where(membrane, 1.0 - share, share) / max(2 * share * (1 - share), 1e-12)


def distances_to_two_nearest_cells(membrane: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """d1, d2 (H, W): each pixel's distance to the nearest and the second nearest cell, capped at REACH."""
    cells, count = ndimage.label(~membrane)
    nearest = np.full(membrane.shape, float(REACH))
    second = np.full(membrane.shape, float(REACH))
    for index, box in enumerate(ndimage.find_objects(cells), start=1):
        rows = slice(max(box[0].start - REACH, 0), min(box[0].stop + REACH, membrane.shape[0]))
        columns = slice(max(box[1].start - REACH, 0), min(box[1].stop + REACH, membrane.shape[1]))
        distance = np.minimum(ndimage.distance_transform_edt(cells[rows, columns] != index), REACH)
        near, far = nearest[rows, columns], second[rows, columns]
        second[rows, columns] = np.where(distance < near, near, np.minimum(far, distance))
        nearest[rows, columns] = np.minimum(near, distance)
    return nearest, second


def border_weight_map(membrane: np.ndarray, w0: float = W0, sigma: float = SIGMA) -> np.ndarray:
    """w(x) for a boolean (H, W) membrane map (True = membrane), as float32."""
    membrane = np.asarray(membrane, dtype=bool)
    nearest, second = distances_to_two_nearest_cells(membrane)
    return (class_balance(membrane) + w0 * np.exp(-((nearest + second) ** 2) / (2 * sigma**2))).astype(np.float32)


def border_weights(membranes: torch.Tensor) -> torch.Tensor:
    """The weight map of each (N, 1, H, W) membrane target (1 = membrane), on the target's device."""
    maps = [border_weight_map(target[0].detach().cpu().numpy() > 0.5) for target in membranes]
    return torch.from_numpy(np.stack(maps)[:, None]).to(membranes.device)


def draw_border_weights(label: np.ndarray, window: int = 192) -> plt.Figure:
    """A label (membrane = 0, as the data stores it) and its weight map, over the central ``window`` pixels."""
    top = label.shape[0] // 2 - window // 2
    left = label.shape[1] // 2 - window // 2
    label = label[top:top + window, left:left + window]
    weights = border_weight_map(label == 0)
    figure, (label_axis, weight_axis) = plt.subplots(1, 2, figsize=(9, 4.4), constrained_layout=True)
    draw_grey_image(label_axis, label)
    label_axis.set_title("label (membrane black)")
    label_axis.set_axis_off()
    shown = weight_axis.imshow(weights, cmap="gray_r")
    weight_axis.set_title(f"weight map: darker weighs more (w0 = {W0:g}, sigma = {SIGMA:g} px)")
    weight_axis.set_axis_off()
    figure.colorbar(shown, ax=weight_axis, shrink=0.8, label="w(x)")
    figure.suptitle("The paper's weights: highest on thin membranes between two touching cells")
    return figure
