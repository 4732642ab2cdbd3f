"""The class gradebook: a re-grade changes the auto scores and nothing an instructor did by hand."""

from __future__ import annotations

import pytest
from nbgrader.api import Gradebook

from grader.course.course_directory import nbgrader_environment, prepare_course
from grader.report import CheckResult, SubmissionReport, TaskResult
from grader.reporting.gradebook import prepare_class_gradebook, record_students
from unet_kit.assignment import ASSIGNMENT, TASKS, grade_id_of_test_cell

pytestmark = pytest.mark.slow  # an nbgrader course is generated (seconds)

NOTEBOOK = "UNet_Assignment"
POINTS = {"crop": 2, "contracting_block": 3, "expanding_block": 4, "feature_map_block": 1, "unet": 5}


def report(student: str, expanding: float, timestamp: str | None = None) -> SubmissionReport:
    scores = {**POINTS, "expanding_block": expanding}
    return SubmissionReport(student, timestamp=timestamp, tasks=[
        TaskResult(task, POINTS[task], scores[task], [CheckResult("a", scores[task] == POINTS[task])]) for task in TASKS])


def test_a_regrade_keeps_manual_comments_extra_credit_and_the_timestamp(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", nbgrader_environment()["PATH"])  # the gradebook's migrations run `alembic`
    url = f"sqlite:///{tmp_path / 'class.db'}"
    prepare_class_gradebook(url, prepare_course(tmp_path / "course"))
    record_students(url, [report("bob", 2.857, "2026-12-01 10:00:00.000000 UTC")])
    with Gradebook(url) as gradebook:
        grade = gradebook.find_grade(grade_id_of_test_cell("expanding_block"), NOTEBOOK, ASSIGNMENT, "bob")
        assert grade.auto_score == 2.857 and not grade.needs_manual_grade
        grade.extra_credit = 1.0
        gradebook.find_comment("expanding_block", NOTEBOOK, ASSIGNMENT, "bob").manual_comment = "Bilinear, please."
        gradebook.db.commit()
    record_students(url, [report("bob", 4.0)])  # graded again, from a folder without timestamp.txt
    with Gradebook(url) as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, "bob")
        grade = gradebook.find_grade(grade_id_of_test_cell("expanding_block"), NOTEBOOK, ASSIGNMENT, "bob")
        comment = gradebook.find_comment("expanding_block", NOTEBOOK, ASSIGNMENT, "bob")
        assert (grade.auto_score, grade.extra_credit, comment.manual_comment) == (4.0, 1.0, "Bilinear, please.")
        assert submission.timestamp.isoformat().startswith("2026-12-01T10:00:00")
        assert submission.score == pytest.approx(16.0)
        assert len(gradebook.find_student("bob").submissions) == 1


def test_the_schema_head_read_from_nbgraders_migration_files_is_the_one_alembic_names():
    """New gradebooks are stamped from the files, not by starting the ``alembic`` program: the same head."""
    from grader.course.course_directory import gradebook_schema_head, nbgraders_own_schema_head

    assert gradebook_schema_head() == nbgraders_own_schema_head()
