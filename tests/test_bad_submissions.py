"""Bad submissions are graded for what their code earned, explained, and harm nobody else.

The cases live in ``tests/bad_submissions.py``; they are graded in the shared batch of
``tests/batch.py`` (with the mutants they are compared against).
"""

from __future__ import annotations

import pytest

from grader.jail import landlock_abi
from tests.bad_submissions import BAD_SUBMISSIONS, HIDDEN_TEST_MARKERS, targets_outside
from tests.batch import MAX_POINTS, file_hash
from tests.test_grader import FULL_MARKS

GRADED = [case for case in BAD_SUBMISSIONS if not case.not_graded]
needs_landlock = pytest.mark.skipif(landlock_abi() == 0, reason="this kernel has no Landlock: the grader "
                                    "cannot confine file access here (see the README)")


def expected_scores(case, grades) -> dict[str, tuple[float, float]]:
    expected = dict(FULL_MARKS)
    for task, score in case.scores.items():
        if isinstance(score, str):  # "as <mutant>": what the plain wrong answer earns
            expected[task] = grades[score.removeprefix("as ")][task]
        else:
            expected[task] = (score, float(MAX_POINTS[task]))
    return expected


@pytest.mark.parametrize("case", GRADED, ids=lambda case: case.name)
def test_bad_submission_gets_what_its_code_earned(graded_batch, case):
    if case.needs_signal_scoping and landlock_abi() < 6:
        pytest.skip("this kernel's Landlock cannot stop signals to the grader (needs ABI 6)")
    assert graded_batch.grades.get(case.name) == expected_scores(case, graded_batch.grades)


@pytest.mark.parametrize("case", [c for c in BAD_SUBMISSIONS if c.not_graded], ids=lambda case: case.name)
def test_unusable_file_is_reported_with_its_reason(graded_batch, case):
    assert case.name not in graded_batch.grades
    (line,) = graded_batch.summary_lines(case.name)
    assert "not graded" in line and case.not_graded in line


@pytest.mark.parametrize("case", [c for c in GRADED if c.note], ids=lambda case: case.name)
def test_repair_or_stop_is_explained_in_summary_and_feedback(graded_batch, case):
    assert any(case.note in line for line in graded_batch.summary_lines(case.name)), graded_batch.summary_lines(case.name)
    feedback = (graded_batch.output / "feedback" / f"{case.name}.html").read_text()
    assert "Notes from the grader" in feedback and case.note in feedback


@needs_landlock
def test_reading_the_hidden_tests_is_refused_and_nothing_leaks(graded_batch):
    feedback = (graded_batch.output / "feedback" / "reads_hidden_tests.html").read_text()
    assert "could not read" in feedback and "Permission denied" in feedback
    assert not any(marker in feedback for marker in HIDDEN_TEST_MARKERS)


@needs_landlock
def test_writing_outside_its_own_output_changes_nothing(graded_batch):
    feedback = (graded_batch.output / "feedback" / "writes_elsewhere.html").read_text()
    assert "could not write" in feedback and "wrote /" not in feedback
    for path, before in graded_batch.hashes_before.items():
        assert file_hash(path) == before, f"{path} was changed"
    for path in targets_outside(graded_batch.batch, "writes_elsewhere"):
        assert b"tampered" not in (path.read_bytes() if path.is_file() else b""), f"{path} was written"
    assert graded_batch.grades["solution"] == FULL_MARKS

