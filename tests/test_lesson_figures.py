"""The lesson's figures draw from the real data and show what the kit really does."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.colors import to_rgb
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from nbclient import NotebookClient
from torch import nn

from unet_kit.assignment import REPOSITORY_ROOT
from unet_kit.augmentation_figure import augmented_tiles, draw_augmented_tiles, letter_pattern
from unet_kit.data import load_isbi2012
from unet_kit.figure_style import BLUE, ORANGE
from unet_kit.membrane_gap_figure import draw_membrane_gap_toy, toy_predictions, two_cells
from unet_kit.metrics import membrane_mask, pixel_error, segmentation_scores
from unet_kit.overlap_tile_figure import OverlapTileLayout, draw_overlap_tiles
from unet_kit.plotting import error_image, plot_training_curve, show_predictions
from unet_kit.tiles import TileSampler, output_size, predict_full_slices
from unet_kit.validation_snapshot import ValidationSnapshots, centre_tile

matplotlib.use("Agg")

CPU = torch.device("cpu")
TILE, TILE_OUTPUT = 380, 245  # the cpu budget's tile and what the notebook's U-Net makes of it
SMALL_TILE, SMALL_TILE_OUTPUT = 188, 53  # the smallest tile the visible tests feed the U-Net: a fast forward pass


@pytest.fixture(scope="module")
def isbi():
    return load_isbi2012()


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def images_of(axis) -> list[np.ndarray]:
    return [np.asarray(image.get_array()) for image in axis.get_images()]


def frames(axis) -> list[Rectangle]:
    return [patch for patch in axis.patches if isinstance(patch, Rectangle)]


def shown_colours(image: AxesImage) -> np.ndarray:
    """RGB of every pixel as drawn: the array through the panel's own norm and colour map."""
    return image.to_rgba(np.asarray(image.get_array()))[..., :3]


def grey_value(colour) -> float:
    red, green, blue = to_rgb(colour)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue  # Rec. 709 luma, as a grayscale print sees it


# 1. augmented tiles


def test_letters_go_through_the_same_draws_as_the_tiles():
    page = letter_pattern((3, 200, 200))
    tiles = augmented_tiles(page, page, tile_size=96, output_side=60, count=5, seed=4)
    np.testing.assert_array_equal(tiles.letters, tiles.images)


def test_augmented_tiles_are_the_samplers_own_pairs(isbi):
    images, labels = isbi.train_images[:3], isbi.train_labels[:3]
    tiles = augmented_tiles(images, labels, TILE, TILE_OUTPUT, count=2, seed=7)
    expected_images, expected_membranes = TileSampler(images, labels, TILE, TILE - TILE_OUTPUT, CPU, seed=7).batch(2)
    np.testing.assert_array_equal(tiles.images, expected_images[:, 0].numpy())
    np.testing.assert_array_equal(tiles.membranes, expected_membranes[:, 0].numpy())


def test_augmented_tiles_figure_frames_the_output_window_on_each_image_and_label(isbi):
    figure = draw_augmented_tiles(isbi.train_images[:3], isbi.train_labels[:3], TILE, TILE_OUTPUT, count=3)
    axes = np.reshape(figure.axes, (3, 3))
    offset = TILE // 2 - TILE_OUTPUT // 2
    for axis in axes[:2].flat:
        (frame,) = frames(axis)
        assert (frame.get_x(), frame.get_y(), frame.get_width()) == (offset - 0.5, offset - 0.5, TILE_OUTPUT)
    assert all(not frames(axis) for axis in axes[2])
    assert all(not axis.get_xticks().size and not axis.get_yticks().size for axis in figure.axes if axis.axison)
    assert f"dashed {TILE_OUTPUT} px centre" in figure.get_suptitle()


# 2. overlap-tile layout


@pytest.mark.parametrize("height, width, tile_size, output_side", [(512, 512, 508, 373), (512, 512, 380, 245),
                                                                   (100, 77, 64, 60), (30, 31, 40, 10)])
def test_output_windows_cover_every_slice_pixel_exactly_once(height, width, tile_size, output_side):
    layout = OverlapTileLayout(height, width, tile_size, output_side)
    cover = np.zeros((layout.rows * output_side, layout.columns * output_side), dtype=int)
    for window in layout.output_windows():
        cover[window.top:window.bottom, window.left:window.right] += 1
    assert (cover[:height, :width] == 1).all()
    assert cover.shape[0] - output_side < height and cover.shape[1] - output_side < width  # no window wholly outside


