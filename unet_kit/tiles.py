"""Tiles in, tiles out: random augmented training tiles and overlap-tile prediction of whole slices.

The U-Net uses valid convolutions, so its output is smaller than its input. Following
Ronneberger et al. (2015), slices are mirror-padded so that every pixel gets a prediction
with full context, and whole slices are predicted tile by tile.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

# The paper's elastic deformation: random displacements on a coarse 3x3 grid of control points,
# Gaussian with this standard deviation in pixels, interpolated bicubically to every pixel.
ELASTIC_GRID_POINTS = 3
ELASTIC_DISPLACEMENT_PIXELS = 10.0


def output_size(model: torch.nn.Module, tile_size: int, device: torch.device) -> int:
    """Side of the model's output for a square input tile, found by running it once."""
    parameter = next(model.parameters())
    with torch.no_grad():
        probe = torch.zeros(1, model_input_channels(model), tile_size, tile_size,
                            device=device, dtype=parameter.dtype)
        return int(model(probe).shape[-1])


def model_input_channels(model: torch.nn.Module) -> int:
    """Input channels of the first convolution, so probes match any U-Net width."""
    first_conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    return first_conv.in_channels


def to_unit_range(images: np.ndarray) -> torch.Tensor:
    """uint8 grey values to float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0)


def to_membrane_target(labels: np.ndarray) -> torch.Tensor:
    """The challenge's labels (0 = membrane, 255 = cell) as float32 membrane targets (1 = membrane)."""
    return torch.from_numpy(np.ascontiguousarray(labels) == 0).float()


