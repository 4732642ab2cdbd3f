"""A throw-away nbgrader course directory built from the solution notebook.

nbgrader wants its own layout (``source/``, ``release/``, ``submitted/``, a gradebook);
we build it on demand outside the repository so nothing under version control is touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from grader.entry_points import BATCH_COURSE_CONFIG
from unet_kit.assignment import (
    ASSIGNMENT,
    NOTEBOOK_NAME,
    REPOSITORY_ROOT,
    SOLUTION_NOTEBOOK,
    nbgrader_metadata,
    task_of_test_cell,
)


class NbgraderError(RuntimeError):
    """An nbgrader command failed; the message carries its output."""


def nbgrader_environment() -> dict[str, str]:
    """Environment for nbgrader and its kernels: our packages importable, the venv's tools on PATH.

    The gradebook's migrations run ``alembic`` as a program, so the interpreter's ``bin/``
    must be on PATH even when the venv was never activated.
    """
    environment = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    environment["PATH"] = os.pathsep.join([bin_dir, environment.get("PATH", "")])
    python_path = [str(REPOSITORY_ROOT), environment.get("PYTHONPATH", "")]
    environment["PYTHONPATH"] = os.pathsep.join(p for p in python_path if p)
    environment["PYTHONWARNINGS"] = "ignore"  # a stray warning on stderr zeroes a test cell
    environment["TQDM_DISABLE"] = "1"
    environment["MPLBACKEND"] = "Agg"
    return environment


def run_nbgrader(course_root: Path, *arguments: str, timeout: float | None = None,
                 environment: dict[str, str] | None = None) -> str:
    """Run ``nbgrader ARGUMENTS`` inside ``course_root``; return its combined output."""
    completed = subprocess.run(
        [sys.executable, "-m", "nbgrader", *arguments], cwd=course_root,
        env=nbgrader_environment() | (environment or {}), capture_output=True, text=True, timeout=timeout,
    )
    output = completed.stdout + completed.stderr
    if completed.returncode != 0:
        raise NbgraderError(f"nbgrader {' '.join(arguments)} failed:\n{output}")
    return output


def nbgrader_here(course_root: Path, command: str, student_id: str | None = None,
                  settings: dict | None = None) -> None:
    """``nbgrader COMMAND ASSIGNMENT [--student STUDENT] --force`` in this process, with the course's config.

    No interpreter to start and nbgrader imported once: in a warm worker (``grader.warm_process``)
    or the batch itself. Its log stays out of the terminal; a failure raises NbgraderError with it.
    """
    import logging
    import warnings

    from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log
    from traitlets.config import Config, PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    config.merge(Config(settings or {}))
    coursedir = CourseDirectory(config=config, root=str(course_root))
    coursedir.assignment_id = ASSIGNMENT
    if student_id is not None:
        coursedir.student_id = student_id
    log = logging.getLogger(f"grader.nbgrader.{command}")
    log.propagate, log.level = False, logging.INFO
    converter = {"autograde": Autograde, "generate_feedback": GenerateFeedback,
                 "generate_assignment": GenerateAssignment}[command]
    app = converter(coursedir=coursedir, config=config, log=log)
    app.force = True
    if command == "autograde":
        app.create_student = True
    with warnings.catch_warnings():  # nbgrader's SQLAlchemy warnings say nothing to an instructor
        warnings.simplefilter("ignore")
        result = capture_log(app)
    if not result["success"]:
        raise NbgraderError(f"nbgrader {command} failed:\n{result.get('log', '')}\n{result.get('error', '')}")


def create_course(course_root: Path, solution: Path = SOLUTION_NOTEBOOK) -> Path:
    """Lay out a course in ``course_root`` with the solution as its source; return the root."""
    course_root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(BATCH_COURSE_CONFIG, course_root / "nbgrader_config.py")
    source_dir = course_root / "source" / ASSIGNMENT
    source_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(solution, source_dir / NOTEBOOK_NAME)
    return course_root


def generate_assignment(course_root: Path) -> Path:
    """Run ``nbgrader generate_assignment`` and return the released student notebook."""
    nbgrader_here(course_root, "generate_assignment")
    return course_root / "release" / ASSIGNMENT / NOTEBOOK_NAME


def prepare_course(course_root: Path) -> Path:
    """A fresh course directory whose gradebook knows the assignment and its hidden tests."""
    if course_root.exists():
        shutil.rmtree(course_root)
    generate_assignment(create_course(course_root))
    return course_root


def task_points(solution: Path = SOLUTION_NOTEBOOK) -> dict[str, float]:
    """Points of each task, read from its test cell in the nbgrader source (one source of truth)."""
    notebook = nbformat.read(solution, as_version=4)
    points = {}
    for cell in notebook.cells:
        grading = nbgrader_metadata(cell)
        task = task_of_test_cell(grading.get("grade_id", ""))
        if grading.get("grade") and task:
            points[task] = float(grading["points"])
    return points
