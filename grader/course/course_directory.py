"""A throw-away nbgrader course directory built from the solution notebook.

nbgrader wants its own layout (``source/``, ``release/``, ``submitted/``, a gradebook);
we build it on demand outside the repository so nothing under version control is touched.
"""

from __future__ import annotations

import os
import re
import shutil
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
    path = environment.get("PATH", "").split(os.pathsep)
    environment["PATH"] = os.pathsep.join(path if bin_dir in path else [bin_dir, *path])
    python_path = [str(REPOSITORY_ROOT), environment.get("PYTHONPATH", "")]
    environment["PYTHONPATH"] = os.pathsep.join(p for p in python_path if p)
    environment["PYTHONWARNINGS"] = "ignore"  # a stray warning on stderr zeroes a test cell
    environment["TQDM_DISABLE"] = "1"
    environment["MPLBACKEND"] = "Agg"
    return environment


REVISION_LINE = re.compile(r"^(down_)?revision\s*=\s*['\"]?(\w+)", re.MULTILINE)


def gradebook_schema_head() -> str:
    """The gradebook schema's newest migration, read from nbgrader's migration files.

    nbgrader stamps every new gradebook with it, and asks the ``alembic`` program for it: a
    second interpreter that costs seconds for each batch. The files say the same (a test
    compares the two); when they do not name one head, nbgrader's own way answers.
    """
    from nbgrader.dbutil import ALEMBIC_DIR

    revisions, parents = set(), set()
    for script in (Path(ALEMBIC_DIR) / "versions").glob("*.py"):
        for down, revision in REVISION_LINE.findall(script.read_text()):
            (parents if down else revisions).add(revision)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else nbgraders_own_schema_head()


def nbgraders_own_schema_head() -> str:
    """What nbgrader's ``get_alembic_version`` answers, by running ``alembic``."""
    import nbgrader.api

    own = getattr(nbgrader.api, "_get_alembic_version_by_program", nbgrader.api.get_alembic_version)
    return own()


def read_schema_head_from_files() -> None:
    """From now on in this process, a new gradebook takes its schema head from ``gradebook_schema_head``."""
    import nbgrader.api

    if nbgrader.api.get_alembic_version is not gradebook_schema_head:
        nbgrader.api._get_alembic_version_by_program = nbgrader.api.get_alembic_version
        nbgrader.api.get_alembic_version = gradebook_schema_head


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

    os.environ["PATH"] = nbgrader_environment()["PATH"]  # if a new gradebook does run `alembic`: the venv's
    read_schema_head_from_files()
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
