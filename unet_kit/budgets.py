"""Training budgets: how long and how big to train, chosen by one name.

``full`` trains for 10 minutes on whatever GPU it finds, ``cpu`` for 15 minutes on a laptop or a
CPU-only Colab runtime (both plan their step count from the speed they measure, see
``unet_kit.plan``), ``smoke`` a fixed few hundred steps for CI, and ``grading`` nothing: nbgrader
must never train. ``auto`` picks ``full`` on a GPU and ``cpu`` otherwise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TrainingBudget:
    """Everything that changes between a quick check and a real training run."""

    name: str
    steps: int  # the fixed step count, or for a timed budget the most steps its minutes may plan
    batch_size: int
    tile_size: int  # side of the square input tile; the U-Net output is 139 pixels smaller
    hidden_channels: int
    learning_rate: float
    mixed_precision: bool = False  # bf16 autocast, used on CUDA only
    elastic_deformation: bool = True
    prediction_tile_size: int = 508  # larger tiles waste less margin when predicting whole slices
    test_time_augmentation: bool = False  # average 8 turned and flipped predictions: 8x the work, a GPU's job
    minutes: float | None = None  # train this long, the step count planned from the measured speed
    warmup_steps: int = 100  # the learning rate rises linearly over these, then decays along a cosine


BUDGETS = {
    budget.name: budget
    for budget in (
        TrainingBudget("full", steps=20000, batch_size=4, tile_size=572, hidden_channels=64,
                       learning_rate=1e-4, mixed_precision=True, test_time_augmentation=True, minutes=10),
        TrainingBudget("cpu", steps=10000, batch_size=1, tile_size=380, hidden_channels=16,
                       learning_rate=5e-4, minutes=15),
        TrainingBudget("smoke", steps=300, batch_size=1, tile_size=380, hidden_channels=8,
                       learning_rate=1e-3),
        TrainingBudget("grading", steps=0, batch_size=1, tile_size=508, hidden_channels=4,
                       learning_rate=1e-3, elastic_deformation=False),
    )
}

#: Environment variable that overrides the budget named in the notebook's parameters cell.
BUDGET_VARIABLE = "UNET_BUDGET"


def resolve_budget(requested: str = "auto") -> TrainingBudget:
    """The budget to use: nbgrader never trains, then ``$UNET_BUDGET``, then ``requested``."""
    if os.environ.get("NBGRADER_EXECUTION"):
        return BUDGETS["grading"]
    name = os.environ.get(BUDGET_VARIABLE) or requested
    if name == "auto":
        name = "full" if torch.cuda.is_available() else "cpu"
    if name not in BUDGETS:
        raise ValueError(f"unknown training budget {name!r}; choose one of "
                         f"{', '.join(['auto', *BUDGETS])}")
    return BUDGETS[name]
