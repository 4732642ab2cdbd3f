"""Hidden checks of Task 1, crop: exact windows on index tensors."""

import pytest
import torch

from grader.checking.reference import reference_crop


def indexed(*shape):
    return torch.arange(int(torch.tensor(shape).prod())).reshape(*shape)


def window_of(cropped, image):
    """Where the first element of the crop sat in the image, as (row, column)."""
    width = image.shape[3]
    first = int(cropped[0, 0, 0, 0]) - int(image[0, 0, 0, 0])
    return first // width, first % width


@pytest.mark.parametrize("shape, new_hw", [
    ((1, 1, 8, 8), (4, 4)),      # even differences
    ((2, 3, 9, 9), (5, 5)),      # even differences, odd sizes
    ((1, 2, 7, 10), (4, 3)),     # odd differences, odd H and even W
    ((2, 1, 6, 11), (3, 2)),     # odd differences, even H and odd W
    ((3, 4, 12, 5), (7, 5)),     # non-square, width unchanged
    ((1, 1, 5, 5), (5, 5)),      # nothing to crop
])
def test_window_follows_the_centre_rule(student, shape, new_hw):
    image = indexed(*shape)
    cropped = student.call("crop", image, (shape[0], shape[1], *new_hw))
    expected = reference_crop(image, (shape[0], shape[1], *new_hw))
    assert tuple(cropped.shape) == tuple(expected.shape), (
        f"cropping {shape} to height and width {new_hw}: expected shape {tuple(expected.shape)}, "
        f"got {tuple(cropped.shape)}"
    )
    assert torch.equal(cropped, expected), (
        f"cropping {shape[2]}x{shape[3]} to {new_hw[0]}x{new_hw[1]}: the window starts at "
        f"{window_of(cropped, image)}, expected {window_of(expected, image)} "
        "(top = H // 2 - h // 2, left = W // 2 - w // 2)"
    )


def test_batch_and_channels_are_kept(student):
    cropped = student.call("crop", indexed(3, 5, 10, 10), (1, 1, 4, 6))
    assert tuple(cropped.shape) == (3, 5, 4, 6), (
        f"the target's batch and channel sizes must be ignored: expected (3, 5, 4, 6), "
        f"got {tuple(cropped.shape)}"
    )


def test_accepts_a_torch_size(student):
    image = indexed(1, 1, 9, 9)
    cropped = student.call("crop", image, torch.zeros(1, 1, 3, 3).shape)
    assert torch.equal(cropped, reference_crop(image, (1, 1, 3, 3))), "crop(image, tensor.shape) failed"


def test_input_is_not_modified(student):
    image = indexed(2, 2, 9, 8).float()
    _, (after,) = student.call_keeping_inputs("crop", image, (2, 2, 4, 4))
    assert torch.equal(after, image), "crop changed its input: return a window, do not write into it"


def test_gradients_flow_through_the_crop(student):
    gradient = student.gradient("crop", torch.randn(1, 1, 7, 7), (1, 1, 3, 3), of=0)
    expected = torch.zeros(1, 1, 7, 7, dtype=torch.float64)
    reference_crop(expected, (1, 1, 3, 3)).fill_(1.0)
    assert gradient is not None and torch.equal(gradient, expected), (
        "gradients must reach exactly the 9 cropped pixels of the input"
    )
