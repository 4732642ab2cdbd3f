"""What the network trains on: tiles as ``TileSampler`` draws them, turned, flipped and warped.

Turns and gentle warps are hard to spot in tissue, so a page of letters F goes through the very
same draws beside each (image, label) pair: a second sampler with the same seed over slices of
the same shape picks the same slices, windows, turns, flips and warps.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle

from unet_kit.figure_style import MEMBRANE_CAPTION, ORANGE, draw_grey_image, draw_membranes, panel_grid
from unet_kit.tiles import TileSampler

#: The letter, one character per block of ``LETTER_BLOCK`` x ``LETTER_BLOCK`` pixels; it repeats across the page.
LETTER_F = (
    "........",
    ".#####..",
    ".#......",
    ".####...",
    ".#......",
    ".#......",
    ".#......",
    "........",
)
LETTER_BLOCK = 4
GRID_GREY, INK = 170, 0
CPU = torch.device("cpu")


def letter_pattern(shape: tuple[int, ...]) -> np.ndarray:
    """uint8 slices of ``shape`` (..., H, W): letters F, black on white, each in a cell framed by grey lines.

    F looks different under each of the eight turns and flips of a square, and straight lines show
    every bend of an elastic warp.
    """
    glyph = np.array([[character == "#" for character in row] for row in LETTER_F])
    cell = np.where(np.kron(glyph, np.ones((LETTER_BLOCK, LETTER_BLOCK), dtype=bool)), INK, 255).astype(np.uint8)
    cell[0, :] = cell[:, 0] = GRID_GREY
    height, width = shape[-2:]
    repeats = (-(-height // cell.shape[0]), -(-width // cell.shape[1]))  # ceiling division
    page = np.tile(cell, repeats)[:height, :width]
    return np.broadcast_to(page, shape).copy()


@dataclass(frozen=True)
class AugmentedTiles:
    """Tiles of one draw, each (N, T, T) float32: images in [0, 1], membranes (1 = membrane), letters in [0, 1]."""

    images: np.ndarray
    membranes: np.ndarray
    letters: np.ndarray


def augmented_tiles(images: np.ndarray, labels: np.ndarray, tile_size: int, output_side: int,
                    count: int = 4, elastic: bool = True, seed: int = 0) -> AugmentedTiles:
    """``count`` tiles drawn as the notebook's sampler draws them (margin = tile - output), and the letters drawn alike.

    Uses samplers of its own on the CPU, so the training sampler's random sequence is left alone.
    """
    draws = dict(tile_size=tile_size, margin=tile_size - output_side, device=CPU, elastic=elastic, seed=seed)
    tiles, membranes = TileSampler(images, labels, **draws).batch(count)
    page = letter_pattern(images.shape)
    letters, _ = TileSampler(page, page, **draws).batch(count)
    return AugmentedTiles(tiles[:, 0].numpy(), membranes[:, 0].numpy(), letters[:, 0].numpy())


def draw_augmented_tiles(images: np.ndarray, labels: np.ndarray, tile_size: int, output_side: int,
                         count: int = 4, elastic: bool = True, seed: int = 0) -> plt.Figure:
    """One column per tile: the image, its label, and the letters F through the same turn, flip and warp.

    The frame marks the ``output_side`` window the network predicts, the only part the loss sees.
    """
    tiles = augmented_tiles(images, labels, tile_size, output_side, count, elastic, seed)
    figure, axes = panel_grid(3, count, panel_inches=2.6)
    offset = tile_size // 2 - output_side // 2  # the centre-crop rule of the network's skips
    for column, (image, membranes, letters) in enumerate(zip(tiles.images, tiles.membranes, tiles.letters)):
        draw_grey_image(axes[0, column], image)
        draw_membranes(axes[1, column], membranes)
        draw_grey_image(axes[2, column], letters)
        for axis in axes[:2, column]:
            axis.add_patch(Rectangle((offset - 0.5, offset - 0.5), output_side, output_side, fill=False,
                                     edgecolor=ORANGE, linewidth=1.5, linestyle="--"))
        axes[0, column].set_title(f"tile {column + 1}: image")
        axes[1, column].set_title("its label")
        axes[2, column].set_title("letters, same draws")
    warps = "turned, flipped and warped" if elastic else "turned and flipped"
    figure.suptitle(f"Training tiles of {tile_size} px, {warps} together with their labels ({MEMBRANE_CAPTION}).\n"
                    f"The loss sees only the dashed {output_side} px centre, the network's output.")
    return figure
