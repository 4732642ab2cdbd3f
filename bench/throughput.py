"""How fast one training step runs, in images/s and FLOP/s, next to the machine's own matmul ceiling."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from bench.training import Trainer, build_model
from unet_kit.budgets import TrainingBudget
from unet_kit.data import Isbi2012
from unet_kit.device import synchronise

# Matrix sides that fill each device: a CPU reaches its rate at a few thousand, an H100 needs more.
CPU_MATMUL_SIDE = 4096
CUDA_MATMUL_SIDE = 8192
TIMED_REPEATS = {"cpu": 3, "cuda": 50}
WARM_UP_STEPS = 3
#: Timing a variant stops after this many seconds even if fewer steps than asked were timed, so the
#: whole speed section stays short on any device (a slow fp32 step on a GPU, a slow laptop).
SECONDS_PER_VARIANT = 15.0


@dataclass(frozen=True)
class StepSpeed:
    """One training-step configuration, measured."""

    variant: str
    images_per_second: float
    flop_per_step: float
    flop_per_second: float
    seconds_per_step: float


def matmul_ceiling(device: torch.device, dtype: torch.dtype) -> float:
    """FLOP/s of a large square matrix product in ``dtype``: the rate this machine can reach at all."""
    side = CUDA_MATMUL_SIDE if device.type == "cuda" else CPU_MATMUL_SIDE
    generator = torch.Generator(device=device).manual_seed(0)
    left = torch.randn(side, side, device=device, dtype=dtype, generator=generator)
    right = torch.randn(side, side, device=device, dtype=dtype, generator=generator)
    repeats = TIMED_REPEATS[device.type]
    for _ in range(2):
        left @ right
    synchronise(device)
    started = time.perf_counter()
    for _ in range(repeats):
        left @ right
    synchronise(device)
    return 2 * side**3 * repeats / (time.perf_counter() - started)


def training_step_speed(budget: TrainingBudget, isbi: Isbi2012, device: torch.device, *, mixed_precision: bool,
                        channels_last: bool, timed_steps: int) -> StepSpeed:
    """Median time of whole training steps (sampling and augmentation included) and their counted FLOPs:
    ``timed_steps`` of them, or fewer when they take more than ``SECONDS_PER_VARIANT``.

    FLOPs are those of the convolutions and matrix products of forward and backward, counted by
    ``torch.utils.flop_counter`` on one step; elementwise work is not counted.
    """
    model = build_model(budget, device, channels_last)
    trainer = Trainer(model, budget, isbi, device, mixed_precision)
    with FlopCounterMode(display=False) as counter:
        trainer.step()
    flop_per_step = float(counter.get_total_flops())
    for _ in range(WARM_UP_STEPS):
        trainer.step()
    durations = []
    timing_started = time.perf_counter()
    while len(durations) < timed_steps and (not durations or time.perf_counter() - timing_started < SECONDS_PER_VARIANT):
        synchronise(device)
        started = time.perf_counter()
        trainer.step()
        synchronise(device)
        durations.append(time.perf_counter() - started)
    seconds = sorted(durations)[len(durations) // 2]
    precision = f"{trainer.precision.name} autocast" if trainer.precision.mixed else "fp32"
    layout = "channels-last" if channels_last else "contiguous"
    return StepSpeed(f"{precision}, {layout}", budget.batch_size / seconds, flop_per_step,
                     flop_per_step / seconds, seconds)
