"""Grade a folder of submissions with real nbgrader: autograde, feedback, export.

Every submission is graded in its own copy of the course directory (its own gradebook), by its
own nbgrader processes, so one broken notebook cannot stop the batch or touch another
student's results, and submissions can be graded in parallel. Course directories live inside
the output folder and are rebuilt from the solution notebook on every run, which makes
re-runs idempotent.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from grader.course import (
    ASSIGNMENT,
    NOTEBOOK_NAME,
    NbgraderError,
    create_course,
    generate_assignment,
    run_nbgrader,
)

TASKS = ("crop", "contracting_block", "expanding_block", "feature_map_block", "unet")
TEST_CELL_PREFIX = "test_"
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
#: Wall-clock limit of one student's whole autograde run, on top of nbgrader's per-cell timeout.
SUBMISSION_TIMEOUT_SECONDS = 1800


@dataclass
class Submission:
    student_id: str
    notebook: Path


@dataclass
class Result:
    """What happened to one submission: per-task scores, or why it could not be graded."""

    student_id: str
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)  # task -> (score, max)
    problem: str | None = None

    @property
    def total(self) -> float:
        return sum(score for score, _ in self.scores.values())


def find_submissions(folder: Path) -> tuple[list[Submission], list[Result]]:
    """``<id>/UNet_Assignment.ipynb`` and ``<id>.ipynb`` entries, plus results for unusable ones."""
    submissions, unusable = [], []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            student_id, notebook = entry.name, entry / NOTEBOOK_NAME
            if not notebook.is_file():
                notebooks = sorted(entry.glob("*.ipynb"))
                if len(notebooks) != 1:
                    unusable.append(Result(student_id, problem=f"no {NOTEBOOK_NAME} in {entry.name}/"))
                    continue
                notebook = notebooks[0]
        elif entry.suffix == ".ipynb":
            student_id, notebook = entry.stem, entry
        else:
            continue
        if not STUDENT_ID.match(student_id):
            unusable.append(Result(student_id, problem="the student id may hold only letters, "
                                   "digits, '.', '_' and '-'"))
            continue
        submissions.append(Submission(student_id, notebook))
    return submissions, unusable


def prepare_course(course_root: Path) -> Path:
    """A fresh course directory whose gradebook knows the assignment and its hidden tests."""
    if course_root.exists():
        shutil.rmtree(course_root)
    generate_assignment(create_course(course_root))
    return course_root


def student_course(template: Path, output: Path, student_id: str) -> Path:
    """This student's private copy of the prepared course."""
    course_root = output / "students" / student_id
    if course_root.exists():
        shutil.rmtree(course_root)
    shutil.copytree(template, course_root)
    return course_root


def _readable_problem(notebook: Path) -> str | None:
    """Why nbgrader could not even open this file, in plain words; None if it can."""
    try:
        nbformat.read(notebook, as_version=nbformat.NO_CONVERT)
    except Exception as error:  # JSON, schema and encoding errors all mean the same to a student
        return f"the file is not a readable notebook ({type(error).__name__}: {str(error)[:200]})"
    return None


