"""The mistakes students make in each task: a stable id, an explanation, and an oracle of its output.

A misconception oracle computes, with ``torch.nn.functional``, what the mistaken code would
return from the same inputs and the student's own weights, the way ``grader.checking.reference``
computes the right answer. It may return several variants (nearest upsampling has one
spelling, Python's round two), and a mistake that makes the code fail is predicted by the
error it raises. Mistakes that only the layers show (a normalisation layer, no biases) are
recognised from the module's description instead.

Some mistakes come in families. A variant may have a free parameter (``FreeParameter``: a
LeakyReLU of whatever slope the student chose), fitted to the student's answer before it is
compared. A crop's window start is a rule per axis (``Misconception.window_starts``), so the
rows and the columns are judged on their own: one axis may halve the difference while the
other is right.

``grader.checking.diagnosis`` runs these when a task's hidden checks fail and names the misconceptions
whose prediction the student's output matches; correct code never matches one, because a
prediction that equals the right answer is not evidence of anything.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

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

from grader.checking.inspection import NORMALISATION_OR_DROPOUT
from grader.checking.misconception_feedback import EXPLANATIONS, explanation
from grader.checking.reference import reference_crop, unet_forward


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

    def transposed_conv(self, *shape: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A transposed convolution's weight, shaped (in, out, kH, kW), and its bias."""
        return self.conv(*shape)


@dataclass(frozen=True)
class FreeParameter:
    """A variant made with a number the student chose (a LeakyReLU's slope).

    Called like any other variant it predicts with ``typical`` (PyTorch's default), which is all
    a reader without the student's answer can do; the diagnosis fits the value to the answer,
    starting from ``typical``. ``predict_with(value)`` is the variant for ``value``,
    ``describe(value)`` the words that fill ``{placeholder}`` in the explanation, and a value
    ``admits`` refuses is never named (a slope of 1 is no activation at all).
    """

    placeholder: str
    predict_with: Callable[[float], Callable[..., torch.Tensor]]
    describe: Callable[[float], str]
    typical: float
    admits: Callable[[float], bool] = lambda value: True

    def __call__(self, *arguments) -> torch.Tensor:
        return self.predict_with(self.typical)(*arguments)


#: Where a crop's window starts on one axis, from the image's size and the window's on that axis.
AxisStart = Callable[[int, int], int]


