"""The answer cells of a notebook, as source or executed, so code outside the notebook can use its own code.

The benchmarks train the solution notebook's U-Net and the tests check its blocks; both take
that code from the notebook itself rather than from a copy that could drift from it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import torch
import torch.nn.functional as F
from torch import nn

from unet_kit.assignment import TASKS


def answer_cells(notebook_path: Path) -> dict[str, str]:
    """Source of each answer cell (nbgrader ``solution`` cells), by grade id."""
    notebook = nbformat.read(notebook_path, as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def task_namespace(notebook_path: Path) -> dict:
    """The namespace after running each task's answer cell in the tasks' order.

    It starts with the imports the notebook's setup gives its answer cells: ``torch``, ``nn``, ``F``.
    """
    namespace = {"torch": torch, "nn": nn, "F": F}
    cells = answer_cells(notebook_path)
    for task in TASKS:
        exec(compile(cells[task], f"<{notebook_path.name}:{task}>", "exec"), namespace)
    return namespace
