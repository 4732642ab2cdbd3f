"""Hidden checks of Task 4, FeatureMapBlock: a bare 1x1 convolution."""

import pytest
import torch.nn.functional as F

from grader.checking.inspection import (
    assert_every_parameter_gets_a_gradient,
    assert_no_normalisation_or_dropout,
    assert_same_values,
    conv_values,
    conv_with_weight_shape,
    convolutions,
    random_input,
)

CASES = [(1, 1, 1, 5, 5), (2, 3, 7, 6, 9), (3, 16, 2, 4, 3)]  # (batch, in, out, height, width)


def build(student, input_channels, output_channels):
    return student.build("FeatureMapBlock", input_channels, output_channels, seed=input_channels + 10 * output_channels)


@pytest.mark.parametrize("batch, channels_in, channels_out, height, width", CASES)
def test_values_match_a_1x1_convolution(student, batch, channels_in, channels_out, height, width):
    block = build(student, channels_in, channels_out)
    conv = conv_with_weight_shape(block, (channels_out, channels_in, 1, 1), "1x1 convolution")
    values = block.fresh_parameters(seed=height)
    x = random_input(batch, channels_in, height, width, seed=width)
    assert_same_values(block(x, parameters=values), F.conv2d(x, *conv_values(values, conv)),
                       "1x1 convolution, no activation")


def test_a_single_convolution(student):
    assert len(convolutions(build(student, 3, 2))) == 1, "the feature-map block is one 1x1 convolution"


@pytest.mark.parametrize("channels_in, channels_out", [(1, 64), (64, 1), (5, 7)])
def test_parameter_count(student, channels_in, channels_out):
    count = build(student, channels_in, channels_out).parameter_count
    expected = channels_in * channels_out + channels_out
    assert count == expected, f"FeatureMapBlock({channels_in}, {channels_out}) should have {expected} parameters, got {count}"


def test_no_normalisation_or_dropout(student):
    assert_no_normalisation_or_dropout(build(student, 3, 4), "feature-map block")


def test_every_parameter_learns(student):
    assert_every_parameter_gets_a_gradient(build(student, 3, 2), random_input(2, 3, 4, 4, seed=0))
