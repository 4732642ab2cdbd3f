"""The mistakes students make in each task: a stable id, an explanation, and an oracle of its output.

A misconception oracle computes, with ``torch.nn.functional``, what the mistaken code would
return from the same inputs and the student's own weights, the way ``grader.reference``
computes the right answer. It may return several variants (nearest upsampling has one
spelling, an off-by-one window four), and a mistake that makes the code fail is predicted by
the error it raises. Mistakes that only the layers show (a normalisation layer, no biases) are
recognised from the module's description instead.

``grader.diagnosis`` runs these when a task's hidden checks fail and names the misconceptions
whose prediction the student's output matches; correct code never matches one, because a
prediction that equals the right answer is not evidence of anything.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.nn.functional import (
    avg_pool2d,
    conv2d,
    conv_transpose2d,
    elu,
    interpolate,
    leaky_relu,
    max_pool2d,
    relu,
)

from grader.inspection import NORMALISATION_OR_DROPOUT
from grader.reference import reference_crop


class NotThisMistake(Exception):
    """The student's layers cannot be this mistake (a weight of the shape it needs is missing)."""


class Weights:
    """The parameter values the checker gave a student's module, found by their shapes."""

    def __init__(self, values: dict[str, torch.Tensor]):
        self.values = values

    def conv(self, *shape: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The one weight of ``shape`` and its bias (None if the layer has none)."""
        names = [name for name, value in self.values.items()
                 if name.endswith("weight") and tuple(value.shape) == shape]
        if len(names) != 1:
            raise NotThisMistake(f"{len(names)} weights of shape {shape}")
        bias = names[0].removesuffix("weight") + "bias"
        return self.values[names[0]], self.values.get(bias)


@dataclass(frozen=True)
class Misconception:
    """One mistake, recognised by its output or by its layers.

    ``predicts`` are the variants of the mistaken output, each called with the arguments the
    task's diagnosis gives (the crop's image and shape; a block's weights and inputs; the
    U-Net's blocks and input). ``shows_in(module, build_arguments)`` recognises a mistake
    that only the module's description shows.
    """

    id: str
    explanation: str
    predicts: tuple[Callable[..., torch.Tensor], ...] = ()
    shows_in: Callable[..., bool] | None = None
    fallback: bool = False  # named only when no other misconception of its task is: it is the vaguer one

    @property
    def task(self) -> str:
        return self.id.split(".", 1)[0]


# -- Task 1: crop ---------------------------------------------------------------------------------
def _window(image: torch.Tensor, top: int, left: int, height: int, width: int) -> torch.Tensor:
    """``image[..., top:top + height, left:left + width]`` as Python slicing gives it, negatives included."""
    return image[:, :, top:top + height, left:left + width]


def _crop_sizes(image, new_shape) -> tuple[int, int, int, int]:
    return image.shape[2], image.shape[3], int(new_shape[2]), int(new_shape[3])


def _shifted(down: int, right: int):
    def predict(image, new_shape):
        rows, columns, height, width = _crop_sizes(image, new_shape)
        return _window(image, rows // 2 - height // 2 + down, columns // 2 - width // 2 + right, height, width)

    return predict


_OFF_BY_ONE = tuple(_shifted(down, right) for down in (-1, 0, 1) for right in (-1, 0, 1) if (down, right) != (0, 0))


def _halves_the_difference(image, new_shape) -> torch.Tensor:
    rows, columns, height, width = _crop_sizes(image, new_shape)
    return _window(image, (rows - height) // 2, (columns - width) // 2, height, width)


def _rounded_difference(image, new_shape):
    rows, columns, height, width = _crop_sizes(image, new_shape)
    return _window(image, round((rows - height) / 2), round((columns - width) / 2), height, width)


def _rounded_halves(image, new_shape):
    rows, columns, height, width = _crop_sizes(image, new_shape)
    return _window(image, round(rows / 2 - height / 2), round(columns / 2 - width / 2), height, width)


_PYTHON_ROUND = (_rounded_difference, _rounded_halves)


def _top_left(image, new_shape) -> torch.Tensor:
    return _window(image, 0, 0, int(new_shape[2]), int(new_shape[3]))


def _sized_by(height_axis: int, width_axis: int):
    def predict(image, new_shape):
        return reference_crop(image, (0, 0, int(new_shape[height_axis]), int(new_shape[width_axis])))

    return predict


_WRONG_AXES = (_sized_by(1, 2), _sized_by(0, 1))
_height_and_width_swapped = _sized_by(3, 2)


CROP = (
    Misconception("crop.top_left_window", (
        "Your crop returns the top-left corner of the image, not its centre. The expanding path "
        "joins each skip to the upsampled map pixel for pixel, and the pixels that line up are the "
        "central ones: the valid convolutions ate the same margin from every side. Reread Task 1: "
        "the window starts at H // 2 - h // 2 rows and W // 2 - w // 2 columns."), (_top_left,)),
    Misconception("crop.start_off_by_one", (
        "Your window is one pixel away from the centre, in rows, columns or both. A one-pixel "
        "shift still has the right shape, so the visible shape test cannot see it, but every "
        "joined feature is then misaligned by a pixel. Reread Task 1's rule for the start, "
        "H // 2 - h // 2, and check it on a 7-row image cropped to 4 rows (the start is 1)."), _OFF_BY_ONE,
        fallback=True),
    Misconception("crop.halves_the_difference", (
        "Your window starts at (H - h) // 2. That agrees with the assignment's H // 2 - h // 2 "
        "whenever H - h is even, and is one pixel off when H is even and h odd: the two "
        "roundings fall on different sides. The U-Net's own shapes hit that case, so reread "
        "the comment in Task 1 on why the start is written H // 2 - h // 2."), (_halves_the_difference,)),
    Misconception("crop.python_round", (
        "Your window start is rounded with Python's round(), which rounds halves to the nearest "
        "even number (round(2.5) == 2, round(3.5) == 4): the centre then jumps between two "
        "conventions from one size to the next. The assignment floors with integer division, "
        "H // 2 - h // 2; reread Task 1."), _PYTHON_ROUND),
    Misconception("crop.height_and_width_swapped", (
        "Your crop uses the target's width as its height and its height as its width. Square "
        "tests cannot see this; the U-Net crops non-square maps too. In (N, C, H, W) the height "
        "is new_shape[2] and the width new_shape[3]; reread Task 1."), (_height_and_width_swapped,)),
    Misconception("crop.wrong_axes_of_new_shape", (
        "Your crop reads its height and width from the wrong positions of new_shape (the batch "
        "or channel sizes). new_shape is a whole (N, C, H, W) shape, often another tensor's "
        ".shape, and only its last two entries are the window's size; reread Task 1."), _WRONG_AXES),
)


# -- Task 2: contracting block -------------------------------------------------------------------
def _contracting_weights(weights: Weights, channels: int):
    return (*weights.conv(2 * channels, channels, 3, 3), *weights.conv(2 * channels, 2 * channels, 3, 3))


def _contracting(first_activation=relu, second_activation=relu, pool=None, padding=0, shapes=None):
    pool = pool or (lambda x: max_pool2d(x, kernel_size=2, stride=2))

    def predict(weights: Weights, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        first_weight, first_bias, second_weight, second_bias = (
            shapes(weights, channels) if shapes else _contracting_weights(weights, channels))
        hidden = first_activation(conv2d(x, first_weight, first_bias, padding=padding))
        return pool(second_activation(conv2d(hidden, second_weight, second_bias, padding=padding)))

    return predict


def _identity(x):
    return x


def _leaky_relu_tenth(x):
    return leaky_relu(x, 0.1)


def _doubles_late(weights: Weights, channels: int):
    return (*weights.conv(channels, channels, 3, 3), *weights.conv(2 * channels, channels, 3, 3))


def _has_normalisation_or_dropout(layers) -> bool:
    return any(NORMALISATION_OR_DROPOUT & set(layer.bases) for layer in layers)


def _convolutions_without_bias(layers, parameter_names) -> bool:
    convolutions = [layer for layer in layers if layer.is_a("Conv2d")]
    return bool(convolutions) and all(layer.parameter("bias") not in parameter_names for layer in convolutions)


CONTRACTING = (
    Misconception("contracting_block.missing_first_relu", (
        "Your block has no ReLU after its first convolution, so two convolutions in a row act as "
        "one larger linear filter: the block loses half its depth. Each 3x3 convolution is "
        "followed by its own ReLU; reread Task 2."), (_contracting(first_activation=_identity),)),
    Misconception("contracting_block.missing_second_relu", (
        "Your block has no ReLU after its second convolution: the max-pool then sees negative "
        "responses that the design clips away, and the next block receives a linear map of "
        "this one's. Each 3x3 convolution is followed by its own ReLU; reread Task 2."),
        (_contracting(second_activation=_identity),)),
    Misconception("contracting_block.other_activation", (
        "Your block uses another activation (LeakyReLU or ELU) where the U-Net uses ReLU. It "
        "may train as well, but it is not the architecture of the paper the assignment "
        "follows, and the checks compare against that. Reread Task 2's description."),
        tuple(_contracting(activation, activation) for activation in (leaky_relu, elu, _leaky_relu_tenth))),
    Misconception("contracting_block.pool_stride_1", (
        "Your max-pool moves one pixel at a time (stride 1), so it barely shrinks the map: the "
        "contracting path must halve height and width at every level, which takes a 2x2 "
        "window with stride 2. Reread Task 2 and the shapes in its docstring."),
        (_contracting(pool=lambda x: max_pool2d(x, kernel_size=2, stride=1)),)),
    Misconception("contracting_block.average_pooling", (
        "Your block averages each 2x2 window instead of taking its maximum. Max-pooling keeps "
        "the strongest response of a feature wherever it sits in the window, which is what the "
        "U-Net's contracting path uses; reread Task 2."),
        (_contracting(pool=lambda x: avg_pool2d(x, kernel_size=2, stride=2)),)),
    Misconception("contracting_block.padded_convolutions", (
        "Your convolutions are padded, so they keep the map's size. The U-Net uses valid "
        "(unpadded) convolutions, each losing a one-pixel border, so that no output pixel "
        "depends on made-up zeros; that is also why the expanding path must crop its skips. "
        "Reread Task 2: each 3x3 convolution makes H and W smaller by 2."),
        (_contracting(padding=1),)),
    Misconception("contracting_block.doubles_in_the_second_conv", (
        "Your block doubles the channels in its second convolution instead of its first. The "
        "output shape is the same, but the first convolution then works at the narrow width "
        "and the block has fewer parameters than the design. Reread Task 2: the first 3x3 "
        "convolution goes from C to 2C channels, the second from 2C to 2C."),
        (_contracting(shapes=_doubles_late),)),
    Misconception("contracting_block.normalisation_or_dropout", (
        "Your block adds a normalisation or dropout layer. Those are good ideas the original "
        "U-Net did not use, and the assignment asks for the original block: two valid 3x3 "
        "convolutions with ReLU, then a 2x2 max-pool. Reread Task 2."),
        shows_in=lambda module, arguments: _has_normalisation_or_dropout(module.layers)),
    Misconception("contracting_block.convolutions_without_bias", (
        "Your convolutions have no bias (bias=False). That is usual before a normalisation "
        "layer, which this U-Net does not have; without one, each channel needs its bias to "
        "shift where its ReLU cuts. Reread Task 2 and leave nn.Conv2d's default bias on."),
        shows_in=lambda module, arguments: _convolutions_without_bias(module.layers, module.parameter_shapes)),
)


# -- Task 3: expanding block ---------------------------------------------------------------------
def _expanding(mode="bilinear", align_corners=True, relu_after_up=False, last_activation=relu,
               skip_first=False, skip_window=reference_crop, transposed=False, keeps_channels=False,
               crop_the_upsampled=False):
    def predict(weights: Weights, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        channels, half = x.shape[1], x.shape[1] // 2
        if transposed:
            up_weight, up_bias = weights.conv(channels, half, 2, 2)
            upsampled = conv_transpose2d(x, up_weight, up_bias, stride=2)
        else:
            up_weight, up_bias = weights.conv(half, channels, 2, 2)
            scaled = interpolate(x, scale_factor=2, mode=mode,
                                 **({} if mode == "nearest" else {"align_corners": align_corners}))
            upsampled = conv2d(scaled, up_weight, up_bias)
        if relu_after_up:
            upsampled = relu(upsampled)
        if crop_the_upsampled:
            joined = [reference_crop(upsampled, skip.shape), skip]
        else:
            joined = [upsampled, skip_window(skip, upsampled.shape)]
        hidden = relu(conv2d(torch.cat(joined[::-1] if skip_first else joined, dim=1),
                             *weights.conv(half, channels, 3, 3)))
        last = weights.conv(channels if keeps_channels else half, half, 3, 3)
        return last_activation(conv2d(hidden, *last))

    return predict


EXPANDING = (
    Misconception("expanding_block.nearest_upsampling", (
        "Your block upsamples by repeating pixels (nearest neighbour). The assignment uses "
        "bilinear interpolation with align_corners=True, which draws smooth ramps between the "
        "coarse values, before the 2x2 convolution halves the channels. Reread Task 3's "
        "first step."), (_expanding(mode="nearest"),)),
    Misconception("expanding_block.align_corners_false", (
        "Your bilinear upsampling uses align_corners=False. Both settings double the size, but "
        "they place the new pixels differently: with align_corners=True the corner pixels of "
        "the input and output coincide, which is the convention the assignment fixes. Reread "
        "Task 3's first step."), (_expanding(align_corners=False),)),
    Misconception("expanding_block.relu_after_2x2_conv", (
        "Your block puts a ReLU after the 2x2 convolution that follows the upsampling. In the "
        "design that convolution only halves the channels ('up-convolution'); the ReLUs come "
        "after the two 3x3 convolutions. Reread Task 3's order of steps."), (_expanding(relu_after_up=True),)),
    Misconception("expanding_block.missing_last_relu", (
        "Your block returns the second 3x3 convolution without its ReLU. Every 3x3 convolution "
        "in the U-Net is followed by a ReLU, the last one of the block included; only the final "
        "1x1 feature map of the whole network has none. Reread Task 3."),
        (_expanding(last_activation=_identity),)),
    Misconception("expanding_block.concatenation_order", (
        "Your block joins the maps as [skip, upsampled] instead of [upsampled, skip]. The "
        "shapes agree either way, so only the values can tell: the first 3x3 convolution's "
        "weights are laid out for the upsampled channels first. Reread Task 3: "
        "torch.cat([x, cropped_skip], dim=1)."), (_expanding(skip_first=True),)),
    Misconception("expanding_block.skip_cropped_at_a_corner", (
        "Your block cuts the skip connection's top-left corner instead of its centre, so the "
        "joined features do not line up with the upsampled ones. Use your centre crop from "
        "Task 1 on the skip; reread Task 3."),
        (_expanding(skip_window=lambda skip, shape: _top_left(skip, shape)),)),
    Misconception("expanding_block.crops_the_upsampled_map", (
        "Your block crops the upsampled map to the skip's size instead of cropping the skip to "
        "the upsampled map's. The skip comes from higher up the contracting path and is the "
        "larger of the two; it is the one to cut down. Reread Task 3: "
        "crop(skip_con_x, x.shape)."), (_expanding(crop_the_upsampled=True),)),
    Misconception("expanding_block.transposed_convolution", (
        "Your block upsamples with a transposed convolution. That is a fine way to upsample, "
        "and the original paper's figure can be read that way, but this assignment fixes "
        "bilinear upsampling followed by a 2x2 convolution, which changes the output's size "
        "(2H - 1 before the 3x3 convolutions). Reread Task 3's first step."), (_expanding(transposed=True),)),
    Misconception("expanding_block.keeps_the_channels", (
        "Your block's last 3x3 convolution keeps C channels instead of halving to C/2: the "
        "expanding path must halve the width at every level so that the next skip connection "
        "(C/4 channels) fits. Reread Task 3's shapes."), (_expanding(keeps_channels=True),)),
)


# -- Task 4: feature-map block -------------------------------------------------------------------
def _feature_map_weights(weights: Weights, x: torch.Tensor, kernel: int):
    shapes = {shape for shape in (tuple(v.shape) for v in weights.values.values())
              if len(shape) == 4 and shape[1:] == (x.shape[1], kernel, kernel)}
    if len(shapes) != 1:
        raise NotThisMistake(f"no {kernel}x{kernel} weight")
    return weights.conv(*shapes.pop())


def _feature_map(kernel: int = 1, padding: int = 0, activation=_identity):
    def predict(weights: Weights, x: torch.Tensor) -> torch.Tensor:
        return activation(conv2d(x, *_feature_map_weights(weights, x, kernel), padding=padding))

    return predict


FEATURE_MAP = (
    Misconception("feature_map_block.three_by_three_kernel", (
        "Your feature-map block uses a 3x3 kernel. It only has to map channels to channels at "
        "each pixel, which a 1x1 convolution does without mixing neighbours (and, unpadded, "
        "without shrinking the map). Reread Task 4."),
        tuple(_feature_map(kernel=3, padding=padding) for padding in (0, 1))),
    Misconception("feature_map_block.activation_added", (
        "Your feature-map block applies an activation after its convolution. At the end of the "
        "network that turns the logits the loss expects into something else (the loss, "
        "BCEWithLogitsLoss, applies the sigmoid itself); the block is a bare 1x1 convolution. "
        "Reread Task 4."),
        tuple(_feature_map(activation=activation) for activation in (relu, torch.sigmoid, torch.tanh))),
)


# -- Task 5: U-Net --------------------------------------------------------------------------------
def _unet(skip_order=(3, 2, 1, 0), output=_identity, last_feature_map=True):
    """The U-Net's forward from (up, contracting blocks, expanding blocks, down); ``skip_order`` is
    the contracting level each expanding block receives (0: the input's feature map)."""

    def predict(blocks, x: torch.Tensor) -> torch.Tensor:
        up, contract, expand, down = blocks
        skips = [up(x)]
        for block in contract:
            skips.append(block(skips[-1]))
        x = skips.pop()
        for block, level in zip(expand, skip_order):
            x = block(x, skips[level])
        return output(down(x) if last_feature_map else x)

    return predict


#: The design's forward, from the blocks ``grader.diagnosis`` rebuilds from the student's model.
UNET_FORWARD = _unet()
_WRONG_LEVELS = tuple(_unet(skip_order=order) for order in itertools.permutations(range(4)) if order != (3, 2, 1, 0))


def _ignores_hidden_channels(model, hidden: int) -> bool:
    widths = {layer.widths.get("input_channels") for layer in model.layers if layer.type == "StandInContractingBlock"}
    return hidden != 64 and widths == {64, 128, 256, 512}


UNET = (
    Misconception("unet.activation_on_output", (
        "Your U-Net applies an activation (sigmoid or ReLU) to its output. The network returns "
        "raw logits: the training loss (BCEWithLogitsLoss) applies the sigmoid itself, in a "
        "numerically safer way, and predictions apply it when they need probabilities. Reread "
        "Task 5."), (_unet(output=torch.sigmoid), _unet(output=relu))),
    Misconception("unet.skips_at_wrong_levels", (
        "Your U-Net joins a skip connection at the wrong level. Each expanding block must "
        "receive the map from the contracting level of the same depth (the deepest skip to the "
        "first expanding block, the feature map of the input to the last), which is what makes "
        "the U shape. Reread Task 5 and the architecture figure."), _WRONG_LEVELS),
    Misconception("unet.missing_last_feature_map", (
        "Your U-Net returns the last expanding block's output without the final 1x1 "
        "feature-map block, so it outputs hidden_channels maps instead of output_channels "
        "logits. Reread Task 5: the network ends with FeatureMapBlock(hidden_channels, "
        "output_channels)."), (_unet(last_feature_map=False),)),
    Misconception("unet.ignores_hidden_channels", (
        "Your U-Net's widths are fixed at 64, 128, ... whatever hidden_channels says. Every "
        "width in the network is a multiple of hidden_channels, which is how the notebook "
        "trains a small U-Net on a CPU and the paper's on a GPU. Reread Task 5."),
        shows_in=lambda model, arguments: _ignores_hidden_channels(model, hidden=arguments[2])),
)

CATALOGUE: dict[str, tuple[Misconception, ...]] = {
    "crop": CROP, "contracting_block": CONTRACTING, "expanding_block": EXPANDING,
    "feature_map_block": FEATURE_MAP, "unet": UNET,
}
BY_ID: dict[str, Misconception] = {m.id: m for ms in CATALOGUE.values() for m in ms}
