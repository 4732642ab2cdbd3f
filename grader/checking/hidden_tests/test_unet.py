"""Hidden checks of Task 5, UNet, graded with trusted stand-ins for the four blocks.

The probe replaces the notebook's ``crop`` and block classes by ``grader.checking.reference``
stand-ins before the U-Net is built, so only the wiring is graded here: each skip to its own
level, the widths from ``hidden_channels``, logits out. The expected output is computed here
from local stand-ins holding the same parameter values.
"""

import pytest

from grader.checking.inspection import assert_every_parameter_gets_a_gradient, assert_same_values, random_input
from grader.checking.reference import StandInsNotFound, unet_forward, unet_stand_ins


def build(student, input_channels, output_channels, hidden):
    return student.build("UNet", input_channels, output_channels, hidden, seed=hidden)


def wired_by_the_design(model, values, input_channels, output_channels, hidden):
    """The design's forward pass, from local stand-ins holding the model's parameter values."""
    try:
        blocks = unet_stand_ins(model, values, input_channels, output_channels, hidden)
    except StandInsNotFound as missing:
        raise AssertionError(str(missing)) from None
    return lambda x: unet_forward(blocks, x)


@pytest.mark.parametrize("shape, expected", [
    ((1, 1, 512, 512), (1, 1, 373, 373)),
    ((2, 3, 188, 204), (2, 2, 53, 69)),
    ((1, 2, 253, 333), (1, 4, 117, 197)),
])
def test_output_shape(student, shape, expected):
    output = build(student, shape[1], expected[1], hidden=2)(random_input(*shape, seed=shape[2]))
    assert tuple(output.shape) == expected, f"input {shape}: expected output {expected}, got {tuple(output.shape)}"


@pytest.mark.parametrize("shape, channels_out, hidden", [((1, 1, 188, 188), 1, 2), ((2, 2, 220, 204), 4, 3)])
def test_skips_join_their_own_level(student, shape, channels_out, hidden):
    model = build(student, shape[1], channels_out, hidden)
    values = model.fresh_parameters(seed=hidden)
    forward = wired_by_the_design(model, values, shape[1], channels_out, hidden)
    x = random_input(*shape, seed=shape[3])
    assert_same_values(model(x, parameters=values), forward(x).detach(),
                       "the U-Net's output (raw logits, skips x3, x2, x1, x0 to expanding blocks 1 to 4)")


@pytest.mark.parametrize("hidden", [1, 3, 64])
def test_widths_follow_hidden_channels(student, hidden):
    contracting = sum(54 * c * c + 4 * c for c in (hidden, 2 * hidden, 4 * hidden, 8 * hidden))
    expanding = sum(int(8.75 * c * c + 1.5 * c) for c in (16 * hidden, 8 * hidden, 4 * hidden, 2 * hidden))
    expected = contracting + expanding + 2 * hidden + hidden + 1
    count = build(student, 1, 1, hidden).parameter_count
    assert count == expected, f"UNet(1, 1, hidden_channels={hidden}) should have {expected:,} parameters, got {count:,}"


def test_every_parameter_learns(student):
    assert_every_parameter_gets_a_gradient(build(student, 1, 1, hidden=2), random_input(1, 1, 188, 188, seed=1))
