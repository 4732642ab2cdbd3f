"""What a mistake's free parameter was, read from the student's answer (a LeakyReLU's slope).

A misconception with a free parameter (a LeakyReLU of whatever slope) predicts nothing until the
parameter is known, so these fits propose values from one answer. They only propose:
``grader.checking.diagnosis`` names a misconception when the prediction made with the proposed value
equals every answer, so a fit that goes astray costs a missed diagnosis, never a wrong one.
"""

from __future__ import annotations

import math

import torch

from grader.checking.misconceptions import FreeParameter, NotThisMistake

#: Gauss-Newton steps from the typical value. The activations' predictions are piecewise linear or
#: smooth in their parameter: a fit that can succeed settles within six (slopes from -0.2 to 3,
#: alphas from 0.001 to 3), one that cannot is given up here.
FIT_STEPS = 10
#: The nudge to the parameter whose change in the prediction estimates its derivative.
DERIVATIVE_STEP = 1e-7
#: A step this small, relative to the value, ends the fit: float64 cannot say more about it.
SETTLED = 1e-12


def _prediction(parameter: FreeParameter, value: float, arguments: tuple) -> torch.Tensor | None:
    try:
        return parameter.predict_with(value)(*arguments)
    except (NotThisMistake, RuntimeError):  # the student's layers or shapes do not fit this variant
        return None


def fitted_value(parameter: FreeParameter, answer: torch.Tensor, arguments: tuple) -> float | None:
    """The value least squares between the prediction and ``answer`` settles on, by Gauss-Newton from
    the typical value; None if the prediction cannot be made or the value does not settle."""
    value = parameter.typical
    for _ in range(FIT_STEPS):
        predicted = _prediction(parameter, value, arguments)
        nudged = _prediction(parameter, value + DERIVATIVE_STEP, arguments)
        if predicted is None or nudged is None or predicted.shape != answer.shape:
            return None
        derivative = (nudged - predicted) / DERIVATIVE_STEP
        sensitivity = float((derivative * derivative).sum())
        if sensitivity == 0:
            return None
        step = float((derivative * (answer - predicted)).sum()) / sensitivity
        value += step
        if not math.isfinite(value):
            return None
        if abs(step) <= SETTLED * max(1.0, abs(value)):
            return value
    return None