def elastic_deformation(images: torch.Tensor, labels: torch.Tensor,
                        generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Warp each (image, label) pair of a batch by its own smooth random field.

    ``images`` and ``labels``: (N, 1, H, W) float. Images are resampled bilinearly, labels by
    nearest neighbour so they stay binary; pixels pulled from outside the tile mirror back in.
    """
    batch, _, height, width = images.shape
    coarse = torch.randn(batch, 2, ELASTIC_GRID_POINTS, ELASTIC_GRID_POINTS, generator=generator)
    displacement = F.interpolate(coarse.to(images.device), size=(height, width), mode="bicubic",
                                 align_corners=True) * ELASTIC_DISPLACEMENT_PIXELS
    # grid_sample wants (x, y) positions in [-1, 1]; one pixel is 2 / (size - 1) of that range.
    rows = torch.linspace(-1, 1, height, device=images.device)
    columns = torch.linspace(-1, 1, width, device=images.device)
    base = torch.stack(torch.meshgrid(columns, rows, indexing="xy"), dim=-1)
    scale = torch.tensor([2 / (width - 1), 2 / (height - 1)], device=images.device)
    grid = base + displacement.permute(0, 2, 3, 1) * scale
    warp = dict(grid=grid, padding_mode="reflection", align_corners=True)
    return (F.grid_sample(images, mode="bilinear", **warp),
            F.grid_sample(labels, mode="nearest", **warp))


class TileSampler:
    """Draws random, augmented (image, membrane) tiles from a stack of slices.

    Slices are mirror-padded by the U-Net's margin once, up front; each batch is cut, rotated
    by multiples of 90 degrees, maybe flipped and elastically deformed on ``device``, image and
    label together.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, tile_size: int, margin: int,
                 device: torch.device, elastic: bool = True, seed: int = 0):
        self.tile_size = tile_size
        self.elastic = elastic
        padding = ((0, 0), (margin, margin), (margin, margin))
        self.images = to_unit_range(np.pad(images, padding, mode="reflect")).to(device)
        self.membranes = to_membrane_target(np.pad(labels, padding, mode="reflect")).to(device)
        self.generator = torch.Generator().manual_seed(seed)

    def _random_ints(self, high: int, count: int) -> list[int]:
        return torch.randint(high, (count,), generator=self.generator).tolist()

    def batch(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Images and membrane targets, both (batch_size, 1, tile_size, tile_size) float32."""
        slice_count, height, width = self.images.shape
        slices = self._random_ints(slice_count, batch_size)
        tops = self._random_ints(height - self.tile_size + 1, batch_size)
        lefts = self._random_ints(width - self.tile_size + 1, batch_size)
        rotations = self._random_ints(4, batch_size)
        flips = self._random_ints(2, batch_size)
        images, membranes = [], []
        for index, top, left, quarter_turns, flip in zip(slices, tops, lefts, rotations, flips):
            window = (index, slice(top, top + self.tile_size), slice(left, left + self.tile_size))
            pair = torch.stack([self.images[window], self.membranes[window]])
            pair = torch.rot90(pair, quarter_turns, dims=(1, 2))
            if flip:
                pair = pair.flip(-1)
            images.append(pair[0:1])
            membranes.append(pair[1:2])
        images, membranes = torch.stack(images), torch.stack(membranes)
        if self.elastic:
            images, membranes = elastic_deformation(images, membranes, self.generator)
        return images, membranes


#: The eight symmetries of a square, as (quarter turns, flip): tissue has no preferred orientation.
DIHEDRAL = tuple((turns, flip) for flip in (False, True) for turns in range(4))


def _turned(images: np.ndarray, turns: int, flip: bool) -> np.ndarray:
    images = np.flip(images, axis=-1) if flip else images
    return np.ascontiguousarray(np.rot90(images, k=turns, axes=(-2, -1)))


def _turned_back(images: np.ndarray, turns: int, flip: bool) -> np.ndarray:
    images = np.rot90(images, k=-turns, axes=(-2, -1))
    return np.ascontiguousarray(np.flip(images, axis=-1) if flip else images)


def predict_full_slices(model: torch.nn.Module, images: np.ndarray, tile_size: int,
                        device: torch.device, batch_size: int = 4,
                        progress: Callable | None = None, mixed_precision: bool = False,
                        autocast_dtype: torch.dtype | None = torch.bfloat16,
                        test_time_augmentation: bool = False) -> np.ndarray:
    """Membrane probabilities for whole slices by the overlap-tile strategy.

    ``images``: (S, H, W) uint8. Returns (S, H, W) float32 in [0, 1]. Output tiles are laid
    edge to edge; each input tile is the output tile plus the U-Net's context margin, taken
    from the mirror-padded slice. The offset follows the centre-crop rule of the skips,
    ``input // 2 - output // 2``, so predictions line up with the pixels they belong to.
    ``mixed_precision`` runs the network in ``autocast_dtype`` autocast (worth it on CUDA; see
    ``unet_kit.device.choose_precision`` for which type a GPU wants). With
    ``test_time_augmentation`` the result is the average of the predictions of the slices
    turned and flipped eight ways, each turned back: eight times the work, fewer stray gaps.
    """
    if test_time_augmentation:
        views = [_turned_back(predict_full_slices(model, _turned(images, turns, flip), tile_size, device, batch_size,
                                                  progress, mixed_precision, autocast_dtype), turns, flip)
                 for turns, flip in DIHEDRAL]
        return np.mean(views, axis=0, dtype=np.float32)
    was_training = model.training
    model.eval()
    out = output_size(model, tile_size, device)
    offset = tile_size // 2 - out // 2
    slice_count, height, width = images.shape
    rows, columns = -(-height // out), -(-width // out)  # ceiling division
    padding = ((0, 0),
               (offset, rows * out - height + tile_size - out - offset),
               (offset, columns * out - width + tile_size - out - offset))
    padded = to_unit_range(np.pad(images, padding, mode="reflect"))
    corners = [(index, row * out, column * out)
               for index in range(slice_count) for row in range(rows) for column in range(columns)]
    probabilities = np.zeros((slice_count, rows * out, columns * out), dtype=np.float32)
    batches = range(0, len(corners), batch_size)
    for start in progress(batches) if progress else batches:
        chunk = corners[start:start + batch_size]
        tiles = torch.stack([padded[index, top:top + tile_size, left:left + tile_size]
                             for index, top, left in chunk])[:, None].to(device)
        with torch.no_grad(), torch.autocast(device.type, dtype=autocast_dtype, enabled=mixed_precision):
            predicted = torch.sigmoid(model(tiles).float())[:, 0].cpu().numpy()
        for (index, top, left), tile in zip(chunk, predicted):
            probabilities[index, top:top + out, left:left + out] = tile
    model.train(was_training)
    return probabilities[:, :height, :width]
