"""Hidden checks of Task 5, UNet, graded with trusted stand-ins for the four blocks.

The notebook's ``crop`` and block classes are replaced by ``grader.reference`` stand-ins
before this runs, so only the wiring is graded here: each skip to its own level, the widths
from ``hidden_channels``, logits out. Wiring is checked by value, through the stand-ins.
"""

import pytest
import torch

from grader.inspection import assert_every_parameter_gets_a_gradient, assert_same_values, parameter_count
from grader.reference import StandInContractingBlock, StandInExpandingBlock, StandInFeatureMapBlock


def build(student, input_channels, output_channels, hidden):
    torch.manual_seed(hidden)
    return student["UNet"](input_channels, output_channels, hidden_channels=hidden).double()


def blocks_by_width(model, block_type, role, widths):
    found = {block.input_channels: block for block in model.modules() if isinstance(block, block_type)}
    assert sorted(found) == sorted(widths), (
        f"expected {len(widths)} {role} with input channels {widths}, found {sorted(found)}: build "
        "the U-Net from your block classes and derive every width from hidden_channels"
    )
    return [found[width] for width in widths]


def wired_by_the_design(model, input_channels, output_channels, hidden):
    """The design's forward pass, computed from the model's own blocks."""
    contract = blocks_by_width(model, StandInContractingBlock, "contracting blocks",
                               [hidden, 2 * hidden, 4 * hidden, 8 * hidden])
    expand = blocks_by_width(model, StandInExpandingBlock, "expanding blocks",
                             [16 * hidden, 8 * hidden, 4 * hidden, 2 * hidden])
    feature_maps = [m for m in model.modules() if isinstance(m, StandInFeatureMapBlock)]
    widths = [(m.input_channels, m.output_channels) for m in feature_maps]
    assert sorted(widths) == sorted([(input_channels, hidden), (hidden, output_channels)]), (
        f"expected two feature-map blocks, {input_channels} -> {hidden} first and {hidden} -> "
        f"{output_channels} last (input channels -> hidden_channels -> output channels), "
        f"found {widths}"
    )
    up = feature_maps[widths.index((input_channels, hidden))]
    down = feature_maps[widths.index((hidden, output_channels))]

    def forward(x):
        skips = [up(x)]
        for block in contract:
            skips.append(block(skips[-1]))
        x = skips.pop()
        for block in expand:
            x = block(x, skips.pop())
        return down(x)

    return forward


@pytest.mark.parametrize("shape, expected", [
    ((1, 1, 512, 512), (1, 1, 373, 373)),
    ((2, 3, 188, 204), (2, 2, 53, 69)),
    ((1, 2, 253, 333), (1, 4, 117, 197)),
])
def test_output_shape(student, shape, expected):
    model = build(student, shape[1], expected[1], hidden=2)
    with torch.no_grad():
        output = model(torch.randn(*shape, dtype=torch.float64))
    assert tuple(output.shape) == expected, f"input {shape}: expected output {expected}, got {tuple(output.shape)}"


@pytest.mark.parametrize("shape, channels_out, hidden", [((1, 1, 188, 188), 1, 2), ((2, 2, 220, 204), 4, 3)])
def test_skips_join_their_own_level(student, shape, channels_out, hidden):
    model = build(student, shape[1], channels_out, hidden)
    forward = wired_by_the_design(model, shape[1], channels_out, hidden)
    x = torch.randn(*shape, dtype=torch.float64)
    with torch.no_grad():
        assert_same_values(model(x), forward(x), "the U-Net's output (raw logits, skips x3, x2, x1, x0 "
                           "to expanding blocks 1 to 4)")


@pytest.mark.parametrize("hidden", [1, 3, 64])
def test_widths_follow_hidden_channels(student, hidden):
    model = build(student, 1, 1, hidden)
    contracting = sum(54 * c * c + 4 * c for c in (hidden, 2 * hidden, 4 * hidden, 8 * hidden))
    expanding = sum(int(8.75 * c * c + 1.5 * c) for c in (16 * hidden, 8 * hidden, 4 * hidden, 2 * hidden))
    expected = contracting + expanding + 2 * hidden + hidden + 1
    count = parameter_count(model)
    assert count == expected, f"UNet(1, 1, hidden_channels={hidden}) should have {expected:,} parameters, got {count:,}"


def test_every_parameter_learns(student):
    model = build(student, 1, 1, hidden=2)
    assert_every_parameter_gets_a_gradient(model, model(torch.randn(1, 1, 188, 188, dtype=torch.float64)))
