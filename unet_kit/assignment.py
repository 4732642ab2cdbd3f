"""The assignment's vocabulary, defined once: its tasks, its notebook, where its sources live.

The student package holds these names because everything else depends on it: the notebook's
"check my submission" cell, the grader and the tests all import them from here.
"""

from __future__ import annotations

from pathlib import Path

#: The answer cells' nbgrader grade ids, in the notebook's order.
TASKS = ("crop", "contracting_block", "expanding_block", "feature_map_block", "unet")
#: Each task's test cell has the grade id TEST_CELL_PREFIX + task.
TEST_CELL_PREFIX = "test_"
NOTEBOOK_NAME = "UNet_Assignment.ipynb"
#: The nbgrader assignment.
ASSIGNMENT = "unet"

#: In a checkout: the solution (nbgrader source) and the generated student notebook.
#: A student's copy of the kit has no solutions/ folder; nothing there needs these paths.
REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
SOLUTION_NOTEBOOK = REPOSITORY_ROOT / "solutions" / NOTEBOOK_NAME
STUDENT_NOTEBOOK = REPOSITORY_ROOT / NOTEBOOK_NAME


def nbgrader_metadata(cell) -> dict:
    """A cell's nbgrader metadata, ``{}`` for a cell nbgrader does not mark; for nbformat cells and raw JSON alike.

    A student's file may hold anything, so a field of the wrong type reads as no metadata.
    """
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    grading = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return grading if isinstance(grading, dict) else {}


def grade_id_of_test_cell(task: str) -> str:
    """The grade id of ``task``'s test cell."""
    return f"{TEST_CELL_PREFIX}{task}"


def task_of_test_cell(grade_id: str) -> str | None:
    """The task a test cell's grade id belongs to, or None for any other cell."""
    task = grade_id.removeprefix(TEST_CELL_PREFIX)
    return task if grade_id.startswith(TEST_CELL_PREFIX) and task in TASKS else None
