"""Ungraded exercises: predict a number about your U-Net, then measure it on your own code.

Each check builds a narrow copy of the student's ``UNet`` (two hidden channels: the sizes do not
depend on the width) and measures the answer rather than reading it from a table, so a wrongly
wired network gives its own, different answer. A prediction of ``None`` prints what to do and
gives nothing away.
"""

from __future__ import annotations

import torch
from torch import nn

NARROW = 1  # hidden channels of the copies measured here: shapes do not depend on the width
#: The smallest valid input side (16k + 12) around the receptive field of the assignment's U-Net (188 px).
RECEPTIVE_FIELD_INPUT = 252


def measured_output_side(model_class: type, input_side: int) -> int:
    """The output side ``model_class(1, 1, 2)`` gives for an ``input_side`` square input."""
    with torch.no_grad():
        return int(model_class(1, 1, NARROW)(torch.zeros(1, 1, input_side, input_side)).shape[-1])


def _with_positive_weights(model: nn.Module) -> nn.Module:
    """Every weight and bias positive: each input pixel then raises every output that depends on it."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(0.05)
    return model


def measured_receptive_field(model_class: type, input_side: int = RECEPTIVE_FIELD_INPUT) -> int:
    """How many input columns the centre output pixel depends on, found by nudging one pixel at a time.

    With positive weights no two paths cancel, so a nudged pixel moves the centre output exactly
    when it lies in the receptive field; a binary search finds its edge on each side.
    """
    model = _with_positive_weights(model_class(1, 1, NARROW).double()).eval()
    base = torch.ones(1, 1, input_side, input_side, dtype=torch.float64)
    with torch.no_grad():
        output = model(base)
        row, column = output.shape[-2] // 2, output.shape[-1] // 2
        offset = input_side // 2 - output.shape[-1] // 2  # where the output's window starts in the input
        centre = offset + column

        def moves_centre(input_column: int) -> bool:
            nudged = base.clone()
            nudged[..., offset + row, input_column] += 1.0
            return bool(model(nudged)[0, 0, row, column] != output[0, 0, row, column])

        def edge(inside: int, outside: int) -> int:
            while abs(outside - inside) > 1:
                middle = (inside + outside) // 2
                inside, outside = (middle, outside) if moves_centre(middle) else (inside, middle)
            return inside

        return edge(centre, input_side) - edge(centre, -1) + 1


def _verdict(what: str, prediction, measure, rule: str) -> None:
    """Measure (only once there is a prediction to compare: the autograder runs this cell too) and compare."""
    if prediction is None:
        print(f"Write your prediction of {what} in place of None, then run this cell again.")
        return
    measured = measure()
    if int(prediction) == measured:
        print(f"Right: {what} is {measured}. {rule}")
    else:
        raise AssertionError(f"Your prediction of {what} was {prediction}; your network gives {measured}. {rule}")


def check_output_side(prediction: int | None, model_class: type, input_side: int) -> None:
    """Compare a predicted output side with the one ``model_class`` gives for ``input_side``."""
    _verdict(f"the output side for a {input_side} x {input_side} input", prediction,
             lambda: measured_output_side(model_class, input_side),
             "Going down, each 3x3 convolution takes 2 pixels off and each pooling halves; going up, each "
             "expanding block gives 2H - 1 and its two 3x3 convolutions take 4 off.")


def check_receptive_field(prediction: int | None, model_class: type) -> None:
    """Compare a predicted receptive field (in pixels, along one side) with the measured one."""
    _verdict("the receptive field of one output pixel (pixels along one side)", prediction,
             lambda: measured_receptive_field(model_class),
             "Every convolution and pooling widens it, in pixels of its own level, and one pixel k levels "
             "down stands for 2**k input pixels: the deep levels add the most.")
