"""Hidden checks of Task 3, ExpandingBlock: shapes, values by a functional oracle, structure."""

import pytest

from grader.checking.inspection import (
    assert_every_parameter_gets_a_gradient,
    assert_no_normalisation_or_dropout,
    assert_same_values,
    assert_valid_convolutions,
    conv_values,
    conv_with_weight_shape,
    convolutions,
    random_input,
)
from grader.checking.reference import expanding_oracle

# (batch, channels, height, width, skip height, skip width): even, odd and non-square gaps
CASES = [(1, 2, 5, 5, 13, 13), (2, 8, 10, 11, 25, 26), (3, 4, 6, 3, 16, 8), (2, 6, 4, 7, 7, 14)]


def build(student, channels):
    return student.build("ExpandingBlock", channels, seed=channels)


def inputs(batch, channels, height, width, skip_height, skip_width):
    return (random_input(batch, channels, height, width, seed=height),
            random_input(batch, channels // 2, skip_height, skip_width, seed=skip_height))


@pytest.mark.parametrize("case", CASES)
def test_output_shape(student, case):
    batch, channels, height, width = case[:4]
    output = build(student, channels)(*inputs(*case))
    expected = (batch, channels // 2, 2 * height - 5, 2 * width - 5)
    assert tuple(output.shape) == expected, f"x {case[:4]}, skip {case[4:]}: expected {expected}, got {tuple(output.shape)}"


@pytest.mark.parametrize("case", CASES)
def test_values_match_upsample_conv_crop_concat_conv_relu_conv_relu(student, case):
    channels, half = case[1], case[1] // 2
    block = build(student, channels)
    up = conv_with_weight_shape(block, (half, channels, 2, 2), "2x2 convolution after upsampling")
    first = conv_with_weight_shape(block, (half, channels, 3, 3), "first 3x3 convolution")
    second = conv_with_weight_shape(block, (half, half, 3, 3), "second 3x3 convolution")
    values = block.fresh_parameters(seed=case[2])
    x, skip = inputs(*case)
    expected = expanding_oracle(x, skip, *conv_values(values, up), *conv_values(values, first),
                                *conv_values(values, second))
    assert_same_values(block(x, skip, parameters=values), expected,
                       "bilinear x2 (align_corners=True) -> conv 2x2 -> cat([x, cropped skip]) "
                       "-> conv 3x3 -> ReLU -> conv 3x3 -> ReLU")


def test_one_2x2_and_two_3x3_valid_convolutions(student):
    block = build(student, 4)
    kernels = sorted(tuple(conv.conv["kernel_size"]) for conv in convolutions(block))
    assert kernels == [(2, 2), (3, 3), (3, 3)], f"expected one 2x2 and two 3x3 convolutions, found {kernels}"
    assert_valid_convolutions(block)


@pytest.mark.parametrize("channels", [2, 8, 32])
def test_parameter_count(student, channels):
    expected = int(8.75 * channels**2 + 1.5 * channels)
    count = build(student, channels).parameter_count
    assert count == expected, f"ExpandingBlock({channels}) should have {expected} parameters, got {count}"


def test_no_normalisation_or_dropout(student):
    assert_no_normalisation_or_dropout(build(student, 4), "expanding block")


def test_every_parameter_and_the_skip_learn(student):
    _, skip_gradient = assert_every_parameter_gets_a_gradient(build(student, 4), *inputs(2, 4, 6, 6, 15, 15))
    assert skip_gradient is not None and skip_gradient.abs().sum() > 0, "no gradient reaches the skip connection"
