"""The autograder against the solution, the blank notebook, mutants and correct variants.

They are graded in the one batch of ``tests/batch.py``, together with the bad submissions of
``test_bad_submissions``; the tests read its grades.csv, summary and feedback.
"""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from tests.bad_submissions import HIDDEN_TEST_MARKERS
from tests.batch import FULL_MARKS
from tests.figures import MUTATION_REPORT
from tests.submissions import CORRECT_VARIANTS, MUTANTS
from unet_kit.assignment import REPOSITORY_ROOT, TASKS

pytestmark = pytest.mark.slow  # every test here reads the graded batch or runs the grader itself


def test_solution_gets_full_marks(graded_batch):
    assert graded_batch.grades["solution"] == FULL_MARKS


def test_blank_notebook_gets_zero_in_every_task(graded_batch):
    assert graded_batch.grades["blank"] == {task: (0.0, points) for task, (_, points) in FULL_MARKS.items()}


def test_unreadable_notebook_gets_no_rows_and_a_reason(graded_batch):
    assert "broken" not in graded_batch.grades
    (line,) = graded_batch.summary_lines("broken")
    assert "not graded" in line and "not a readable notebook" in line


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda mutant: mutant.name)
def test_mutant_loses_points_only_in_its_own_task(graded_batch, mutant):
    scores = graded_batch.grades[mutant.name]
    assert set(scores) == set(TASKS), f"{mutant.name} was not graded: {scores}"
    score, maximum = scores[mutant.task]
    MUTATION_REPORT[mutant.name] = (mutant.task, score, maximum)
    assert score < maximum, f"{mutant.name} kept all {maximum:g} points of {mutant.task}"
    others = {task: value for task, value in scores.items() if task != mutant.task}
    assert all(score == maximum for score, maximum in others.values()), (
        f"{mutant.name} lost points outside {mutant.task}: {others}"
    )


@pytest.mark.parametrize("name", sorted(CORRECT_VARIANTS))
def test_correct_variant_gets_full_marks(graded_batch, name):
    assert graded_batch.grades[name] == FULL_MARKS


def test_feedback_shows_results_but_never_the_hidden_tests(graded_batch):
    pages = sorted((graded_batch.output / "feedback").glob("*.html"))
    assert len(pages) == len(graded_batch.grades)  # every graded submission has a page
    for page in pages:
        html = page.read_text()
        for secret in ("BEGIN HIDDEN TESTS", *HIDDEN_TEST_MARKERS):
            assert secret not in html, f"{page.name} reveals {secret!r}"
    solution = (graded_batch.output / "feedback" / "solution.html").read_text()
    assert "hidden checks passed" in solution and "Score: 5.0 / 5.0" in solution


def test_feedback_score_is_the_checkers_not_the_kernels(graded_batch):
    """A failing mutant's feedback shows the partial score that grades.csv holds."""
    page = (graded_batch.output / "feedback" / "contracting_pool_stride_1.html").read_text()
    score, maximum = graded_batch.grades["contracting_pool_stride_1"]["contracting_block"]
    assert f"Score: {score:.1f} / {maximum:.1f}" in page


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
