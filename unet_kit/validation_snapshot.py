"""A glance at a held-out tile while the network trains, redrawn in one place.

Every so often the training loop calls ``ValidationSnapshots.take``: one tile from the centre of a
validation slice is predicted (cheap: one forward pass, no gradients), its loss recorded, and
input, label, prediction and the losses so far are drawn. In a notebook the picture is replaced
in place through an IPython display handle, so the cell shows one current snapshot, next to its
progress bar, instead of a pile of figures.
"""

from __future__ import annotations

import io

import numpy as np
import torch
import torch.nn.functional as F
from IPython.display import DisplayHandle, Image
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from unet_kit.figure_style import MEMBRANE_CAPTION, ORANGE, draw_grey_image, draw_membranes
from unet_kit.tiles import to_membrane_target, to_unit_range


def centre_tile(image: np.ndarray, tile_size: int) -> np.ndarray:
    """The ``tile_size`` square at the centre of an (H, W) slice, mirrored past its border if the tile is larger."""
    height, width = image.shape
    grow = max(0, -(-(tile_size - min(height, width)) // 2))  # ceiling of half the shortfall
    padded = np.pad(image, grow, mode="reflect")
    top, left = padded.shape[0] // 2 - tile_size // 2, padded.shape[1] // 2 - tile_size // 2
    return padded[top:top + tile_size, left:left + tile_size]


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG, so it shows the same whatever matplotlib backend the notebook set up (or none)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


class ValidationSnapshots:
    """Predicts one validation tile on demand; ``losses`` maps training steps done to its loss.

    ``image`` and ``label``: one (H, W) uint8 validation slice and its challenge labels;
    ``tile_size``: the network's input side, as in training.
    """

    def __init__(self, image: np.ndarray, label: np.ndarray, tile_size: int, device: torch.device):
        self.image = centre_tile(image, tile_size)
        self.tile = to_unit_range(self.image)[None, None].to(device)
        self.membranes = to_membrane_target(centre_tile(label, tile_size))[None, None].to(device)
        self.losses: dict[int, float] = {}
        self._display = DisplayHandle()
        self._shown = False

    def predict(self, model: torch.nn.Module) -> tuple[float, np.ndarray, np.ndarray]:
        """Loss, membrane probability (h, w) and membrane target (h, w) of the tile, in whichever mode ``model`` was."""
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                logits = model(self.tile.to(next(model.parameters()).dtype)).float()
        finally:
            model.train(was_training)
        side = logits.shape[-1]
        offset = self.tile.shape[-1] // 2 - side // 2  # the centre-crop rule of the network's skips
        target = self.membranes[..., offset:offset + side, offset:offset + side]
        loss = F.binary_cross_entropy_with_logits(logits, target).item()
        return loss, torch.sigmoid(logits)[0, 0].cpu().numpy(), target[0, 0].cpu().numpy()

    def take(self, model: torch.nn.Module, steps_done: int) -> float:
        """Predict the tile, record and return its loss, and show the snapshot (replacing the previous one)."""
        loss, probability, target = self.predict(model)
        self.losses[steps_done] = loss
        picture = Image(data=png_bytes(self.draw(probability, target, steps_done)), format="png")
        if self._shown:
            self._display.update(picture)
        else:
            self._display.display(picture)
            self._shown = True
        return loss

    def draw(self, probability: np.ndarray, target: np.ndarray, steps_done: int) -> Figure:
        """Input (output window framed), label and prediction of that window, and the loss after each snapshot so far."""
        # A figure outside pyplot: the notebook's inline backend would otherwise show every one again at the cell's end.
        figure = Figure(figsize=(13, 3.6), layout="constrained")
        image_axis, label_axis, prediction_axis, loss_axis = figure.subplots(1, 4)
        side = probability.shape[-1]
        offset = self.image.shape[-1] // 2 - side // 2
        draw_grey_image(image_axis, self.image)
        image_axis.add_patch(Rectangle((offset - 0.5, offset - 0.5), side, side, fill=False, edgecolor=ORANGE,
                                       linewidth=1.5, linestyle="--"))
        image_axis.set_title("tile (dashed: predicted part)")
        draw_membranes(label_axis, target)
        label_axis.set_title("label")
        draw_membranes(prediction_axis, probability)
        prediction_axis.set_title("predicted membrane probability")
        image_axis.set_axis_off()
        loss_axis.plot(list(self.losses), list(self.losses.values()), "o-", color="black", markerfacecolor="white")
        loss_axis.set_xlabel("training steps done")
        loss_axis.set_ylabel("validation loss")
        loss_axis.set_ylim(bottom=0)
        figure.suptitle(f"After {steps_done} training steps: validation loss {self.losses[steps_done]:.3f} on this "
                        f"tile ({MEMBRANE_CAPTION})")
        return figure
