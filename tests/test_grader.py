"""The autograder against the solution, the blank notebook, mutants and correct variants.

They are graded in the one batch of ``tests/batch.py``, together with the bad submissions of
``test_bad_submissions``; the tests read its grades.csv, summary and feedback.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys

import nbformat
import pytest

from grader.checking.misconception_feedback import FEEDBACK
from grader.reporting.class_report import CHECKS_CSV, CLASS_REPORT, read_checks_csv
from tests.bad_submissions import HIDDEN_TEST_MARKERS
from tests.batch import FULL_MARKS
from tests.figures import MUTATION_REPORT
from tests.submissions import CORRECT_VARIANTS, MISCONCEPTION_OF, MUTANTS, fits_template
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


# -- misconceptions and the class report ---------------------------------------------------------
@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda mutant: mutant.name)
def test_mutant_is_diagnosed_with_its_own_misconception(graded_batch, mutant):
    report = graded_batch.reports[mutant.name]
    assert {task.task: [d.id for d in task.misconceptions] for task in report.tasks if task.misconceptions} == {
        mutant.task: [MISCONCEPTION_OF[mutant.name]]}
    (explanation,) = [d.explanation for task in report.tasks for d in task.misconceptions]
    assert fits_template(explanation, FEEDBACK[MISCONCEPTION_OF[mutant.name]]["explanation"])
    feedback = html.unescape((graded_batch.output / "feedback" / f"{mutant.name}.html").read_text())
    assert f"Likely misconception: {explanation}" in feedback


def test_correct_work_is_never_diagnosed(graded_batch):
    correct = ["solution", "blank", *CORRECT_VARIANTS,
               *(name for name, grades in graded_batch.grades.items() if grades == FULL_MARKS)]
    for name in correct:
        assert not any(task.misconceptions for task in graded_batch.reports[name].tasks), name
        assert "Likely misconception:" not in (graded_batch.output / "feedback" / f"{name}.html").read_text(), name


def test_repeated_failures_of_one_check_collapse_into_one_line_with_a_count(graded_batch):
    summary = graded_batch.reports["crop_not_centred"].task("crop").summary()
    (line,) = [line for line in summary.splitlines() if "test_window_follows_the_centre_rule" in line]
    assert re.search(r"failed test_window_follows_the_centre_rule \(\d of 6 cases\): ", line)


def test_checks_csv_has_a_row_for_every_hidden_check_of_every_graded_student(graded_batch):
    rows = read_checks_csv(graded_batch.output / CHECKS_CSV)
    expected = sorted((report.student_id, task.task, check.label, check.passed)
                      for report in graded_batch.reports.values() for task in report.tasks for check in task.checks)
    assert sorted((row.student_id, row.task, row.check, row.passed) for row in rows) == expected
    assert {row.student_id for row in rows} == set(graded_batch.grades)
    assert {row.misconception for row in rows if row.student_id == "contracting_average_pool" and not row.passed} == {
        "contracting_block.average_pooling"}


def test_class_report_can_be_rebuilt_from_checks_csv_alone(graded_batch, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / CHECKS_CSV).write_bytes((graded_batch.output / CHECKS_CSV).read_bytes())
    completed = subprocess.run([sys.executable, "-m", "grader", "report", str(run)], cwd=REPOSITORY_ROOT,
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    rebuilt, original = (run / CLASS_REPORT).read_text(), (graded_batch.output / CLASS_REPORT).read_text()
    for table in ("misconceptions", "checks"):
        assert re.search(f'<table class="{table}">.*?</table>', rebuilt, re.S).group() == re.search(
            f'<table class="{table}">.*?</table>', original, re.S).group()
