"""Shapes of the solution's crop, blocks and U-Net for even, odd and non-square inputs.

Expected sizes come from the arithmetic of valid convolutions, written out here, not from
running a second copy of the network.
"""

import pytest
import torch


def contracted(size: int) -> int:
    return (size - 4) // 2


def expanded(size: int) -> int:
    return 2 * size - 1 - 4


def unet_output(size: int) -> int:
    sizes = [size]
    for _ in range(4):
        sizes.append(contracted(sizes[-1]))
    size = sizes[-1]
    for _ in range(4):
        size = expanded(size)
    return size


@pytest.mark.parametrize("height, width, new_height, new_width",
                         [(8, 8, 4, 4), (7, 9, 4, 3), (6, 5, 3, 2), (5, 5, 5, 5), (9, 4, 1, 1)])
def test_crop_keeps_the_window_the_rule_names(solution, height, width, new_height, new_width):
    image = torch.arange(2 * 3 * height * width).reshape(2, 3, height, width)
    cropped = solution["crop"](image, (2, 3, new_height, new_width))
    top, left = height // 2 - new_height // 2, width // 2 - new_width // 2
    assert torch.equal(cropped, image[:, :, top:top + new_height, left:left + new_width])


def test_crop_leaves_its_input_unchanged(solution):
    image = torch.arange(2 * 49).reshape(2, 1, 7, 7)
    before = image.clone()
    solution["crop"](image, torch.Size([2, 1, 3, 4]))
    assert torch.equal(image, before)


@pytest.mark.parametrize("channels, height, width", [(1, 20, 20), (3, 21, 22), (4, 9, 30)])
def test_contracting_block_doubles_channels_and_halves_valid_size(solution, channels, height, width):
    block = solution["ContractingBlock"](channels)
    output = block(torch.randn(2, channels, height, width))
    assert output.shape == (2, 2 * channels, contracted(height), contracted(width))


@pytest.mark.parametrize("channels, height, width", [(2, 5, 5), (8, 10, 11), (4, 7, 3)])
def test_expanding_block_halves_channels_and_doubles_size(solution, channels, height, width):
    block = solution["ExpandingBlock"](channels)
    skip = torch.randn(3, channels // 2, 2 * height + 5, 2 * width + 2)
    output = block(torch.randn(3, channels, height, width), skip)
    assert output.shape == (3, channels // 2, expanded(height), expanded(width))


def test_feature_map_block_keeps_spatial_size(solution):
    output = solution["FeatureMapBlock"](3, 7)(torch.randn(2, 3, 5, 9))
    assert output.shape == (2, 7, 5, 9)


@pytest.mark.parametrize("height, width", [(512, 512), (188, 204), (253, 333), (140, 141)])
def test_unet_output_follows_valid_convolution_arithmetic(solution, height, width):
    model = solution["UNet"](input_channels=2, output_channels=3, hidden_channels=2)
    with torch.no_grad():
        output = model(torch.randn(1, 2, height, width))
    assert output.shape == (1, 3, unet_output(height), unet_output(width))


def test_unet_turns_512_into_373(solution):
    assert unet_output(512) == 373
    with torch.no_grad():
        output = solution["UNet"](1, 1, hidden_channels=4)(torch.zeros(1, 1, 512, 512))
    assert output.shape[-2:] == (373, 373)