class RecordingCentreWindow(nn.Module):
    """Shrinks its input by ``shrink`` like a U-Net and keeps every tile it was given."""

    def __init__(self, shrink: int):
        super().__init__()
        self.shrink = shrink
        self.tiles: list[np.ndarray] = []
        self.unused = nn.Conv2d(1, 1, 1)  # a parameter and an input channel count for the probes

    def forward(self, x):
        self.tiles += list(x[:, 0].numpy())
        side = x.shape[-1] - self.shrink
        return x[..., :side, :side]


@pytest.mark.parametrize("height, width, tile_size, shrink", [(100, 77, 64, 4), (512, 512, 508, 135)])
def test_layout_is_where_predict_full_slices_cuts_its_tiles(height, width, tile_size, shrink):
    image = np.random.default_rng(0).integers(0, 256, size=(height, width), dtype=np.uint8)
    model = RecordingCentreWindow(shrink)
    predict_full_slices(model, image[None], tile_size, CPU, batch_size=2)
    layout = OverlapTileLayout(height, width, tile_size, tile_size - shrink)
    padded = layout.mirrored(image).astype(np.float32) / 255
    (top, _), (left, _) = layout.padding
    expected = [padded[tile.top + top:tile.bottom + top, tile.left + left:tile.right + left]
                for tile in map(layout.input_tile, layout.output_windows())]
    cut = model.tiles[1:]  # the first is output_size's probe
    assert len(cut) == len(expected)
    for got, wanted in zip(cut, expected):
        np.testing.assert_allclose(got, wanted, atol=1e-6)


def test_overlap_figure_takes_its_sizes_from_the_network(solution, isbi):
    output_side = output_size(solution["UNet"](1, 1, hidden_channels=2), 508, CPU)
    figure = draw_overlap_tiles(isbi.train_images[25], 508, output_side)
    windows, highlighted = figure.axes
    assert output_side == 373
    assert "4 output windows of 373 px" in windows.get_title()
    assert len(frames(windows)) == 2 + 4  # the slice's outline (drawn twice) and the windows
    offset = 508 // 2 - 373 // 2
    (tile,) = [frame for frame in frames(highlighted) if frame.get_width() == 508]
    assert (tile.get_x(), tile.get_y()) == (-offset - 0.5, -offset - 0.5)
    assert f"{offset} px in from its top left corner" in highlighted.get_title()


# 3. the one-pixel gap


def test_one_pixel_gap_barely_moves_pixel_error_but_ruins_the_rand_error():
    labels = two_cells(side=32, membrane_width=2)
    gap, thick = toy_predictions(labels)
    assert gap.scores.pixel_error == pytest.approx(2 / 32**2)
    assert gap.scores.pixel_error < 0.01 and gap.scores.adapted_rand_error > 0.3
    assert thick.scores.adapted_rand_error == 0 and thick.scores.pixel_error > 10 * gap.scores.pixel_error


def test_gap_figure_prints_the_scores_of_the_metrics_own_functions():
    figure = draw_membrane_gap_toy(side=32, membrane_width=2)
    labels = two_cells(side=32, membrane_width=2)
    for prediction, axis in zip(toy_predictions(labels), figure.axes[1:3]):
        probability = prediction.membrane_probability
        rand = segmentation_scores(probability, labels).adapted_rand_error
        assert f"pixel error {pixel_error(probability, labels):.4f}\nadapted Rand error {rand:.2f}" in axis.get_title()
    assert "the 1 cell it makes" in figure.axes[4].get_title()  # the gap merged the two cells


# 4. predictions shaded like the labels


def test_labels_and_predictions_shade_membrane_alike(isbi):
    images, labels = isbi.train_images[25:27], isbi.train_labels[25:27]
    perfect = membrane_mask(labels).astype(np.float32)
    show_predictions(images, labels, perfect, slice_numbers=[25, 26])
    figure = plt.gcf()
    for row in range(2):
        (label_image,), (prediction_image,) = (figure.axes[4 * row + 1].get_images(),
                                               figure.axes[4 * row + 2].get_images())
        np.testing.assert_allclose(shown_colours(label_image), shown_colours(prediction_image))
        assert (shown_colours(label_image)[membrane_mask(labels[row])] == 0).all()  # membrane is black
    assert any(axis.get_xlabel() == "membrane probability" for axis in figure.axes)  # the colour bar


def test_error_colours_differ_in_grey_value_from_each_other_and_from_the_right_pixels():
    truth = np.array([[True, True, False, False]])
    predicted = np.array([[True, False, True, False]])
    right_membrane, missed, extra, right_cell = error_image(truth, predicted)[0]
    assert tuple(missed) == to_rgb(BLUE) and tuple(extra) == to_rgb(ORANGE) and tuple(right_cell) == (1, 1, 1)
    greys = sorted(map(grey_value, (right_membrane, missed, extra, right_cell)))
    assert min(np.diff(greys)) > 0.15