def grade_one(course_root: Path, submission: Submission) -> Result:
    """Autograde one submission and read its scores back from the gradebook."""
    problem = _readable_problem(submission.notebook)
    if problem:
        return Result(submission.student_id, problem=problem)
    submitted = course_root / "submitted" / submission.student_id / ASSIGNMENT
    submitted.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(submission.notebook, submitted / NOTEBOOK_NAME)
    try:
        run_nbgrader(course_root, "autograde", ASSIGNMENT, "--student", submission.student_id,
                     "--create", "--force", timeout=SUBMISSION_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return Result(submission.student_id,
                      problem=f"grading took longer than {SUBMISSION_TIMEOUT_SECONDS} s and was stopped")
    except NbgraderError as error:
        return Result(submission.student_id, problem=_last_error_line(str(error)))
    scores = read_scores(course_root, submission.student_id)
    if not scores:
        return Result(submission.student_id, problem="nbgrader produced no grades for this notebook")
    return Result(submission.student_id, scores=scores)


def _last_error_line(output: str) -> str:
    errors = [line for line in output.splitlines() if "ERROR" in line or "Error" in line]
    return (errors[-1] if errors else output.strip().splitlines()[-1])[:300]


def read_scores(course_root: Path, student_id: str) -> dict[str, tuple[float, float]]:
    """Task -> (score, max score) from the gradebook's autograded test cells."""
    database = f"sqlite:///{course_root / 'gradebook.db'}"
    scores = {}
    with Gradebook(database) as gradebook:
        try:
            notebook = gradebook.find_submission_notebook(NOTEBOOK_NAME.removesuffix(".ipynb"),
                                                          ASSIGNMENT, student_id)
        except Exception:  # nbgrader's MissingEntry: autograde recorded nothing
            return {}
        for grade in notebook.grades:
            task = grade.name.removeprefix(TEST_CELL_PREFIX)
            if task in TASKS:
                scores[task] = (float(grade.score), float(grade.max_score))
    return scores


def write_feedback(course_root: Path, output: Path, student_id: str) -> Path | None:
    """Generate this student's HTML feedback (hidden tests cleared) and copy it to ``output``."""
    try:
        run_nbgrader(course_root, "generate_feedback", ASSIGNMENT, "--student", student_id, "--force")
    except NbgraderError:
        return None
    html = course_root / "feedback" / student_id / ASSIGNMENT / NOTEBOOK_NAME.replace(".ipynb", ".html")
    if not html.is_file():
        return None
    target = output / "feedback" / f"{student_id}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(html, target)
    return target


def write_grades(results: list[Result], path: Path) -> None:
    """One row per task per graded student: student_id, task, score, max_score."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "task", "score", "max_score"])
        for result in sorted(results, key=lambda r: r.student_id):
            for task in TASKS:
                if task in result.scores:
                    score, max_score = result.scores[task]
                    writer.writerow([result.student_id, task, f"{score:g}", f"{max_score:g}"])


def summary_table(results: list[Result]) -> str:
    """A plain-text table: one line per student, a column per task, then the total or the problem."""
    header = ["student", *TASKS, "total"]
    rows = []
    for result in sorted(results, key=lambda r: r.student_id):
        if result.problem:
            rows.append([result.student_id, *["-"] * len(TASKS), f"not graded: {result.problem}"])
        else:
            cells = [f"{result.scores[t][0]:g}/{result.scores[t][1]:g}" if t in result.scores else "?"
                     for t in TASKS]
            maximum = sum(m for _, m in result.scores.values())
            rows.append([result.student_id, *cells, f"{result.total:g}/{maximum:g}"])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row[:-1], widths)) + "  " + row[-1]
             for row in [header, *rows]]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def grade_and_give_feedback(template: Path, output: Path, submission: Submission) -> Result:
    course_root = student_course(template, output, submission.student_id)
    result = grade_one(course_root, submission)
    if not result.problem:
        write_feedback(course_root, output, submission.student_id)
    return result


def autograde_folder(submissions_folder: Path, output: Path, workers: int | None = None,
                     progress=None) -> list[Result]:
    """Grade every submission in ``submissions_folder``; write grades.csv and feedback to ``output``."""
    output.mkdir(parents=True, exist_ok=True)
    for stale in ("feedback", "students"):
        shutil.rmtree(output / stale, ignore_errors=True)
    template = prepare_course(output / "course")
    submissions, results = find_submissions(submissions_folder)
    workers = workers or len(os.sched_getaffinity(0))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(grade_and_give_feedback, template, output, submission)
                   for submission in submissions]
        finished = as_completed(futures)
        for future in progress(finished, total=len(futures)) if progress else finished:
            results.append(future.result())
    write_grades(results, output / "grades.csv")
    return results
