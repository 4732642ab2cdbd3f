"""Hidden checks of Task 2, ContractingBlock: shapes, values by a functional oracle, structure."""

import pytest
import torch

from grader.inspection import (
    assert_every_parameter_gets_a_gradient,
    assert_no_normalisation_or_dropout,
    assert_same_values,
    assert_valid_convolutions,
    conv_with_weight_shape,
    convolutions,
    parameter_count,
)
from grader.reference import contracting_oracle

CASES = [(1, 1, 20, 20), (2, 3, 21, 22), (3, 4, 17, 30)]  # (batch, channels, height, width)


def build(student, channels):
    torch.manual_seed(channels)
    return student["ContractingBlock"](channels).double()


@pytest.mark.parametrize("batch, channels, height, width", CASES)
def test_output_shape(student, batch, channels, height, width):
    output = build(student, channels)(torch.randn(batch, channels, height, width, dtype=torch.float64))
    expected = (batch, 2 * channels, (height - 4) // 2, (width - 4) // 2)
    assert tuple(output.shape) == expected, f"input {(batch, channels, height, width)}: expected {expected}, got {tuple(output.shape)}"


@pytest.mark.parametrize("batch, channels, height, width", CASES)
def test_values_match_conv_relu_conv_relu_maxpool(student, batch, channels, height, width):
    block = build(student, channels)
    first = conv_with_weight_shape(block, (2 * channels, channels, 3, 3), "first 3x3 convolution")
    second = conv_with_weight_shape(block, (2 * channels, 2 * channels, 3, 3), "second 3x3 convolution")
    x = torch.randn(batch, channels, height, width, dtype=torch.float64)
    expected = contracting_oracle(x, first.weight, first.bias, second.weight, second.bias)
    assert_same_values(block(x), expected, "conv 3x3 -> ReLU -> conv 3x3 -> ReLU -> max-pool 2x2")


def test_two_valid_3x3_convolutions(student):
    block = build(student, 3)
    kernels = [conv.kernel_size for conv in convolutions(block)]
    assert kernels == [(3, 3), (3, 3)], f"expected two 3x3 convolutions, found kernels {kernels}"
    assert_valid_convolutions(block)


@pytest.mark.parametrize("channels", [1, 5, 16])
def test_parameter_count(student, channels):
    expected = 54 * channels**2 + 4 * channels
    count = parameter_count(build(student, channels))
    assert count == expected, f"ContractingBlock({channels}) should have {expected} parameters, got {count}"


def test_no_normalisation_or_dropout(student):
    assert_no_normalisation_or_dropout(build(student, 2), "contracting block")


def test_every_parameter_learns(student):
    block = build(student, 2)
    assert_every_parameter_gets_a_gradient(block, block(torch.randn(2, 2, 14, 14, dtype=torch.float64)))
