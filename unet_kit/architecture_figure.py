"""The assignment's U-Net drawn from its own arithmetic: every size is computed, none copied.

Each feature map is a bar: its height follows its side length, its width its channel count,
and it is labelled with both. Arrows show the five operations. Another input size or width
redraws a correct figure, which is the point: the shapes in the tasks come from these rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, Rectangle

CONTRACTING_BLOCKS = 4
CONVOLUTION, POOLING, UPSAMPLING, SKIP, POINTWISE = (
    "3x3 convolution + ReLU", "2x2 max pooling", "upsample x2 + 2x2 convolution", "copy and crop",
    "1x1 convolution")
COLOURS = {CONVOLUTION: "#1f77b4", POOLING: "#d62728", UPSAMPLING: "#2ca02c", SKIP: "#7f7f7f",
           POINTWISE: "#17becf"}


@dataclass(frozen=True)
class FeatureMap:
    level: int  # 0 at the top, CONTRACTING_BLOCKS at the bottom
    side: int
    channels: int
    made_by: str  # the operation that produced it ("" for the input)


def feature_maps(input_side: int, hidden_channels: int, input_channels: int = 1,
                 output_channels: int = 1) -> list[FeatureMap]:
    """Every feature map of the notebook's U-Net, in the order the forward pass makes them."""
    maps = [FeatureMap(0, input_side, input_channels, ""),
            FeatureMap(0, input_side, hidden_channels, POINTWISE)]
    side, channels = input_side, hidden_channels
    for level in range(CONTRACTING_BLOCKS):
        channels *= 2
        maps += [FeatureMap(level, side - 2, channels, CONVOLUTION), FeatureMap(level, side - 4, channels, CONVOLUTION)]
        side = (side - 4) // 2
        maps.append(FeatureMap(level + 1, side, channels, POOLING))
    for level in reversed(range(CONTRACTING_BLOCKS)):
        side = 2 * side - 1  # upsampling doubles, the 2x2 convolution takes one off
        maps.append(FeatureMap(level, side, channels, UPSAMPLING))  # joined with the cropped skip
        channels //= 2
        maps += [FeatureMap(level, side - 2, channels, CONVOLUTION), FeatureMap(level, side - 4, channels, CONVOLUTION)]
        side -= 4
    maps.append(FeatureMap(0, side, output_channels, POINTWISE))
    return maps


def draw_unet_architecture(input_side: int = 512, hidden_channels: int = 64) -> plt.Figure:
    """The notebook's U-Net for an ``input_side`` input and width ``hidden_channels``, to scale."""
    maps = feature_maps(input_side, hidden_channels)
    figure, axes = plt.subplots(figsize=(13, 6.5))
    height_per_pixel, level_gap, step = 1.05 / input_side, 1.35, 0.55

    def top(level: int) -> float:
        return -level * level_gap

    def width(channels: int) -> float:
        return 0.06 + 0.04 * (channels / hidden_channels) ** 0.5

    def arrow(start, end, operation):
        axes.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9, lw=1.3,
                                       color=COLOURS[operation], shrinkA=0, shrinkB=0))

    # The skip of each level leaves from the right of the last contracting-path bar there.
    x, previous, skip_source, expanding = 0.0, None, {}, False
    for feature_map in maps:
        going_down, going_up = feature_map.made_by == POOLING, feature_map.made_by == UPSAMPLING
        expanding = expanding or going_up
        x = previous[0] if going_down else x + (step if previous else 0)
        y, bar_height = top(feature_map.level), feature_map.side * height_per_pixel
        axes.add_patch(Rectangle((x, y - bar_height), width(feature_map.channels), bar_height,
                                 facecolor="#deebf7", edgecolor="black", lw=0.6))
        axes.text(x + width(feature_map.channels) / 2, y + 0.04, str(feature_map.channels), ha="center",
                  va="bottom", fontsize=7)
        axes.text(x - 0.02, y - bar_height / 2, f"{feature_map.side}²", ha="right", va="center", fontsize=6,
                  rotation=90)
        if previous is not None:
            previous_x, previous_y, previous_width, previous_height = previous
            if going_down:
                arrow((x + 0.03, previous_y - previous_height - 0.03), (x + 0.03, y + 0.12), POOLING)
            elif going_up:
                arrow((previous_x + previous_width, previous_y - 0.1), (x, y - 0.1), UPSAMPLING)
                arrow((skip_source[feature_map.level], y - 0.3), (x, y - 0.3), SKIP)
            else:
                arrow((previous_x + previous_width, y - 0.1), (x, y - 0.1), feature_map.made_by)
        if not expanding:
            skip_source[feature_map.level] = x + width(feature_map.channels)
        previous = (x, y, width(feature_map.channels), bar_height)
    for operation, colour in COLOURS.items():
        axes.plot([], [], color=colour, lw=2, label=operation)
    axes.legend(loc="lower right", fontsize=8, frameon=False)
    axes.set_xlim(-0.4, x + 0.5)
    axes.set_ylim(top(CONTRACTING_BLOCKS) - 0.6, 0.4)
    axes.set_axis_off()
    axes.set_title(f"The U-Net of this notebook for a {input_side} x {input_side} input, hidden_channels="
                   f"{hidden_channels}: the output is {maps[-1].side} x {maps[-1].side}", fontsize=10)
    figure.tight_layout()
    return figure

