"""Independent references for the hidden tests, written with ``torch.nn.functional``.

Two uses: functional *oracles* that recompute a block's output from the student's own
weights, and *stand-in blocks* that replace a student's upstream work while a downstream task
is graded, so one mistake costs points in one task only.

The functions are imported by name, not looked up as ``F.interpolate`` at call time: the probe
loads this module before the student's cells run, so a notebook that reassigns
``torch.nn.functional.interpolate`` cannot change the stand-ins.
"""

from __future__ import annotations

import math

import torch
from torch import cat, nn
from torch.nn.functional import conv2d, interpolate, max_pool2d, relu


def reference_crop(image: torch.Tensor, new_shape) -> torch.Tensor:
    """Centre window of (N, C, H, W) with top-left at (H // 2 - h // 2, W // 2 - w // 2)."""
    new_height, new_width = int(new_shape[2]), int(new_shape[3])
    top = image.shape[2] // 2 - new_height // 2
    left = image.shape[3] // 2 - new_width // 2
    return image.narrow(2, top, new_height).narrow(3, left, new_width)


def contracting_oracle(x, first_weight, first_bias, second_weight, second_bias):
    hidden = relu(conv2d(x, first_weight, first_bias))
    return max_pool2d(relu(conv2d(hidden, second_weight, second_bias)), kernel_size=2, stride=2)


def expanding_oracle(x, skip, up_weight, up_bias, first_weight, first_bias, second_weight,
                     second_bias):
    upsampled = interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
    upsampled = conv2d(upsampled, up_weight, up_bias)
    joined = cat([upsampled, reference_crop(skip, upsampled.shape)], dim=1)
    hidden = relu(conv2d(joined, first_weight, first_bias))
    return relu(conv2d(hidden, second_weight, second_bias))


def _conv_parameters(out_channels: int, in_channels: int, kernel: int) -> tuple[nn.Parameter, nn.Parameter]:
    bound = 1 / math.sqrt(in_channels * kernel * kernel)
    weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel, kernel).uniform_(-bound, bound))
    bias = nn.Parameter(torch.empty(out_channels).uniform_(-bound, bound))
    return weight, bias


class StandInContractingBlock(nn.Module):
    """Stands in for the student's ContractingBlock while their UNet is graded."""

    def __init__(self, input_channels: int):
        super().__init__()
        self.input_channels = input_channels
        self.first_weight, self.first_bias = _conv_parameters(2 * input_channels, input_channels, 3)
        self.second_weight, self.second_bias = _conv_parameters(2 * input_channels, 2 * input_channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return contracting_oracle(x, self.first_weight, self.first_bias, self.second_weight,
                                  self.second_bias)


class StandInExpandingBlock(nn.Module):
    """Stands in for the student's ExpandingBlock while their UNet is graded."""

    def __init__(self, input_channels: int):
        super().__init__()
        self.input_channels = input_channels
        half = input_channels // 2
        self.up_weight, self.up_bias = _conv_parameters(half, input_channels, 2)
        self.first_weight, self.first_bias = _conv_parameters(half, input_channels, 3)
        self.second_weight, self.second_bias = _conv_parameters(half, half, 3)

    def forward(self, x: torch.Tensor, skip_con_x: torch.Tensor) -> torch.Tensor:
        return expanding_oracle(x, skip_con_x, self.up_weight, self.up_bias, self.first_weight,
                                self.first_bias, self.second_weight, self.second_bias)


class StandInFeatureMapBlock(nn.Module):
    """Stands in for the student's FeatureMapBlock while their UNet is graded."""

    def __init__(self, input_channels: int, output_channels: int):
        super().__init__()
        self.input_channels, self.output_channels = input_channels, output_channels
        self.weight, self.bias = _conv_parameters(output_channels, input_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return conv2d(x, self.weight, self.bias)


def with_parameters(module: nn.Module, values: dict[str, torch.Tensor], prefix: str) -> nn.Module:
    """``module`` in float64 holding ``values[prefix + "." + name]`` for each of its parameters."""
    module = module.double()
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            parameter.copy_(values[f"{prefix}.{name}" if prefix else name])
    return module


class StandInsNotFound(Exception):
    """A U-Net lacks a block of a width the design needs; the message says which, as a hidden check would."""


def unet_stand_ins(model, values: dict[str, torch.Tensor], input_channels: int, output_channels: int, hidden: int):
    """A U-Net's blocks rebuilt as float64 stand-ins holding its parameter values, found by their widths.

    ``model`` describes its layers (a ``grader.checking.remote.RemoteModule``). Returns the first
    feature map, the four contracting blocks, the four expanding blocks and the last feature map.
    """
    def by_width(kind: type, role: str, widths: list[int]) -> list[nn.Module]:
        found = {layer.widths.get("input_channels"): layer for layer in model.layers if layer.type == kind.__name__}
        if sorted(found, key=str) != sorted(widths, key=str):
            raise StandInsNotFound(
                f"expected {len(widths)} {role} with input channels {widths}, found {sorted(found, key=str)}: build "
                "the U-Net from your block classes and derive every width from hidden_channels")
        return [with_parameters(kind(width), values, found[width].path) for width in widths]

    contract = by_width(StandInContractingBlock, "contracting blocks", [hidden, 2 * hidden, 4 * hidden, 8 * hidden])
    expand = by_width(StandInExpandingBlock, "expanding blocks", [16 * hidden, 8 * hidden, 4 * hidden, 2 * hidden])
    feature_maps = [layer for layer in model.layers if layer.type == StandInFeatureMapBlock.__name__]
    widths = [(layer.widths.get("input_channels"), layer.widths.get("output_channels")) for layer in feature_maps]
    ends = ((input_channels, hidden), (hidden, output_channels))
    if sorted(widths, key=str) != sorted(ends, key=str):
        raise StandInsNotFound(
            f"expected two feature-map blocks, {input_channels} -> {hidden} first and {hidden} -> "
            f"{output_channels} last (input channels -> hidden_channels -> output channels), found {widths}")
    first, last = (with_parameters(StandInFeatureMapBlock(*pair), values, feature_maps[widths.index(pair)].path)
                   for pair in ends)
    return first, contract, expand, last


def unet_forward(blocks, x: torch.Tensor, skip_levels=(3, 2, 1, 0), last_feature_map: bool = True) -> torch.Tensor:
    """The design's wiring of ``unet_stand_ins``'s blocks: skips x3, x2, x1, x0 to expanding blocks 1 to 4, logits out.

    ``skip_levels`` (the contracting level each expanding block receives; 0 is the first feature
    map) and ``last_feature_map`` exist so that the misconceptions can wire it otherwise.
    """
    first, contract, expand, last = blocks
    skips = [first(x)]
    for block in contract:
        skips.append(block(skips[-1]))
    x = skips.pop()
    for block, level in zip(expand, skip_levels):
        x = block(x, skips[level])
    return last(x) if last_feature_map else x


#: What each task's grading replaces in the student's namespace, by the name of its stand-in
#: here: a wrong ``crop`` must not cost points in the expanding block, nor wrong blocks in the U-Net.
UPSTREAM_STAND_INS = {
    "crop": {},
    "contracting_block": {},
    "expanding_block": {"crop": "reference_crop"},
    "feature_map_block": {},
    "unet": {
        "crop": "reference_crop",
        "ContractingBlock": "StandInContractingBlock",
        "ExpandingBlock": "StandInExpandingBlock",
        "FeatureMapBlock": "StandInFeatureMapBlock",
    },
}
