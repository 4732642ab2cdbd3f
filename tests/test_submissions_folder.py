"""An instructor's usual mistakes with the folder of submissions: one clear line each, before grading."""

from __future__ import annotations

import shutil
import subprocess
import sys

import nbformat
import pytest

from grader.course.submissions import FolderMistake, find_submissions, gradebook_url
from tests.submissions import filled_in
from unet_kit.assignment import NOTEBOOK_NAME, REPOSITORY_ROOT, STUDENT_NOTEBOOK


def answered(path):
    nbformat.write(filled_in(), path)


def blank(path):
    shutil.copyfile(STUDENT_NOTEBOOK, path)


def test_nbgraders_nested_layout_is_read_as_it_is(tmp_path):
    (tmp_path / "alice" / "unet").mkdir(parents=True)
    answered(tmp_path / "alice" / "unet" / NOTEBOOK_NAME)
    (tmp_path / "alice" / "unet" / "timestamp.txt").write_text("2026-12-01 10:00:00 UTC")
    submissions, unusable = find_submissions(tmp_path)
    assert [(s.student_id, s.notebook) for s in submissions] == [("alice", tmp_path / "alice" / "unet" / NOTEBOOK_NAME)]
    assert submissions[0].timestamp == "2026-12-01 10:00:00 UTC" and unusable == []


def test_one_students_folder_given_as_the_class_is_refused_with_what_to_pass(tmp_path):
    answered(tmp_path / NOTEBOOK_NAME)
    with pytest.raises(FolderMistake, match="looks like one student's folder: pass the folder that holds"):
        find_submissions(tmp_path)


def test_a_course_directory_given_as_the_class_points_to_nbgrader_and_to_submitted(tmp_path):
    for folder in ("source", "release", "submitted"):
        (tmp_path / folder).mkdir()
    with pytest.raises(FolderMistake, match=r"is an nbgrader course directory: run `nbgrader autograde ASSIGNMENT`"):
        find_submissions(tmp_path)


def test_of_a_blank_and_an_answered_notebook_the_answered_one_is_graded_with_a_note(tmp_path):
    (tmp_path / "bob").mkdir()
    blank(tmp_path / "bob" / NOTEBOOK_NAME)
    answered(tmp_path / "bob" / "UNet_Assignment (1).ipynb")
    (submission,), unusable = find_submissions(tmp_path)
    assert submission.notebook.name == "UNet_Assignment (1).ipynb" and unusable == []
    assert submission.notes == ["bob/ holds 2 notebooks (UNet_Assignment (1).ipynb, UNet_Assignment.ipynb): "
                                "graded UNet_Assignment (1).ipynb, the one with answers"]


def test_two_answered_notebooks_are_refused_never_one_picked_silently(tmp_path):
    (tmp_path / "cy").mkdir()
    answered(tmp_path / "cy" / NOTEBOOK_NAME)
    answered(tmp_path / "cy" / "copy.ipynb")
    submissions, (report,) = find_submissions(tmp_path)
    assert submissions == [] and "each has answers: leave the one to grade" in report.problem


def test_a_file_name_that_is_no_student_id_says_how_to_rename_it(tmp_path):
    answered(tmp_path / "Alice Smith.ipynb")
    _, (report,) = find_submissions(tmp_path)
    assert report.problem.endswith("rename 'Alice Smith.ipynb' to 'Alice_Smith.ipynb', say")


def test_a_gradebook_path_is_accepted_and_a_missing_folder_refused(tmp_path):
    assert gradebook_url(str(tmp_path / "class.db")) == f"sqlite:///{tmp_path / 'class.db'}"
    assert gradebook_url("postgresql://grader@db/unet") == "postgresql://grader@db/unet"
    with pytest.raises(FolderMistake, match="does not exist: make"):
        gradebook_url(str(tmp_path / "absent" / "class.db"))
    with pytest.raises(FolderMistake, match="does not exist"):
        gradebook_url(f"sqlite:///{tmp_path / 'absent' / 'class.db'}")


@pytest.mark.slow
def test_the_command_prints_the_mistake_in_one_line_and_grades_nothing(tmp_path):
    answered(tmp_path / NOTEBOOK_NAME)
    completed = subprocess.run([sys.executable, "-m", "grader", "autograde", str(tmp_path), "--out", str(tmp_path / "out")],
                               cwd=REPOSITORY_ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2 and not (tmp_path / "out").exists()
    (line,) = completed.stderr.strip().splitlines()
    assert line.startswith("error: ") and "one student's folder" in line


def test_a_courses_submitted_folder_hides_the_whole_course_and_its_exchange(tmp_path):
    from grader.course.setup import make_course
    from grader.course.submissions import folders_beside

    course = make_course(tmp_path / "course", exchange=tmp_path / "exchange").root
    (course / "submitted").mkdir()
    (tmp_path / "exchange").mkdir()
    assert folders_beside(course / "submitted") == [course, (tmp_path / "exchange").resolve()]
    (tmp_path / "loose").mkdir()
    assert folders_beside(tmp_path / "loose") == []


def test_in_nbgraders_layout_the_assignment_picks_one_of_several(tmp_path):
    for assignment in ("unet", "hw2"):
        (tmp_path / "alice" / assignment).mkdir(parents=True)
        answered(tmp_path / "alice" / assignment / NOTEBOOK_NAME)
    _, (report,) = find_submissions(tmp_path)
    assert "holds several assignments (hw2, unet)" in report.problem
    (submission,), _ = find_submissions(tmp_path, assignment="unet")
    assert submission.notebook == tmp_path / "alice" / "unet" / NOTEBOOK_NAME
