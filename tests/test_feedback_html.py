"""The report as the HTML of a feedback page, parsed back: what the summary and each task's results say.

The HTML is read with ``xml.etree``, which refuses anything but well-formed markup, so a stray
tag from a student's message would fail these tests twice: as a parse error or as an element.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from nbconvert.filters import markdown2html

from grader.report import CheckResult, Diagnosis, SubmissionReport, TaskResult
from grader.reporting.feedback_html import (
    HIDDEN_CHECKS_HEADING,
    first_sentence,
    summary_html,
    task_anchor,
    task_results_html,
    task_results_text,
)

XSS_MARK = "XSS-MARK-feedback"
HOSTILE = f'<script>alert("{XSS_MARK}")</script><img src=x onerror="alert(\'{XSS_MARK}\')"> & $x$'
ROUND = Diagnosis("crop.python_round", "Your window start is rounded with round(). Reread Task 1.")
CROP = TaskResult("crop", points=2, score=1.0, misconceptions=[ROUND], checks=[
    CheckResult("centre rule", passed=False, reason="the window starts at (2, 4), expected (1, 4)", case="case0"),
    CheckResult("centre rule", passed=False, reason="the window starts at (3, 0), expected (2, 0)", case="case1"),
    CheckResult("centre rule", passed=True, case="case2"),
    CheckResult("shape", passed=True), CheckResult("batch kept", passed=True), CheckResult("gradients", passed=True)])
CONTRACTING = TaskResult("contracting_block", points=3, score=3.0, checks=[CheckResult("shape", passed=True)])
UNET = TaskResult("unet", points=5, score=2.5, checks=[
    CheckResult("output size", passed=True), CheckResult("skips", passed=False, reason="the skips do not line up")])


def parsed(markup: str) -> ElementTree.Element:
    return ElementTree.fromstring(f"<page>{markup}</page>")


def text_of(element: ElementTree.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def summary_rows(markup: str) -> list[tuple[str, ...]]:
    return [tuple(text_of(cell) for cell in row) for row in parsed(markup).iter("tr")]


# -- a task's results ------------------------------------------------------------------------------
def test_a_misconception_comes_first_in_its_tasks_results_in_a_box_of_its_own():
    section = parsed(task_results_html(CROP)).find("section")

    first, *rest = list(section)
    assert (first.tag, first.get("class"), first.get("role")) == ("div", "misconception", "note")
    assert text_of(first) == f"Likely misconception: {ROUND.explanation}"
    assert [text_of(element) for element in rest] == [
        f"{HIDDEN_CHECKS_HEADING}: 4 of 6 hidden checks passed: 1 of 2 points",
        "failed centre rule (2 of 3 cases): the window starts at (2, 4), expected (1, 4)"]


def test_results_without_a_diagnosis_have_no_misconception_box():
    section = parsed(task_results_html(UNET)).find("section")
    assert section.find(".//*[@class='misconception']") is None
    assert [text_of(item) for item in section.iter("li")] == ["failed skips: the skips do not line up"]


def test_the_results_carry_the_anchor_the_summary_links_to_and_are_left_alone_by_mathjax():
    section = parsed(task_results_html(CROP)).find("section")
    assert section.get("id") == task_anchor("crop")
    assert "tex2jax_ignore" in section.get("class").split()


def test_the_plain_text_results_say_what_the_html_says():
    assert task_results_text(CROP) == f"{HIDDEN_CHECKS_HEADING}:\n{CROP.summary()}"


def test_a_students_words_in_a_reason_reach_the_page_as_text():
    """A check's reason may quote the student's own exception message."""
    hostile = TaskResult("crop", points=2, checks=[CheckResult("runs", passed=False, reason=f"your code failed: {HOSTILE}")],
                         misconceptions=[Diagnosis("crop.x", HOSTILE)])
    markup = task_results_html(hostile)
    page = parsed(markup)
    assert {element.tag for element in page.iter()} == {"page", "section", "div", "p", "strong", "ul", "li"}
    assert text_of(page.find(".//li")) == " ".join(f"failed runs: your code failed: {HOSTILE}".split())
    assert "<script>" not in markup and "<img" not in markup


# -- the summary at the top ----------------------------------------------------------------------------
def test_the_summary_lists_each_tasks_score_and_names_its_misconception():
    report = SubmissionReport("student", tasks=[CROP, CONTRACTING, UNET])
    assert summary_rows(summary_html(report)) == [
        ("Task", "Score", "Diagnosis"),
        ("Task 1: crop", "1 of 2", "Likely misconception: Your window start is rounded with round()."),
        ("Task 2: contracting_block", "3 of 3", "All hidden checks passed."),
        ("Task 5: unet", "2.5 of 5", "1 hidden check failed; no known misconception matched. Read the task's results below."),
        ("Total", "6.5 of 10", "")]


def test_each_summary_row_links_to_its_tasks_results():
    page = parsed(summary_html(SubmissionReport("student", tasks=[CROP, UNET])))
    assert [link.get("href") for link in page.iter("a")] == [f"#{task_anchor('crop')}", f"#{task_anchor('unet')}"]


def test_the_summary_survives_the_notebooks_markdown_renderer_whole():
    """The summary travels in a markdown cell: every HTML block in it must come out as it went in."""
    markup = summary_html(SubmissionReport("student", tasks=[CROP, CONTRACTING, UNET]))
    rendered = parsed(markdown2html(markup))
    assert [element.tag for element in rendered] == ["style", "section"]
    assert summary_rows(markdown2html(markup)) == summary_rows(markup)
    assert ".misconception" in rendered.find("style").text


def test_the_summary_escapes_what_it_is_given():
    report = SubmissionReport("student", tasks=[TaskResult(HOSTILE, points=1, misconceptions=[Diagnosis("x", HOSTILE)])])
    page = parsed(summary_html(report))
    assert not {"script", "img"} & {element.tag for element in page.iter()}
    assert text_of(page.find(".//tbody/tr/td")) == " ".join(HOSTILE.split())


def test_the_first_sentence_ends_at_a_full_stop_after_a_word_not_inside_an_ellipsis():
    assert first_sentence("Your crop returns the corner. Reread Task 1.") == "Your crop returns the corner."
    assert first_sentence("Your widths are 64, 128, ... whatever it says. Reread.") == "Your widths are 64, 128, ... whatever it says."
    assert first_sentence("Your crop reads (the batch). new_shape is a shape") == "Your crop reads (the batch)."
    assert first_sentence("Rounds\nhalves (round(2.5) == 2).  Next") == "Rounds halves (round(2.5) == 2)."
