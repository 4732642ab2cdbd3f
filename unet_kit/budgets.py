"""Training budgets: how long and how big to train, chosen by one name.

``full`` is meant for a GPU, ``cpu`` for a laptop or a CPU-only Colab runtime, ``smoke`` for
CI (the whole notebook in a few minutes on 2 cores), and ``grading`` for nbgrader, which
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
    steps: int
    batch_size: int
    tile_size: int  # side of the square input tile; the U-Net output is 139 pixels smaller
    hidden_channels: int
    learning_rate: float
    mixed_precision: bool = False  # bf16 autocast, used on CUDA only
    elastic_deformation: bool = True
    prediction_tile_size: int = 508  # larger tiles waste less margin when predicting whole slices
    test_time_augmentation: bool = False  # average 8 turned and flipped predictions: 8x the work, a GPU's job


BUDGETS = {
    budget.name: budget
    for budget in (
        TrainingBudget("full", steps=3000, batch_size=4, tile_size=572, hidden_channels=64,
                       learning_rate=1e-4, mixed_precision=True, test_time_augmentation=True),
        TrainingBudget("cpu", steps=3000, batch_size=1, tile_size=380, hidden_channels=16,
                       learning_rate=5e-4),
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
