"""What a timed budget would plan on a GPU that is not at hand: Colab's T4, worked out from the
FLOP count of one training step and the card's published rate, through the notebook's own planner.

The rate a step reaches is a share of the published one; the share measured for this step on an
H200 (issue 12: 266 of 785 TFLOP/s, 0.34) is the middle guess, the published rate itself the
bound no card can beat.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from bench.report import markdown_table
from bench.training import notebook_code
from unet_kit.budgets import TrainingBudget
from unet_kit.device import choose_precision
from unet_kit.plan import TrainingPlan

#: NVIDIA's T4 datasheet: 65 TFLOP/s of float16 on tensor cores (70 W; sustained clocks run lower).
T4_FP16_FLOP_PER_SECOND = 65e12
T4_COMPUTE_CAPABILITY = (7, 5)
#: Shares of the published rate: the step's share measured on an H200, and the unreachable whole.
RATE_SHARES = (0.34, 1.0)


def training_step_flop(budget: TrainingBudget) -> float:
    """FLOPs of one training step's forward and backward (convolutions and matrix products), counted on
    the meta device: shapes only, so the 64-wide U-Net costs a second, not a GPU."""
    with torch.device("meta"):
        model = notebook_code()["UNet"](input_channels=1, output_channels=1, hidden_channels=budget.hidden_channels)
        tiles = torch.empty(budget.batch_size, 1, budget.tile_size, budget.tile_size)
    with FlopCounterMode(display=False) as counter:
        model(tiles).float().mean().backward()
    return float(counter.get_total_flops())


def planned_steps(budget: TrainingBudget, seconds_per_step: float) -> int:
    """The steps ``budget`` trains when every step takes ``seconds_per_step``: the notebook's planner run
    against a clock that moves on by that much per step."""
    clock = SteppedClock()
    plan = TrainingPlan(budget, clock=clock)
    for _ in plan.steps():
        clock.now += seconds_per_step
    return plan.steps_done


class SteppedClock:
    """A clock for planning without waiting: reads ``now``, which the caller moves on by each step's time."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class GpuPlan:
    rate_share: float
    seconds_per_step: float
    steps: int


def t4_plans(budget: TrainingBudget) -> tuple[str, float, list[GpuPlan]]:
    """The precision a T4 gets, the FLOPs of a step, and the plan at each share of the T4's rate."""
    precision = choose_precision(torch.device("cuda"), capability=T4_COMPUTE_CAPABILITY)
    flop = training_step_flop(budget)
    plans = []
    for share in RATE_SHARES:
        seconds = flop / (T4_FP16_FLOP_PER_SECOND * share)
        plans.append(GpuPlan(share, seconds, planned_steps(budget, seconds)))
    return precision.name, flop, plans


def t4_plan_table(budget: TrainingBudget) -> str:
    precision, flop, plans = t4_plans(budget)
    rows = [[f"{plan.rate_share:.2f}", f"{T4_FP16_FLOP_PER_SECOND * plan.rate_share / 1e12:.1f}",
             f"{plan.seconds_per_step:.3f}", f"{plan.steps:,}"] for plan in plans]
    return (f"{budget.name} budget on a T4: {precision} ({flop / 1e12:.2f} TFLOP per step, "
            f"{budget.minutes:g} minutes, at most {budget.steps:,} steps)\n\n"
            + markdown_table(["share of the published fp16 rate", "TFLOP/s", "seconds per step", "planned steps"],
                             rows))
