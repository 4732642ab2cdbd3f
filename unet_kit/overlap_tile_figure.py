"""The overlap-tile strategy drawn to scale (Ronneberger et al. 2015, Fig. 2).

``OverlapTileLayout`` states where ``unet_kit.tiles.predict_full_slices`` cuts its input tiles
and puts their outputs: outputs of ``output_side`` lie edge to edge from the slice's top left
corner, each input tile reaches ``offset`` pixels further up and left (the centre-crop rule
``tile // 2 - output // 2``), and the slice is mirrored beyond its border to fill the tiles.
The tests hold it to what ``predict_full_slices`` really cuts.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from unet_kit.figure_style import BLUE, ORANGE, YELLOW, draw_grey_image


@dataclass(frozen=True)
class SquareWindow:
    """A square of ``side`` pixels whose top left pixel is (``top``, ``left``), in slice coordinates."""

    top: int
    left: int
    side: int

    @property
    def bottom(self) -> int:
        return self.top + self.side

    @property
    def right(self) -> int:
        return self.left + self.side


@dataclass(frozen=True)
class OverlapTileLayout:
    """Input tiles and output windows of one (``height``, ``width``) slice."""

    height: int
    width: int
    tile_size: int
    output_side: int

    @property
    def offset(self) -> int:
        """Pixels of context above and left of the output window inside its input tile."""
        return self.tile_size // 2 - self.output_side // 2

    @property
    def rows(self) -> int:
        return -(-self.height // self.output_side)  # ceiling division

    @property
    def columns(self) -> int:
        return -(-self.width // self.output_side)

    @property
    def padding(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """Mirrored pixels (before, after) along rows and columns, enough for every input tile."""
        beyond = self.tile_size - self.output_side - self.offset  # context below and right of an output
        return ((self.offset, self.rows * self.output_side - self.height + beyond),
                (self.offset, self.columns * self.output_side - self.width + beyond))

    def output_windows(self) -> list[SquareWindow]:
        """Row by row; the last row and column may reach past the slice, and that part is cut off."""
        return [SquareWindow(row * self.output_side, column * self.output_side, self.output_side)
                for row in range(self.rows) for column in range(self.columns)]

    def input_tile(self, output_window: SquareWindow) -> SquareWindow:
        """The input tile whose prediction is ``output_window``; it reaches into the mirrored border."""
        return SquareWindow(output_window.top - self.offset, output_window.left - self.offset, self.tile_size)

    def mirrored(self, image: np.ndarray) -> np.ndarray:
        """``image`` (H, W) padded by mirroring, as ``predict_full_slices`` pads it; pixel (0, 0) moves to (offset, offset)."""
        return np.pad(image, self.padding, mode="reflect")


def _frame(axis, window: SquareWindow, **style) -> None:
    axis.add_patch(Rectangle((window.left - 0.5, window.top - 0.5), window.side, window.side, **style))


def draw_overlap_tiles(image: np.ndarray, tile_size: int, output_side: int, highlighted: int = 0) -> plt.Figure:
    """A slice mirror-padded as for prediction: left, all output windows edge to edge; right, one input tile and its output.

    ``output_side`` is the network's output for a ``tile_size`` input, e.g.
    ``unet_kit.tiles.output_size(model, tile_size, device)``; ``highlighted`` picks the tile, row by row.
    """
    layout = OverlapTileLayout(*np.shape(image), tile_size, output_side)
    padded = layout.mirrored(image)
    (top, _), (left, _) = layout.padding
    # extent puts pixel (0, 0) of the slice at coordinates (0, 0), so windows are drawn in slice coordinates
    extent = (-left - 0.5, padded.shape[1] - left - 0.5, padded.shape[0] - top - 0.5, -top - 0.5)
    outside = np.ones(padded.shape, dtype=bool)
    outside[top:top + layout.height, left:left + layout.width] = False
    veil = np.zeros((*padded.shape, 4))
    veil[outside] = (1, 1, 1, 0.45)  # lightens the mirrored border, so the real slice stands out
    figure, axes = plt.subplots(1, 2, figsize=(12, 6.8), constrained_layout=True)
    for axis in axes:
        draw_grey_image(axis, padded).set_extent(extent)
        axis.imshow(veil, extent=extent)
        # black under yellow dashes: the slice's outline shows on dark and light tissue, and in grayscale
        for colour, dashes in (("black", "-"), (YELLOW, "--")):
            axis.add_patch(Rectangle((-0.5, -0.5), layout.width, layout.height, fill=False, edgecolor=colour,
                                     linewidth=2.5, linestyle=dashes))
        axis.set_axis_off()
    windows = layout.output_windows()
    for number, window in enumerate(windows, start=1):
        _frame(axes[0], window, fill=False, edgecolor=ORANGE, linewidth=2)
        axes[0].text((window.left + window.right) / 2, (window.top + window.bottom) / 2, str(number), color="black",
                     ha="center", va="center", fontsize=14, bbox=dict(facecolor="white", edgecolor=ORANGE))
    axes[0].set_title(f"{len(windows)} output windows of {output_side} px lie edge to edge;\n"
                      f"the dashed frame is the {layout.height} x {layout.width} slice, the pale rest its mirror image")
    window = windows[highlighted]
    tile = layout.input_tile(window)
    _frame(axes[1], tile, fill=False, edgecolor=BLUE, linewidth=3)
    _frame(axes[1], window, facecolor=ORANGE, alpha=0.35, edgecolor=ORANGE, linewidth=2)
    axes[1].set_title(f"input tile {highlighted + 1} (solid frame, {tile_size} px) is predicted as\n"
                      f"the shaded {output_side} px window, {layout.offset} px in from its top left corner")
    figure.suptitle(f"Overlap-tile prediction: {layout.rows} x {layout.columns} tiles cover the slice.\n"
                    "The mirrored border gives edge pixels context; outputs past the slice are cut off.")
    return figure