@dataclass(frozen=True)
class Misconception:
    """One mistake, recognised by its output or by its layers.

    ``predicts`` are the variants of the mistaken output, each called with the arguments the
    task's diagnosis gives (the crop's image and shape; a block's weights and inputs; the
    U-Net's blocks and input); a ``FreeParameter`` among them is fitted to the student's answer.
    ``window_starts`` are a crop mistake's rules for one axis: its ``predicts`` make the
    mistake on both axes, the diagnosis judges each axis on its own. ``shows_in(module,
    build_arguments)`` recognises a mistake that only the module's description shows.
    """

    id: str
    predicts: tuple[Callable[..., torch.Tensor] | FreeParameter, ...] = ()
    shows_in: Callable[..., bool] | None = None
    fallback: bool = False  # named only when nothing more specific explains the same answer: it is the vaguer one
    window_starts: tuple[AxisStart, ...] = ()

    @property
    def task(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def explanation(self) -> str:
        """The paragraph the student reads, from ``misconceptions.toml``, in its general words."""
        return EXPLANATIONS[self.id]

    def explained(self, specifics: dict[str, str]) -> str:
        """The paragraph with what was read from one student's answer (``{"axes": "rows"}``)."""
        return explanation(self.id, specifics)


# -- Task 1: crop ---------------------------------------------------------------------------------
def _window(image: torch.Tensor, top: int, left: int, height: int, width: int) -> torch.Tensor:
    """``image[..., top:top + height, left:left + width]`` as Python slicing gives it, negatives included."""
    return image[:, :, top:top + height, left:left + width]


def _crop_sizes(image, new_shape) -> tuple[int, int, int, int]:
    return image.shape[2], image.shape[3], int(new_shape[2]), int(new_shape[3])


def _starting_at(start: AxisStart):
    """The crop that uses ``start`` for its rows and for its columns."""
    def predict(image, new_shape):
        rows, columns, height, width = _crop_sizes(image, new_shape)
        return _window(image, start(rows, height), start(columns, width), height, width)

    return predict


def _at_the_edge(size: int, new_size: int) -> int:
    return 0


def _off_centre_by(pixels: int) -> AxisStart:
    def start(size: int, new_size: int) -> int:
        return size // 2 - new_size // 2 + pixels

    return start


def _halves_the_difference(size: int, new_size: int) -> int:
    return (size - new_size) // 2


def _rounded_difference(size: int, new_size: int) -> int:
    return round((size - new_size) / 2)


def _rounded_halves(size: int, new_size: int) -> int:
    return round(size / 2 - new_size / 2)


def _window_start_mistake(id: str, *starts: AxisStart, fallback: bool = False) -> Misconception:
    """A mistake in where the window starts: predicted on both axes, judged by the diagnosis on each alone."""
    return Misconception(id, tuple(_starting_at(start) for start in starts), fallback=fallback, window_starts=starts)


_top_left = _starting_at(_at_the_edge)


def _sized_by(height_axis: int, width_axis: int):
    def predict(image, new_shape):
        return reference_crop(image, (0, 0, int(new_shape[height_axis]), int(new_shape[width_axis])))

    return predict


_WRONG_AXES = (_sized_by(1, 2), _sized_by(0, 1))
_height_and_width_swapped = _sized_by(3, 2)


CROP = (
    _window_start_mistake("crop.top_left_window", _at_the_edge),
    _window_start_mistake("crop.start_off_by_one", _off_centre_by(-1), _off_centre_by(1), fallback=True),
    _window_start_mistake("crop.halves_the_difference", _halves_the_difference),
    _window_start_mistake("crop.python_round", _rounded_difference, _rounded_halves),
    Misconception("crop.height_and_width_swapped", (_height_and_width_swapped,)),
    Misconception("crop.wrong_axes_of_new_shape", _WRONG_AXES),
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


def _both_activations(activation):
    return _contracting(activation, activation)


#: nn.LeakyReLU(s) or F.leaky_relu(x, s) of any slope s; a slope of 1 is no activation at all.
_LEAKY_RELU_OF_ANY_SLOPE = FreeParameter(
    "activation", lambda slope: _both_activations(partial(leaky_relu, negative_slope=slope)),
    lambda slope: f"a LeakyReLU (slope {slope:.3g})", typical=0.01, admits=lambda slope: abs(slope - 1) > 1e-3)
_ELU_OF_ANY_ALPHA = FreeParameter(
    "activation", lambda alpha: _both_activations(partial(elu, alpha=alpha)),
    lambda alpha: f"an ELU (alpha {alpha:.3g})", typical=1.0)


def _doubles_late(weights: Weights, channels: int):
    return (*weights.conv(channels, channels, 3, 3), *weights.conv(2 * channels, channels, 3, 3))


def _has_normalisation_or_dropout(module, build_arguments) -> bool:
    return any(NORMALISATION_OR_DROPOUT & set(layer.bases) for layer in module.layers)


def _convolutions_without_bias(module, build_arguments) -> bool:
    convolutions = [layer for layer in module.layers if layer.is_a("Conv2d")]
    return bool(convolutions) and all(layer.parameter("bias") not in module.parameter_shapes for layer in convolutions)


CONTRACTING = (
    Misconception("contracting_block.missing_first_relu", (_contracting(first_activation=_identity),)),
    Misconception("contracting_block.missing_second_relu", (_contracting(second_activation=_identity),)),
    Misconception("contracting_block.other_activation", (_LEAKY_RELU_OF_ANY_SLOPE, _ELU_OF_ANY_ALPHA)),
    Misconception("contracting_block.pool_stride_1", (_contracting(pool=lambda x: max_pool2d(x, kernel_size=2, stride=1)),)),
    Misconception("contracting_block.average_pooling", (_contracting(pool=lambda x: avg_pool2d(x, kernel_size=2, stride=2)),)),
    Misconception("contracting_block.padded_convolutions", (_contracting(padding=1),)),
    Misconception("contracting_block.doubles_in_the_second_conv", (_contracting(shapes=_doubles_late),)),
    Misconception("contracting_block.normalisation_or_dropout", shows_in=_has_normalisation_or_dropout),
    Misconception("contracting_block.convolutions_without_bias", shows_in=_convolutions_without_bias),
)


# -- Task 3: expanding block ---------------------------------------------------------------------
def _expanding(mode="bilinear", align_corners=True, relu_after_up=False, last_activation=relu,
               skip_first=False, skip_window=reference_crop, transposed=False, keeps_channels=False,
               crop_the_upsampled=False):
    def predict(weights: Weights, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        channels, half = x.shape[1], x.shape[1] // 2
        if transposed:
            up_weight, up_bias = weights.transposed_conv(channels, half, 2, 2)
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
    Misconception("expanding_block.nearest_upsampling", (_expanding(mode="nearest"),)),
    Misconception("expanding_block.align_corners_false", (_expanding(align_corners=False),)),
    Misconception("expanding_block.relu_after_2x2_conv", (_expanding(relu_after_up=True),)),
    Misconception("expanding_block.missing_last_relu", (_expanding(last_activation=_identity),)),
    Misconception("expanding_block.concatenation_order", (_expanding(skip_first=True),)),
    Misconception("expanding_block.skip_cropped_at_a_corner", (_expanding(skip_window=lambda skip, shape: _top_left(skip, shape)),)),
    Misconception("expanding_block.crops_the_upsampled_map", (_expanding(crop_the_upsampled=True),)),
    Misconception("expanding_block.transposed_convolution", (_expanding(transposed=True),)),
    Misconception("expanding_block.keeps_the_channels", (_expanding(keeps_channels=True),)),
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
    Misconception("feature_map_block.three_by_three_kernel",
                  tuple(_feature_map(kernel=3, padding=padding) for padding in (0, 1))),
    Misconception("feature_map_block.activation_added",
                  tuple(_feature_map(activation=activation) for activation in (relu, torch.sigmoid, torch.tanh))),
)


# -- Task 5: U-Net --------------------------------------------------------------------------------
def _unet(skip_order=(3, 2, 1, 0), output=_identity, last_feature_map=True):
    """The U-Net's forward from (up, contracting blocks, expanding blocks, down), wired otherwise: ``skip_order``
    is the contracting level each expanding block receives (0: the input's feature map)."""

    def predict(blocks, x: torch.Tensor) -> torch.Tensor:
        return output(unet_forward(blocks, x, skip_levels=skip_order, last_feature_map=last_feature_map))

    return predict


_WRONG_LEVELS = tuple(_unet(skip_order=order) for order in itertools.permutations(range(4)) if order != (3, 2, 1, 0))


def _ignores_hidden_channels(model, build_arguments) -> bool:
    hidden = build_arguments[2]  # UNet(input_channels, output_channels, hidden_channels)
    widths = {layer.widths.get("input_channels") for layer in model.layers if layer.type == "StandInContractingBlock"}
    return hidden != 64 and widths == {64, 128, 256, 512}


UNET = (
    Misconception("unet.activation_on_output", (_unet(output=torch.sigmoid), _unet(output=relu))),
    Misconception("unet.skips_at_wrong_levels", _WRONG_LEVELS),
    Misconception("unet.missing_last_feature_map", (_unet(last_feature_map=False),)),
    Misconception("unet.ignores_hidden_channels", shows_in=_ignores_hidden_channels),
)

CATALOGUE: dict[str, tuple[Misconception, ...]] = {
    "crop": CROP, "contracting_block": CONTRACTING, "expanding_block": EXPANDING,
    "feature_map_block": FEATURE_MAP, "unet": UNET,
}
BY_ID: dict[str, Misconception] = {m.id: m for ms in CATALOGUE.values() for m in ms}