def test_training_curve_marks_validation_losses_at_their_steps():
    plot_training_curve([0.7] * 50, validation_losses={10: 0.6, 40: 0.4})
    (points,) = [line for line in plt.gcf().axes[0].get_lines() if line.get_label() == "validation loss"]
    assert list(points.get_xdata()) == [10, 40] and list(points.get_ydata()) == [0.6, 0.4]


# 5. validation snapshots


@pytest.mark.parametrize("training", [True, False])
def test_snapshot_leaves_the_model_in_the_mode_it_found(solution, isbi, training):
    model = solution["UNet"](1, 1, hidden_channels=2).train(training)
    ValidationSnapshots(isbi.train_images[25], isbi.train_labels[25], SMALL_TILE, CPU).take(model, steps_done=1)
    assert all(module.training == training for module in model.modules())


def test_snapshot_loss_is_the_cross_entropy_of_the_predicted_centre(solution, isbi):
    torch.manual_seed(0)
    model = solution["UNet"](1, 1, hidden_channels=2)
    image, label = isbi.train_images[26], isbi.train_labels[26]
    snapshots = ValidationSnapshots(image, label, SMALL_TILE, CPU)
    loss = snapshots.take(model, steps_done=25)
    start, inner = 512 // 2 - SMALL_TILE // 2, SMALL_TILE // 2 - SMALL_TILE_OUTPUT // 2
    tile = image[start:start + SMALL_TILE, start:start + SMALL_TILE]
    with torch.no_grad():
        logits = model(torch.from_numpy(tile / 255).float()[None, None])[0, 0]
    assert logits.shape[-1] == SMALL_TILE_OUTPUT
    window = slice(start + inner, start + inner + SMALL_TILE_OUTPUT)
    membrane = torch.from_numpy(label[window, window] == 0).float()
    expected = -(membrane * F.logsigmoid(logits) + (1 - membrane) * F.logsigmoid(-logits)).mean()
    assert loss == pytest.approx(float(expected), rel=1e-5)
    assert snapshots.losses == {25: loss}


def test_snapshot_tile_larger_than_the_slice_is_the_slice_mirrored_around(isbi):
    image = isbi.train_images[27]
    tile = centre_tile(image, 572)
    grow = (572 - 512) // 2
    assert tile.shape == (572, 572)
    np.testing.assert_array_equal(tile[grow:grow + 512, grow:grow + 512], image)
    np.testing.assert_array_equal(tile[grow - 1, grow:grow + 512], image[1])  # mirrored, not repeated


def test_snapshot_figure_shades_label_and_prediction_alike(isbi):
    snapshots = ValidationSnapshots(isbi.train_images[25], isbi.train_labels[25], 64, CPU)
    snapshots.losses[3] = 0.5
    target = membrane_mask(isbi.train_labels[25][:40, :40]).astype(np.float32)
    figure = snapshots.draw(target, target, steps_done=3)
    image_axis, label_axis, prediction_axis, loss_axis = figure.axes
    np.testing.assert_allclose(shown_colours(label_axis.get_images()[0]), shown_colours(prediction_axis.get_images()[0]))
    assert "validation loss 0.500" in figure.get_suptitle()
    assert not image_axis.axison and not label_axis.get_xticks().size and loss_axis.get_xlabel() == "training steps done"


SNAPSHOT_CELLS = [
    "import numpy as np, torch\n"
    "from unet_kit.validation_snapshot import ValidationSnapshots\n"
    "snapshots = ValidationSnapshots(np.zeros((40, 40), np.uint8), np.zeros((40, 40), np.uint8), 32, torch.device('cpu'))\n"
    "model = torch.nn.Conv2d(1, 1, 5)",
    "for step in range(1, 4):\n    snapshots.take(model, steps_done=step)\nprint(sorted(snapshots.losses))",
]


@pytest.mark.slow
def test_snapshots_replace_each_other_in_a_notebook(monkeypatch):
    """In a real kernel with the inline backend, three snapshots leave one picture, not three."""
    monkeypatch.setenv("PYTHONPATH", str(REPOSITORY_ROOT))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in SNAPSHOT_CELLS])
    NotebookClient(notebook, kernel_name="python3", timeout=120).execute()
    outputs = notebook.cells[1].outputs
    pictures = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(pictures) == 1
    assert any(output.get("text") == "[1, 2, 3]\n" for output in outputs)
