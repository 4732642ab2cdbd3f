"""Tiles in, tiles out: augmentation moves image and label together, overlap-tile puts every pixel back in place."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch
from torch import nn

from unet_kit.export import save_membrane_probabilities
from unet_kit.tiles import TileSampler, elastic_deformation, predict_full_slices

CPU = torch.device("cpu")


class CentreWindow(nn.Module):
    """A stand-in network that shrinks its input by ``shrink`` pixels like a U-Net and returns the
    logit of the centre window, so its membrane probability is the input's own grey value."""

    def __init__(self, shrink: int):
        super().__init__()
        self.shrink = shrink
        self.unused = nn.Conv2d(1, 1, 1)  # gives the probes a parameter dtype and an input channel count

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2] - self.shrink, x.shape[-1] - self.shrink
        # the same rule as the U-Net's crop: start at input // 2 - output // 2
        top, left = x.shape[-2] // 2 - height // 2, x.shape[-1] // 2 - width // 2
        window = x[..., top:top + height, left:left + width]
        return torch.logit(window.clamp(1e-6, 1 - 1e-6))


def blobs(shape: tuple[int, int, int], seed: int) -> np.ndarray:
    """Smooth uint8 images: a few large bright and dark regions, so resampling barely blurs edges."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(shape[0], 1, 6, 6, generator=generator)
    smooth = torch.nn.functional.interpolate(coarse, size=shape[1:], mode="bicubic", align_corners=True)
    return (smooth[:, 0].clamp(0, 1) * 255).round().to(torch.uint8).numpy()


@pytest.mark.parametrize("shrink, tile_size", [(135, 508), (4, 64), (7, 40)])
def test_overlap_tile_prediction_returns_every_pixel_in_place(shrink, tile_size):
    images = np.random.default_rng(0).integers(0, 256, size=(2, 100, 77), dtype=np.uint8)
    probability = predict_full_slices(CentreWindow(shrink), images, tile_size, CPU, batch_size=3)
    assert probability.shape == images.shape and probability.dtype == np.float32
    np.testing.assert_allclose(probability, np.clip(images / 255, 1e-6, 1 - 1e-6), atol=1e-5)


def test_sampler_without_elastic_cuts_label_from_the_same_window_as_the_image():
    images = blobs((3, 120, 120), seed=1)
    labels = np.where(images < 128, 0, 255).astype(np.uint8)  # membrane where the image is dark
    sampler = TileSampler(images, labels, tile_size=64, margin=10, device=CPU, elastic=False, seed=2)
    tiles, membranes = sampler.batch(8)
    assert tiles.shape == membranes.shape == (8, 1, 64, 64)
    assert torch.equal(membranes, (tiles < 128 / 255).float())


def test_sampler_with_elastic_deforms_image_and_label_together():
    images = blobs((3, 160, 160), seed=3)
    labels = np.where(images < 128, 0, 255).astype(np.uint8)
    plain = TileSampler(images, labels, tile_size=96, margin=20, device=CPU, elastic=False, seed=4)
    warped = TileSampler(images, labels, tile_size=96, margin=20, device=CPU, elastic=True, seed=4)
    tiles, membranes = warped.batch(6)
    assert set(torch.unique(membranes).tolist()) <= {0.0, 1.0}
    agreement = (membranes == (tiles < 128 / 255).float()).float().mean().item()
    assert agreement > 0.97, f"image and label were warped apart: only {agreement:.1%} of pixels agree"
    assert not torch.equal(tiles, plain.batch(6)[0]), "the elastic deformation changed nothing"


def test_elastic_deformation_is_reproducible_from_its_generator():
    images = torch.rand(2, 1, 50, 50)
    labels = (images > 0.5).float()
    first = elastic_deformation(images, labels, torch.Generator().manual_seed(5))
    second = elastic_deformation(images, labels, torch.Generator().manual_seed(5))
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])


def test_saved_membrane_probabilities_read_back_as_a_float32_stack(tmp_path):
    probability = np.random.default_rng(6).random((3, 20, 30))
    path = save_membrane_probabilities(probability, tmp_path / "nested" / "test.tif")
    stack = tifffile.imread(path)
    assert stack.dtype == np.float32 and stack.shape == (3, 20, 30)
    np.testing.assert_array_equal(stack, probability.astype(np.float32))


@pytest.mark.parametrize("bad", [np.full((1, 4, 4), 1.5), np.full((4, 4), 0.5), np.full((1, 4, 4), np.nan)])
def test_export_refuses_what_is_not_a_probability_stack(tmp_path, bad):
    with pytest.raises(ValueError):
        save_membrane_probabilities(bad, tmp_path / "bad.tif")


class RowGradient(nn.Module):
    """A stand-in network that is not symmetric: it adds a ramp down the rows of each output tile."""

    def __init__(self, shrink: int):
        super().__init__()
        self.window = CentreWindow(shrink)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.window(x)
        return logits + torch.linspace(-1, 1, logits.shape[-2])[:, None]


def test_test_time_augmentation_changes_nothing_for_a_symmetric_network():
    images = np.random.default_rng(1).integers(0, 256, size=(2, 40, 40), dtype=np.uint8)
    plain = predict_full_slices(CentreWindow(4), images, 24, CPU)
    augmented = predict_full_slices(CentreWindow(4), images, 24, CPU, test_time_augmentation=True)
    np.testing.assert_allclose(augmented, plain, atol=1e-6)


def test_test_time_augmentation_averages_the_eight_turned_and_flipped_views():
    images = np.random.default_rng(2).integers(0, 256, size=(1, 40, 40), dtype=np.uint8)
    model = RowGradient(4)
    views = []
    for flip in (False, True):
        for turns in range(4):
            view = np.rot90(np.flip(images, -1) if flip else images, turns, axes=(-2, -1)).copy()
            back = np.rot90(predict_full_slices(model, view, 24, CPU), -turns, axes=(-2, -1))
            views.append(np.flip(back, -1) if flip else back)
    augmented = predict_full_slices(model, images, 24, CPU, test_time_augmentation=True)
    np.testing.assert_allclose(augmented, np.mean(views, axis=0), atol=1e-6)
    assert not np.allclose(augmented, predict_full_slices(model, images, 24, CPU), atol=1e-3)
