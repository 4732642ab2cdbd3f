"""One nbgrader gradebook for the whole class, written by one process: the one that collects results.

Each submission is graded in its own course copy (its own SQLite gradebook), here or on a
cluster's worker; at the end the collecting process writes every student's scores into the
class gradebook at ``--gradebook`` (any SQLAlchemy URL, as nbgrader's ``db_url``; by default
``sqlite:///OUT/gradebook.db``), so ``nbgrader export`` and formgrader read the class as any
nbgrader course's. Re-grading a student updates their one submission: manual grades, comments,
extra credit and the submission's timestamp stay.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.utils import parse_utc

from grader.course.course_directory import nbgrader_here
from grader.report import SubmissionReport
from unet_kit.assignment import ASSIGNMENT, NOTEBOOK_NAME, grade_id_of_test_cell

GRADEBOOK_NAME = "gradebook.db"


def default_gradebook_url(output: Path) -> str:
    return f"sqlite:///{output.resolve() / GRADEBOOK_NAME}"


def record_class_gradebook(url: str, course: Path, reports: list[SubmissionReport]) -> int:
    """The assignment and every graded student's task scores in the gradebook at ``url``; how many students."""
    prepare_class_gradebook(url, course)
    return record_students(url, reports)


def prepare_class_gradebook(url: str, course: Path) -> None:
    """The assignment, its notebook and its graded cells in the gradebook, recorded by nbgrader itself
    from the prepared ``course`` exactly as for its own courses.

    A new SQLite gradebook starts as a copy of the course's own, where nbgrader has just recorded
    them: the same rows, without a second nbgrader run.
    """
    new_file = _sqlite_file(url)
    if new_file is not None and not new_file.exists():
        shutil.copyfile(course / GRADEBOOK_NAME, new_file)
        return
    nbgrader_here(course, "generate_assignment", settings={"CourseDirectory": {"db_url": url}})


def _sqlite_file(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:////") else None


def record_students(url: str, reports: list[SubmissionReport]) -> int:
    """Each graded student's submission with the checker's task scores and its timestamp.

    A re-grade updates the student's one submission in place, as nbgrader's own autograde does:
    the auto scores change; manual scores, comments and extra credit stay.
    """
    graded = [report for report in reports if report.graded]
    with Gradebook(url) as gradebook:
        for report in graded:
            gradebook.update_or_create_student(report.student_id)
            timestamp = _parsed(report.timestamp)
            if timestamp:
                gradebook.update_or_create_submission(ASSIGNMENT, report.student_id, timestamp=timestamp)
            else:
                gradebook.update_or_create_submission(ASSIGNMENT, report.student_id)
            set_task_scores(gradebook, report)
    return len(graded)


def _parsed(timestamp: str | None):
    """nbgrader's reading of a ``timestamp.txt``; None for none or an unreadable one."""
    if not timestamp:
        return None
    try:
        return parse_utc(timestamp)
    except (ValueError, OverflowError):
        return None


def set_task_scores(gradebook: Gradebook, report: SubmissionReport, assignment: str = ASSIGNMENT,
                    notebook: str = NOTEBOOK_NAME.removesuffix(".ipynb")) -> None:
    """Each task's score from the checker as the auto score of its test cell, over what the visible tests earned.

    A score the checker gave needs no manual grading, unless a grader already set one by hand
    (nbgrader's own rule: then formgrader asks them to look again). Manual scores, comments and
    extra credit are never touched.
    """
    for task in report.tasks:
        grade = gradebook.find_grade(grade_id_of_test_cell(task.task), notebook, assignment, report.student_id)
        grade.auto_score = task.score
        grade.needs_manual_grade = grade.manual_score is not None
    gradebook.db.commit()
