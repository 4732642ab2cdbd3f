"""Look inside a student's module without trusting its attribute names."""

from __future__ import annotations

import torch
from torch import nn

NORMALISATION_OR_DROPOUT = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm,
                            nn.modules.instancenorm._InstanceNorm, nn.modules.dropout._DropoutNd)


def convolutions(module: nn.Module) -> list[nn.Conv2d]:
    return [m for m in module.modules() if isinstance(m, nn.Conv2d)]


def conv_with_weight_shape(module: nn.Module, shape: tuple[int, ...], role: str) -> nn.Conv2d:
    """The one convolution whose weight has ``shape``; the assertion says which layer is missing."""
    matches = [conv for conv in convolutions(module) if tuple(conv.weight.shape) == shape]
    found = [tuple(conv.weight.shape) for conv in convolutions(module)]
    assert len(matches) == 1, (
        f"expected one convolution for the {role} with weight shape {shape} "
        f"(out, in, kH, kW), found weight shapes {found}"
    )
    return matches[0]


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def largest_difference(actual: torch.Tensor, expected: torch.Tensor) -> float:
    return float((actual.detach().double() - expected.detach().double()).abs().max())


def assert_same_values(actual: torch.Tensor, expected: torch.Tensor, what: str,
                       tolerance: float = 1e-6) -> None:
    assert tuple(actual.shape) == tuple(expected.shape), (
        f"{what}: expected shape {tuple(expected.shape)}, got {tuple(actual.shape)}"
    )
    difference = largest_difference(actual, expected)
    scale = float(expected.detach().abs().max()) + 1.0
    assert difference <= tolerance * scale, (
        f"{what}: values differ from the expected computation with your own weights "
        f"(largest difference {difference:.3g})"
    )


def assert_no_normalisation_or_dropout(module: nn.Module, design: str) -> None:
    extra = sorted({type(m).__name__ for m in module.modules() if isinstance(m, NORMALISATION_OR_DROPOUT)})
    assert not extra, f"the {design} has no {', '.join(extra)}: remove it"


def assert_every_parameter_gets_a_gradient(module: nn.Module, output: torch.Tensor) -> None:
    module.zero_grad(set_to_none=True)
    output.double().square().sum().backward()
    starved = [name for name, p in module.named_parameters() if p.grad is None]
    assert not starved, f"these parameters get no gradient, so they never learn: {starved}"


def assert_valid_convolutions(module: nn.Module) -> None:
    for conv in convolutions(module):
        assert conv.padding in ((0, 0), "valid") and conv.stride == (1, 1) and conv.dilation == (1, 1), (
            f"a convolution with kernel {conv.kernel_size} has padding {conv.padding}, stride "
            f"{conv.stride}, dilation {conv.dilation}; the U-Net uses valid convolutions: "
            "no padding, stride 1"
        )
