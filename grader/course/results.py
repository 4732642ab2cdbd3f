"""``python -m grader autograde --course DIR``: the batch's results written where nbgrader keeps them.

After the batch graded ``DIR/submitted/<student>/<assignment>/``, each graded student's
autograded notebook goes to ``DIR/autograded/<student>/<assignment>/`` (formgrader lists it)
and their feedback page to ``DIR/feedback/<student>/<assignment>/`` beside nbgrader's
``timestamp.txt`` and ``submission_secret.txt``, so ``nbgrader release_feedback`` sends it back
through the exchange. The scores go into the course's own gradebook (``--gradebook``).
Files from the submitted folder are copied only when they are plain files.
"""

from __future__ import annotations

from pathlib import Path

from grader.confinement.scratch import copy_plain_file
from grader.report import SubmissionReport
from unet_kit.assignment import ASSIGNMENT, NOTEBOOK_NAME

#: What nbgrader's own exchange steps need beside a feedback page or an autograded notebook.
NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")


def _copy(source: Path, target: Path, notes: list[str]) -> None:
    if not source.exists() and not source.is_symlink():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        copy_plain_file(source, target)
    except OSError:
        notes.append(f"{source.name} in the submitted folder is not a plain file: left out of the course")


def write_into_course(course: Path, output: Path, reports: list[SubmissionReport], assignment: str = ASSIGNMENT) -> None:
    """Each graded student's autograded notebook and feedback page into the course's own folders."""
    for report in reports:
        if not report.graded:
            continue
        student = report.student_id
        submitted = course / "submitted" / student / assignment
        autograded = course / "autograded" / student / assignment
        feedback = course / "feedback" / student / assignment
        executed = output / "students" / student / "autograded" / student / ASSIGNMENT / NOTEBOOK_NAME
        _copy(executed, autograded / NOTEBOOK_NAME, report.notes)
        _copy(output / "feedback" / f"{student}.html", feedback / NOTEBOOK_NAME.replace(".ipynb", ".html"), report.notes)
        for name in NBGRADER_FILES:
            for folder in (autograded, feedback):
                _copy(submitted / name, folder / name, [])
