"""The assignment's U-Net drawn from a trace of its forward pass: nothing in it is worked out by hand.

Each bar is a block's output (or the input): its height follows the side, its width the
channels. Each arrow is a tensor that ``forward`` really passed into a block, found by a
``unet_kit.model_trace`` trace, so a skip wired to the wrong level shows up as a wrong arrow.
Before a student has a UNet the figure shows the solution's stored trace; afterwards it can show
the student's own, even when its forward pass raises: the block that failed is a hatched box, and
the arrows into it show what it was given.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import torch
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Rectangle
from torch import nn

from unet_kit.model_trace import INPUT, UNTRACED, Edge, ModelTrace, Producer, load_reference_trace, trace_model

#: What each block does to the map it receives, as the figure's legend says it.
OPERATIONS = {
    "FeatureMapBlock": "FeatureMapBlock: 1x1 convolution",
    "ContractingBlock": "ContractingBlock: two 3x3 convolutions + ReLU, 2x2 max pooling",
    "ExpandingBlock": "ExpandingBlock: upsample x2, 2x2 convolution, join the skip, two 3x3 convolutions + ReLU",
}
SKIP = "skip: an earlier output, centre-cropped and joined (dashed)"
#: Okabe-Ito colours, distinct for colour-blind readers and in greyscale; skips are also dashed.
COLOURS = {"FeatureMapBlock": "#000000", "ContractingBlock": "#0072B2", "ExpandingBlock": "#E69F00",
           SKIP: "#CC79A7"}
#: How many levels of the U each block moves its map down (negative: up).
LEVELS_DOWN = {"FeatureMapBlock": 0, "ContractingBlock": 1, "ExpandingBlock": -1}
TALLEST_BAR, LEVEL_GAP, COLUMN_GAP = 1.05, 1.35, 0.55
#: A block call that raised has no output to measure; it is drawn this high, hatched.
FAILED_BAR_HEIGHT = 0.25


@dataclass(frozen=True)
class Bar:
    """Where one feature map is drawn: ``top`` is its level's baseline, bars hang down from it."""

    name: str
    shape: tuple[int, int, int, int] | None  # (N, C, H, W); None for a call that raised
    level: int
    x: float
    width: float
    height: float

    @property
    def top(self) -> float:
        return -self.level * LEVEL_GAP

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


