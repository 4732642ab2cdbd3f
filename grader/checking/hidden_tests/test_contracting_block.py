"""Hidden checks of Task 2, ContractingBlock: shapes, values by a functional oracle, structure."""

import pytest

from grader.checking import inspection
from grader.checking.reference import contracting_oracle

CASES = [(1, 1, 20, 20), (2, 3, 21, 22), (3, 4, 17, 30)]  # (batch, channels, height, width)


def build(student, channels):
    return student.build("ContractingBlock", channels, seed=channels)


@pytest.mark.parametrize("batch, channels, height, width", CASES)
def test_output_shape(student, batch, channels, height, width):
    output = build(student, channels)(inspection.random_input(batch, channels, height, width, seed=height))
    expected = (batch, 2 * channels, (height - 4) // 2, (width - 4) // 2)
    assert tuple(output.shape) == expected, f"input {(batch, channels, height, width)}: expected {expected}, got {tuple(output.shape)}"


@pytest.mark.parametrize("batch, channels, height, width", CASES)
def test_values_match_conv_relu_conv_relu_maxpool(student, batch, channels, height, width):
    block = build(student, channels)
    first = inspection.conv_with_weight_shape(block, (2 * channels, channels, 3, 3), "first 3x3 convolution")
    second = inspection.conv_with_weight_shape(block, (2 * channels, 2 * channels, 3, 3), "second 3x3 convolution")
    values = block.fresh_parameters(seed=width)
    x = inspection.random_input(batch, channels, height, width, seed=width)
    expected = contracting_oracle(x, *inspection.conv_values(values, first), *inspection.conv_values(values, second))
    inspection.assert_same_values(block(x, parameters=values), expected, "conv 3x3 -> ReLU -> conv 3x3 -> ReLU -> max-pool 2x2")


def test_two_valid_3x3_convolutions(student):
    block = build(student, 3)
    kernels = [tuple(conv.conv["kernel_size"]) for conv in inspection.convolutions(block)]
    assert kernels == [(3, 3), (3, 3)], f"expected two 3x3 convolutions, found kernels {kernels}"
    inspection.assert_valid_convolutions(block)


@pytest.mark.parametrize("channels", [1, 5, 16])
def test_parameter_count(student, channels):
    expected = 54 * channels**2 + 4 * channels
    count = build(student, channels).parameter_count
    assert count == expected, f"ContractingBlock({channels}) should have {expected} parameters, got {count}"


def test_no_normalisation_or_dropout(student):
    inspection.assert_no_normalisation_or_dropout(build(student, 2), "contracting block")


def test_every_parameter_learns(student):
    inspection.assert_every_parameter_gets_a_gradient(build(student, 2), inspection.random_input(2, 2, 14, 14, seed=0))
