"""The answer cells of a notebook, as source or executed, so code outside the notebook can use its own code.

The benchmarks train the solution notebook's U-Net and the tests check its blocks; both take
that code from the notebook itself rather than from a copy that could drift from it. The file is
read as plain JSON, so the benchmarks also run where nbformat is not installed (a GPU machine
with torch alone).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from unet_kit.assignment import TASKS, nbgrader_metadata


def answer_cells(notebook_path: Path) -> dict[str, str]:
    """Source of each answer cell (nbgrader ``solution`` cells), by grade id."""
    cells = json.loads(Path(notebook_path).read_text(encoding="utf-8"))["cells"]
    return {
        nbgrader_metadata(cell)["grade_id"]: _source(cell)
        for cell in cells
        if nbgrader_metadata(cell).get("solution")
    }


def _source(cell: dict) -> str:
    """A cell's source as one string: nbformat files store it as a list of lines or as one string."""
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def task_namespace(notebook_path: Path) -> dict:
    """The namespace after running each task's answer cell in the tasks' order.

    It starts with the imports the notebook's setup gives its answer cells: ``torch``, ``nn``, ``F``.
    """
    namespace = {"torch": torch, "nn": nn, "F": F}
    cells = answer_cells(notebook_path)
    for task in TASKS:
        exec(compile(cells[task], f"<{notebook_path.name}:{task}>", "exec"), namespace)
    return namespace
