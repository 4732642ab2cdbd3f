"""How the kit's figures look, decided once: membrane is black in every panel that shows it.

Labels (0 = membrane), training targets and predicted membrane probabilities all go through
``draw_membranes``, so a student compares like with like. The few colours come from Okabe and
Ito's palette, which colour-blind readers tell apart, and are picked to differ in grey value too,
so a grayscale print still reads.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.image import AxesImage

#: Membrane probability 1 is black and 0 white, just as the labels draw membrane (0) black.
MEMBRANE_COLOURMAP = "gray_r"
MEMBRANE_CAPTION = "black = membrane, white = cell"

# Okabe-Ito colours; grey values (Rec. 709 luma) about 0.64, 0.37 and 0.87.
ORANGE = "#E69F00"
BLUE = "#0072B2"
YELLOW = "#F0E442"
LIGHT_GREY = "#CCCCCC"  # grey value 0.8


def panel_grid(rows: int, columns: int, panel_inches: float = 3.2):
    """A figure of ``rows`` x ``columns`` image panels with their axes off (pixel numbers mean nothing here)."""
    figure, axes = plt.subplots(rows, columns, figsize=(columns * panel_inches, rows * panel_inches),
                                squeeze=False, constrained_layout=True)
    for axis in axes.flat:
        axis.set_axis_off()
    return figure, axes


def frame(axis: Axes) -> None:
    """A thin grey border and no ticks, so a panel that is mostly white stands out from the page."""
    axis.set_axis_on()
    axis.set_xticks([])
    axis.set_yticks([])
    for spine in axis.spines.values():
        spine.set_edgecolor("grey")


def draw_membranes(axis: Axes, membrane: np.ndarray) -> AxesImage:
    """Membrane values in [0, 1] (a target, a mask or a probability), black where membrane, in a frame."""
    frame(axis)
    return axis.imshow(np.asarray(membrane, dtype=np.float32), cmap=MEMBRANE_COLOURMAP, vmin=0, vmax=1,
                       interpolation="nearest")


def draw_grey_image(axis: Axes, image: np.ndarray) -> AxesImage:
    """An electron micrograph, uint8 or float in [0, 1], without stretching its contrast."""
    image = np.asarray(image)
    top = 255 if image.dtype == np.uint8 else 1
    return axis.imshow(image, cmap="gray", vmin=0, vmax=top)
