"""Run the answer cells of a notebook in a namespace, so tests use the notebook's own code."""

from __future__ import annotations

from pathlib import Path

import nbformat
import torch
import torch.nn.functional as F
from torch import nn

TASK_IDS = ("crop", "contracting_block", "expanding_block", "feature_map_block", "unet")


def answer_cells(notebook_path: Path) -> dict[str, str]:
    """Source of each task's answer cell, by nbgrader grade id."""
    notebook = nbformat.read(notebook_path, as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def task_namespace(notebook_path: Path) -> dict:
    """Execute the five answer cells in order, with the imports the notebook gives them."""
    namespace = {"torch": torch, "nn": nn, "F": F}
    cells = answer_cells(notebook_path)
    for task in TASK_IDS:
        exec(compile(cells[task], f"<{notebook_path.name}:{task}>", "exec"), namespace)
    return namespace
