"""Grades into Canvas and Moodle through ``nbgrader export --exporter``: files compared byte for byte
with ones written by hand from the LMS's import instructions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from grader.course.course_directory import nbgrader_environment

ROSTER = """\
student_id,name,lms_id,sis_user_id,sis_login_id,section,email
alice,"Smith, Alice",1021,S1021,asmith,Section A,alice@uni.example
bob,"Jones, Bob",1022,S1022,bjones,Section B,bob@uni.example
carol,"Diaz, Carol",1023,S1023,cdiaz,Section A,carol@uni.example
"""
#: Canvas: the five identity columns, the assignment, a "Points Possible" row; carol has no submission.
CANVAS = """\
Student,ID,SIS User ID,SIS Login ID,Section,U-Net (4711)
    Points Possible,,,,,15
"Smith, Alice",1021,S1021,asmith,Section A,15
"Jones, Bob",1022,S1022,bjones,Section B,12.857
"Diaz, Carol",1023,S1023,cdiaz,Section A,
"""
#: Moodle: one identifier column (matched to the users' email on import) and the grade.
MOODLE = """\
Email address,unet
alice@uni.example,15
bob@uni.example,12.857
carol@uni.example,
"""


def make_gradebook(course: Path, scores: dict[str, float]) -> None:
    """A gradebook as nbgrader autograde leaves it: the assignment's 15 points in one cell, a score per submission."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        gradebook.add_assignment("unet")
        gradebook.add_notebook("UNet_Assignment", "unet")
        gradebook.add_grade_cell("test_unet", "UNet_Assignment", "unet", max_score=15, cell_type="code")
        for student, score in scores.items():
            gradebook.add_student(student)
            gradebook.add_submission("unet", student)
            gradebook.find_grade("test_unet", "UNet_Assignment", "unet", student).auto_score = score
        gradebook.add_student("carol")
        gradebook.db.commit()


def export(course: Path, exporter: str, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nbgrader", "export", "--exporter", f"grader.reporting.lms_export.{exporter}",
                           "--to", str(course / "out.csv"), f"--Roster.path={course / 'roster.csv'}", *options],
                          cwd=course, env=nbgrader_environment(), capture_output=True, text=True, timeout=120)


@pytest.fixture
def course(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", nbgrader_environment()["PATH"])  # the gradebook's migrations run `alembic`
    (tmp_path / "roster.csv").write_text(ROSTER)
    make_gradebook(tmp_path, {"alice": 15.0, "bob": 12.857})
    return tmp_path


def test_canvas_file_has_the_identity_columns_points_possible_and_an_empty_cell_for_no_submission(course):
    completed = export(course, "CanvasExport", "--CanvasExport.column=U-Net (4711)")
    assert completed.returncode == 0, completed.stderr
    assert (course / "out.csv").read_text() == CANVAS


@pytest.mark.slow
def test_moodle_file_has_an_identifier_and_the_grade(course):
    completed = export(course, "MoodleExport")
    assert completed.returncode == 0, completed.stderr
    assert (course / "out.csv").read_text() == MOODLE


@pytest.mark.slow
def test_a_submission_of_a_student_not_on_the_roster_stops_the_export_before_writing(course):
    (course / "roster.csv").write_text(ROSTER.replace("bob,", "robert,"))
    completed = export(course, "CanvasExport")
    assert completed.returncode != 0
    assert "not on the roster: bob" in completed.stderr and not (course / "out.csv").exists()
