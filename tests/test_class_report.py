"""The class report's numbers, worked out by hand on small classes, and its page."""

from __future__ import annotations

import math

from grader.reporting.class_report import (
    CheckRow,
    check_statistics,
    merge_runs,
    misconception_counts,
    read_checks_csv,
    render_class_report,
    task_scores,
    write_checks_csv,
)


def rows_of(table: dict[str, dict[str, bool]], task: str = "crop") -> list[CheckRow]:
    return [CheckRow(student, task, check, passed) for student, checks in table.items() for check, passed in checks.items()]


CLASS = {  # check a goes with the rest of the score; check c against it
    "s1": {"a": True, "b": True, "c": False},
    "s2": {"a": True, "b": True, "c": False},
    "s3": {"a": False, "b": False, "c": True},
    "s4": {"a": False, "b": True, "c": True},
}


def test_discrimination_is_the_correlation_of_a_check_with_the_rest_of_the_score():
    statistics = {s.check: s for s in check_statistics(rows_of(CLASS))}
    # a: passed [1, 1, 0, 0]; rest (b, c) = [.5, .5, .5, 1]: covariance -.25, variances 1 and .1875
    assert math.isclose(statistics["a"].discrimination, -0.25 / math.sqrt(1 * 0.1875))
    assert (statistics["a"].passed, statistics["a"].students) == (2, 4)


def test_checks_that_nearly_everyone_fails_or_that_discriminate_negatively_are_flagged():
    table = {f"s{i}": {"hard": False, "fair": i < 3, "other": i < 4} for i in range(12)}
    flagged = {s.check: s.warning for s in check_statistics(rows_of(table))}
    assert "nearly everyone fails" in flagged["hard"]
    assert flagged["fair"] == ""
    statistics = {s.check: s for s in check_statistics(rows_of(CLASS))}
    assert "weaker students pass it more often" in statistics["a"].warning


def test_misconceptions_are_ranked_by_how_many_students_have_them():
    rows = [CheckRow("ann", "crop", "w[0]", False, "crop.top_left_window"),
            CheckRow("ann", "crop", "w[1]", False, "crop.top_left_window"),
            CheckRow("bob", "crop", "w[0]", False, "crop.top_left_window crop.python_round"),
            CheckRow("cat", "crop", "w[0]", False, "crop.python_round"),
            CheckRow("dan", "crop", "w[0]", False, "crop.halves_the_difference")]
    assert misconception_counts(rows) == [("crop.python_round", ["bob", "cat"]),
                                          ("crop.top_left_window", ["ann", "bob"]),
                                          ("crop.halves_the_difference", ["dan"])]


def test_task_score_is_its_points_times_the_share_of_checks_passed():
    assert task_scores(rows_of({"s1": {"a": True, "b": False, "c": True, "d": True}}), {"crop": 2.0}) == {
        "s1": {"crop": 1.5}}


def test_a_later_run_replaces_a_students_rows_and_keeps_the_others(tmp_path):
    first = rows_of({"ann": {"a": False}, "bob": {"a": False}})
    second = rows_of({"bob": {"a": True, "b": True}})
    write_checks_csv(second, tmp_path / "checks.csv")
    assert read_checks_csv(tmp_path / "checks.csv") == second
    assert merge_runs([first, second]) == [first[0], *second]


def test_page_escapes_names_and_gives_every_plot_alt_text():
    rows = [CheckRow("<script>x</script>", "crop", "a", False, "crop.top_left_window"), CheckRow("bob", "crop", "a", True)]
    page = render_class_report(rows, {"crop": 2.0}, ungraded=[("eve", "the file is <empty>")])
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "the file is &lt;empty&gt;" in page
    assert page.count('<img src="data:image/png;base64,') == 2 and page.count('alt="Histogram') == 2
    assert "2 students graded, 1 submissions not graded" in page
