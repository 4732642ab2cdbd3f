"""Seconds per submission of ``python -m grader autograde``, called as a black box on perfect submissions."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.course.notebook_cells import answer_cells
from unet_kit.assignment import REPOSITORY_ROOT, SOLUTION_NOTEBOOK, STUDENT_NOTEBOOK, nbgrader_metadata

FAILURE_TAIL_CHARACTERS = 1500
SOLUTION_MARKERS = {"### BEGIN SOLUTION", "### END SOLUTION"}


@dataclass(frozen=True)
class GradingCost:
    """One autograde run over ``submissions`` notebooks; ``failure`` holds the end of its output if it failed."""

    submissions: int
    workers: int
    seconds: float
    failure: str | None = None

    @property
    def seconds_per_submission(self) -> float:
        return self.seconds / self.submissions


def perfect_submission() -> nbformat.NotebookNode:
    """The student notebook with every answer cell holding the reference solution."""
    notebook = nbformat.read(STUDENT_NOTEBOOK, as_version=4)
    solutions = answer_cells(SOLUTION_NOTEBOOK)
    for cell in notebook.cells:
        grade_id = nbgrader_metadata(cell).get("grade_id")
        if nbgrader_metadata(cell).get("solution") and grade_id in solutions:
            cell.source = "\n".join(line for line in solutions[grade_id].splitlines()
                                    if line.strip() not in SOLUTION_MARKERS)
    return notebook


def time_autograde(submission_count: int, workers: int, timeout_seconds: float) -> GradingCost:
    """Write ``submission_count`` copies of a perfect submission as ``<id>.ipynb`` and time one autograde of them."""
    notebook = perfect_submission()
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as scratch:
        submissions = Path(scratch) / "submissions"
        submissions.mkdir()
        for index in range(submission_count):
            nbformat.write(notebook, submissions / f"student{index:03d}.ipynb")
        command = [sys.executable, "-m", "grader", "autograde", str(submissions),
                   "--out", str(Path(scratch) / "results"), "--workers", str(workers)]
        started = time.perf_counter()
        try:
            finished = subprocess.run(command, cwd=REPOSITORY_ROOT, capture_output=True, text=True,
                                      timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            return GradingCost(submission_count, workers, time.perf_counter() - started,
                               f"stopped after {timeout_seconds:.0f} s")
        seconds = time.perf_counter() - started
        failure = None
        if finished.returncode != 0:
            output = (finished.stdout + finished.stderr).strip()
            failure = f"exit status {finished.returncode}: ...{output[-FAILURE_TAIL_CHARACTERS:]}"
        return GradingCost(submission_count, workers, seconds, failure)
