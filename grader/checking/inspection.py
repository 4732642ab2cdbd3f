"""Look inside a student's module, as the probe describes it, without trusting attribute names.

The description is the student's process's word; the value checks do not depend on it. A
module found here is only used to decide *which* of our parameter values an oracle uses.
"""

from __future__ import annotations

import torch

from grader.checking.remote import Layer, RemoteModule

NORMALISATION_OR_DROPOUT = {"_BatchNorm", "GroupNorm", "LayerNorm", "_InstanceNorm", "_DropoutNd"}


def convolutions(module: RemoteModule) -> list[Layer]:
    return [layer for layer in module.layers if layer.is_a("Conv2d")]


def conv_with_weight_shape(module: RemoteModule, shape: tuple[int, ...], role: str) -> Layer:
    """The one convolution whose weight has ``shape``; the assertion says which layer is missing."""
    found = [module.parameter_shapes.get(conv.parameter("weight")) for conv in convolutions(module)]
    matches = [conv for conv, weight in zip(convolutions(module), found) if weight == shape]
    assert len(matches) == 1, (
        f"expected one convolution for the {role} with weight shape {shape} "
        f"(out, in, kH, kW), found weight shapes {found}"
    )
    return matches[0]


def conv_values(values: dict[str, torch.Tensor], conv: Layer) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Our weight and bias values for ``conv`` (no bias if the student's layer has none)."""
    return values[conv.parameter("weight")], values.get(conv.parameter("bias"))


def random_input(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def largest_difference(actual: torch.Tensor, expected: torch.Tensor) -> float:
    return float((actual.detach().double() - expected.detach().double()).abs().max())


#: How wide a band "the border" is when telling where outputs differ: a padding or crop mistake shows there.
BORDER_PIXELS = 2
#: On smaller maps most pixels are border pixels, so "at the border" would say nothing.
SMALLEST_MAP_WITH_A_BORDER = 12


def where_they_differ(actual: torch.Tensor, expected: torch.Tensor, threshold: float) -> str:
    """Which channels of an (N, C, H, W) output differ, and whether at the border or inside."""
    wrong = (actual.detach().double() - expected.detach().double()).abs() > threshold
    if wrong.dim() != 4:
        return f"{int(wrong.sum())} of {wrong.numel()} values differ"
    channels = [c for c in range(wrong.shape[1]) if wrong[:, c].any()]
    which = "every channel" if len(channels) == wrong.shape[1] else (
        f"channel{'s' if len(channels) > 1 else ''} {', '.join(map(str, channels))} of {wrong.shape[1]}")
    share = float(wrong.double().mean())
    if min(wrong.shape[2:]) < SMALLEST_MAP_WITH_A_BORDER:
        return f"{which} ({share:.0%} of the values)"
    inside = wrong[:, :, BORDER_PIXELS:-BORDER_PIXELS, BORDER_PIXELS:-BORDER_PIXELS]
    where = (f"only within {BORDER_PIXELS} pixels of the border" if not inside.any()
             else "across the whole map" if share > 0.5 else "inside the map")
    return f"{which}, {where} ({share:.0%} of the values)"


#: Float64 computations of the same values agree to ~1e-15 of their size; any mistake moves them by far more.
RELATIVE_TOLERANCE = 1e-6


def allowed_difference(expected: torch.Tensor) -> float:
    """The one rule, for the hidden checks and the diagnosis alike: a millionth of the largest value, plus one."""
    return RELATIVE_TOLERANCE * ((float(expected.detach().abs().max()) if expected.numel() else 0.0) + 1.0)


def close_enough(actual: torch.Tensor, expected: torch.Tensor) -> bool:
    """The same shape and values within ``allowed_difference``."""
    return tuple(actual.shape) == tuple(expected.shape) and (
        expected.numel() == 0 or largest_difference(actual, expected) <= allowed_difference(expected))


def assert_same_values(actual: torch.Tensor, expected: torch.Tensor, what: str) -> None:
    assert tuple(actual.shape) == tuple(expected.shape), (
        f"{what}: expected shape {tuple(expected.shape)}, got {tuple(actual.shape)}"
    )
    assert close_enough(actual, expected), (
        f"{what}: values differ from the expected computation with your own layers in "
        f"{where_they_differ(actual, expected, allowed_difference(expected))} "
        f"(largest difference {largest_difference(actual, expected):.3g})"
    )


def assert_no_normalisation_or_dropout(module: RemoteModule, design: str) -> None:
    extra = sorted({layer.type for layer in module.layers if NORMALISATION_OR_DROPOUT & set(layer.bases)})
    assert not extra, f"the {design} has no {', '.join(extra)}: remove it"


def assert_every_parameter_gets_a_gradient(module: RemoteModule, *inputs: torch.Tensor) -> list:
    """Backpropagate sum(output²); return the inputs' gradients for further checks."""
    starved, input_gradients = module.backward(*inputs)
    assert not starved, f"these parameters get no gradient, so they never learn: {starved}"
    return input_gradients


def assert_valid_convolutions(module: RemoteModule) -> None:
    for conv in convolutions(module):
        settings = conv.conv
        assert (settings["padding"] in ([0, 0], "valid") and settings["stride"] == [1, 1]
                and settings["dilation"] == [1, 1]), (
            f"a convolution with kernel {tuple(settings['kernel_size'])} has padding {settings['padding']}, "
            f"stride {settings['stride']}, dilation {settings['dilation']}; the U-Net uses valid "
            "convolutions: no padding, stride 1"
        )
