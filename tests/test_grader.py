"""The autograder against the solution, the blank notebook, mutants and correct variants.

One real ``python -m grader autograde`` run grades the whole catalogue; the tests read its
grades.csv, summary and feedback.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import defaultdict

import nbformat
import pytest

from grader.autograde import TASKS
from grader.course import STUDENT_NOTEBOOK
from tests.conftest import REPOSITORY_ROOT
from tests.submissions import CORRECT_VARIANTS, MUTANTS, filled_in

MAX_POINTS = {"crop": 2, "contracting_block": 3, "expanding_block": 4, "feature_map_block": 1, "unet": 5}
MUTATION_REPORT: dict[str, str] = {}  # mutant -> its task's score, printed after the run


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Write every submission, grade the folder once, and return (grades, summary, output folder)."""
    submissions = tmp_path_factory.mktemp("submissions")
    (submissions / "solution").mkdir()
    nbformat.write(filled_in(), submissions / "solution" / "UNet_Assignment.ipynb")
    (submissions / "blank.ipynb").write_text(STUDENT_NOTEBOOK.read_text())
    (submissions / "broken.ipynb").write_text('{"cells": [')  # a truncated save
    for mutant in MUTANTS:
        nbformat.write(mutant.notebook(), submissions / f"{mutant.name}.ipynb")
    for name, (task, source) in CORRECT_VARIANTS.items():
        nbformat.write(filled_in({task: source}), submissions / f"{name}.ipynb")
    output = tmp_path_factory.mktemp("graded")
    completed = subprocess.run(
        [sys.executable, "-m", "grader", "autograde", str(submissions), "--out", str(output)],
        cwd=REPOSITORY_ROOT, capture_output=True, text=True, timeout=3000,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    grades = defaultdict(dict)
    with (output / "grades.csv").open() as handle:
        for row in csv.DictReader(handle):
            grades[row["student_id"]][row["task"]] = (float(row["score"]), float(row["max_score"]))
    return grades, completed.stdout, output


def test_solution_gets_full_marks(graded):
    grades, _, _ = graded
    assert grades["solution"] == {task: (points, points) for task, points in MAX_POINTS.items()}


def test_blank_notebook_gets_zero_in_every_task(graded):
    grades, _, _ = graded
    assert grades["blank"] == {task: (0.0, points) for task, points in MAX_POINTS.items()}


def test_unreadable_notebook_gets_no_rows_and_a_reason(graded):
    grades, summary, _ = graded
    assert "broken" not in grades
    line = next(line for line in summary.splitlines() if line.startswith("broken"))
    assert "not graded" in line and "not a readable notebook" in line


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda mutant: mutant.name)
def test_mutant_loses_points_only_in_its_own_task(graded, mutant):
    grades, _, _ = graded
    scores = grades[mutant.name]
    assert set(scores) == set(TASKS), f"{mutant.name} was not graded: {scores}"
    score, maximum = scores[mutant.task]
    MUTATION_REPORT[mutant.name] = f"{mutant.task} {score:g}/{maximum:g}"
    assert score < maximum, f"{mutant.name} kept all {maximum:g} points of {mutant.task}"
    others = {task: value for task, value in scores.items() if task != mutant.task}
    assert all(score == maximum for score, maximum in others.values()), (
        f"{mutant.name} lost points outside {mutant.task}: {others}"
    )


@pytest.mark.parametrize("name", sorted(CORRECT_VARIANTS))
def test_correct_variant_gets_full_marks(graded, name):
    grades, _, _ = graded
    assert grades[name] == {task: (points, points) for task, points in MAX_POINTS.items()}


def test_feedback_shows_results_but_never_the_hidden_tests(graded):
    _, _, output = graded
    pages = sorted((output / "feedback").glob("*.html"))
    assert len(pages) == 1 + 1 + len(MUTANTS) + len(CORRECT_VARIANTS)  # all but the unreadable one
    for page in pages:
        html = page.read_text()
        for secret in ("run_hidden_tests", "isolate_from_upstream", "BEGIN HIDDEN TESTS", "grader.hidden"):
            assert secret not in html, f"{page.name} reveals {secret!r}"
    assert "hidden checks passed" in (output / "feedback" / "solution.html").read_text()


def test_grading_the_same_folder_twice_gives_the_same_results(tmp_path):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    nbformat.write(MUTANTS[0].notebook(), submissions / "student.ipynb")
    runs = []
    for _ in range(2):
        subprocess.run([sys.executable, "-m", "grader", "autograde", str(submissions),
                        "--out", str(tmp_path / "out")], cwd=REPOSITORY_ROOT, check=True,
                       capture_output=True, timeout=600)
        runs.append(((tmp_path / "out" / "grades.csv").read_text(),
                     sorted(p.name for p in (tmp_path / "out" / "feedback").iterdir())))
    assert runs[0] == runs[1]
    assert "student,crop," in runs[0][0]