class EdgeArrow(FancyArrowPatch):
    """An arrow that keeps the traced edge it draws, so the drawing can be read back and checked."""

    def __init__(self, edge: Edge, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.edge = edge


def bar_index(producer: Producer) -> int:
    """The bar of a producer: bar 0 is the input, bar i + 1 the output of block call i."""
    return 0 if producer == INPUT else producer + 1


def layout(trace: ModelTrace) -> list[Bar]:
    """The input and every block output, one column each in call order, on the level the wiring puts them.

    A block sits one level below (contracting), above (expanding) or beside (1x1) the map it
    received first, so the U's shape comes from the wiring, not from the order of the calls.
    """
    shapes = [trace.input_shape, *(call.output_shape for call in trace.calls)]
    input_side, widest = trace.input_shape[2], max(shape[1] for shape in shapes if shape is not None)
    levels = [0]
    for call in trace.calls:
        first = call.inputs[0] if call.inputs else UNTRACED
        levels.append((levels[-1] if first == UNTRACED else levels[bar_index(first)]) + LEVELS_DOWN[call.kind])
    names = ["input", *(f"x{index}" for index in range(len(trace.calls)))]
    return [Bar(name, shape, level, column * COLUMN_GAP,
                0.06 + (0 if shape is None else 0.1 * (shape[1] / widest) ** 0.5),
                FAILED_BAR_HEIGHT if shape is None else TALLEST_BAR * shape[2] / input_side)
            for column, (name, shape, level) in enumerate(zip(names, shapes, levels))]


def arrow_ends(source: Bar, target: Bar) -> tuple[tuple[float, float], tuple[float, float]]:
    """Down from a bar's bottom, up into a bar's bottom, or across at the height both bars share.

    The tops stay free for the labels, and the two arrows into an expanding block arrive on
    different sides: the map it upsamples from below, the skip from the left.
    """
    def middle(bar: Bar) -> float:
        return bar.top - bar.height / 2

    if target.level > source.level:
        return (source.centre, source.top - source.height), (target.x, middle(target))
    if target.level < source.level:
        return (source.x + source.width, middle(source)), (target.centre, target.top - target.height)
    height = source.top - min(source.height, target.height) / 2
    return (source.x + source.width, height), (target.x, height)


def drawn_edges(figure: plt.Figure) -> list[Edge]:
    """The traced edges ``figure`` draws an arrow for, in drawing order."""
    return [patch.edge for axes in figure.axes for patch in axes.patches if isinstance(patch, EdgeArrow)]


def draw_trace(trace: ModelTrace, subject: str) -> plt.Figure:
    """Draw ``trace``: a bar for every feature map, an arrow for every tensor passed into a block."""
    bars = layout(trace)
    figure, axes = plt.subplots(figsize=(13, 6.5))
    for bar in bars:
        draw_bar(axes, bar)
    for edge in trace.edges():
        is_skip = edge.position > 0
        style = COLOURS[SKIP] if is_skip else COLOURS[trace.calls[edge.block].kind]
        axes.add_patch(EdgeArrow(edge, *arrow_ends(bars[bar_index(edge.source)], bars[edge.block + 1]),
                                 arrowstyle="-|>", mutation_scale=10, lw=1.6 if is_skip else 1.3, color=style,
                                 linestyle="--" if is_skip else "-", shrinkA=0, shrinkB=0))
    axes.legend(handles=[Line2D([], [], color=COLOURS[kind], lw=2, linestyle="--" if kind == SKIP else "-",
                                label=label) for kind, label in (*OPERATIONS.items(), (SKIP, SKIP))],
                loc="lower right", fontsize=8, frameon=False)
    axes.set_xlim(-0.4, bars[-1].x + 0.5)
    axes.set_ylim(-max(bar.level for bar in bars) * LEVEL_GAP - TALLEST_BAR - 0.3,
                  -min(bar.level for bar in bars) * LEVEL_GAP + 0.4)
    axes.set_axis_off()
    axes.set_title(f"{subject} for a {trace.input_shape[2]} x {trace.input_shape[3]} input, hidden_channels="
                   f"{trace.hidden_channels}: {outcome(trace)}", fontsize=10)
    figure.text(0.5, 0.01, caption(trace), ha="center", va="bottom", fontsize=8, wrap=True)
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    return figure


def draw_bar(axes: plt.Axes, bar: Bar) -> None:
    """A feature map under its name and side, with its channels just above it; hatched if its block raised."""
    failed = bar.shape is None
    axes.add_patch(Rectangle((bar.x, bar.top - bar.height), bar.width, bar.height, facecolor="white" if failed else "#deebf7",
                             edgecolor="black", lw=0.6, hatch="xxx" if failed else None))
    if failed:
        name, channels = f"{bar.name} raised", "?"
    else:
        side = f"{bar.shape[2]}²" if bar.shape[2] == bar.shape[3] else f"{bar.shape[2]}x{bar.shape[3]}"
        name, channels = f"{bar.name}  {side}", str(bar.shape[1])
    axes.text(bar.centre, bar.top + 0.03, channels, ha="center", va="bottom", fontsize=7, fontweight="bold")
    axes.text(bar.centre, bar.top + 0.15, name, ha="center", va="bottom", fontsize=7, style="italic")


def outcome(trace: ModelTrace) -> str:
    """The end of the title: the output size, or where the forward pass stopped."""
    failed = [index for index, call in enumerate(trace.calls) if call.output_shape is None]
    if failed:
        return f"the forward pass stopped in x{failed[0]} ({trace.calls[failed[0]].kind})"
    if trace.failure:
        return f"the forward pass failed after x{len(trace.calls) - 1}"
    output = trace.calls[-1].output_shape
    return f"the output is {output[2]} x {output[3]}"


def caption(trace: ModelTrace) -> str:
    """What the bars and arrows mean, and which received tensors no block produced (not drawn)."""
    text = (f"Traced from {trace.model}. x0, x1, ... are the blocks' outputs in the order forward calls them.\n"
            "A bar's height is the side (e.g. 512²), its width and bold number its channels; an arrow is a tensor passed into a block.")
    untraced = [f"{index}'s input {position + 1}" for index, call in enumerate(trace.calls)
                for position, source in enumerate(call.inputs) if source == UNTRACED]
    if untraced:
        text += " Not drawn, as computed between blocks: " + ", ".join(f"x{entry}" for entry in untraced) + "."
    if trace.failure:
        text += f"\n{trace.failure}"
    return text


def draw_unet_architecture(input_side: int = 512, hidden_channels: int | None = None,
                           model: nn.Module | None = None, input_channels: int = 1) -> plt.Figure:
    """The solution's U-Net from its stored trace, or ``model`` (e.g. your ``UNet(1, 1, 4)``) as its forward wires it.

    Without ``model``, ``input_side`` and ``hidden_channels`` must be those of the stored trace
    (512 and 64). A ``model`` is run once, without gradients, on a zero
    ``(1, input_channels, input_side, input_side)`` image; its width is its own, so
    ``hidden_channels`` is not used.
    """
    if model is not None:
        device = next(model.parameters(), torch.empty(0)).device
        image = torch.zeros(1, input_channels, input_side, input_side, device=device)
        return draw_trace(trace_model(model, image, f"your {type(model).__name__}"), f"Your {type(model).__name__}")
    trace = load_reference_trace()
    stored_side, stored_width = trace.input_shape[2], trace.hidden_channels
    if (input_side, hidden_channels or stored_width) != (stored_side, stored_width):
        raise ValueError(f"the stored figure is of the solution at input_side={stored_side}, hidden_channels="
                         f"{stored_width}; to draw another size, draw a model: draw_unet_architecture("
                         f"model=UNet(1, 1, {hidden_channels or stored_width}), input_side={input_side})")
    return draw_trace(trace, "The U-Net of this notebook")
