"""The feedback preprocessors, fed small notebooks directly: what a student's feedback page shows.

Each preprocessor is called as nbconvert calls it (``preprocess(notebook, resources)``); no
nbgrader run, no HTML export.
"""

from __future__ import annotations

import copy
import html

import nbformat
import pytest
from nbconvert.filters import markdown2html

from grader.report import CheckResult, SubmissionReport, TaskResult
from grader.reporting.feedback import (
    REMOVED_OUTPUT,
    AddGradingReport,
    ShortenTestTracebacks,
    ShowStudentContentAsText,
    escape_markdown,
)
from grader.reporting.feedback_html import summary_html, task_results_html, task_results_text
from unet_kit.assignment import grade_id_of_test_cell

LONG_TRACEBACK = [
    "\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
    "\x1b[0;31mAssertionError\x1b[0m                            Traceback (most recent call last)",
    "Cell \x1b[0;32mIn[7], line 4\x1b[0m\n\x1b[1;32m      3\x1b[0m expected = image[:, :, 1:3, 2:4]",
    "\x1b[0;31mAssertionError\x1b[0m: expected shape (2, 3, 4, 3), got (2, 3, 6, 7)",
]


def answer_cell(task: str, source: str = "def crop(image, new_shape):\n    return image") -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
        "grade": False, "solution": True, "locked": False, "grade_id": task, "schema_version": 3}})


def visible_test_cell(task: str, outputs: list | None = None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(f"# Visible tests for {task}", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "points": 2, "grade_id": grade_id_of_test_cell(task),
        "schema_version": 3}})
    cell.outputs = outputs or []
    return cell


def error_output(traceback: list[str]) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("error", ename="AssertionError", evalue="expected shape (2, 3, 4, 3), got (2, 3, 6, 7)",
                                  traceback=list(traceback))


def stream_output(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def notebook_of(*cells) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=list(cells))


# -- ShortenTestTracebacks -----------------------------------------------------------------------------
def test_a_failing_test_cell_shows_only_the_message_of_its_error():
    notebook = notebook_of(visible_test_cell("crop", [stream_output("checking crop\n"), error_output(LONG_TRACEBACK)]))

    shortened, _ = ShortenTestTracebacks().preprocess(notebook, {})

    stream, error = shortened.cells[0].outputs
    assert error.traceback == ["AssertionError: expected shape (2, 3, 4, 3), got (2, 3, 6, 7)"]
    assert (error.ename, error.evalue) == ("AssertionError", "expected shape (2, 3, 4, 3), got (2, 3, 6, 7)")
    assert stream == stream_output("checking crop\n")


def test_errors_outside_test_cells_keep_their_whole_traceback():
    """A student debugging their own answer or scratch cell needs the line that failed."""
    answer = answer_cell("crop")
    answer.outputs = [error_output(LONG_TRACEBACK)]
    scratch = nbformat.v4.new_code_cell("crop(None, None)", outputs=[error_output(LONG_TRACEBACK)])
    notebook = notebook_of(answer, scratch)
    before = copy.deepcopy(notebook)

    shortened, _ = ShortenTestTracebacks().preprocess(notebook, {})

    assert shortened == before


def test_a_passing_test_cell_is_left_as_it_is():
    notebook = notebook_of(visible_test_cell("unet", [stream_output("unet: all visible tests passed\n")]))
    before = copy.deepcopy(notebook)
    assert ShortenTestTracebacks().preprocess(notebook, {})[0] == before


# -- AddGradingReport ------------------------------------------------------------------------------------
# The report is grader.report.SubmissionReport as JSON, in the file named by the ``report`` trait.
# (These tests were first written against the string-keyed JSON report that came before it.)
HIDDEN_CHECKS_HEADING = "Hidden checks, run by the grader in a separate process:"  # nbgrader course tests look for it
CROP_RESULT = TaskResult("crop", points=2, score=0.0, checks=[
    CheckResult("centre window", passed=False, reason="the window you kept starts at row 2, expected row 1"),
    CheckResult("output shape", passed=True)])
UNET_RESULT = TaskResult("unet", points=5, score=5.0, checks=[CheckResult("output size", passed=True)])


def write_report(path, tasks: list[TaskResult], notes: list[str]) -> str:
    path.write_text(SubmissionReport("student", tasks=tasks, notes=notes).to_json())
    return str(path)


def hidden_checks_output(result: TaskResult) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data={"text/html": task_results_html(result),
                                                        "text/plain": task_results_text(result)})


@pytest.fixture
def graded_notebook() -> nbformat.NotebookNode:
    """Two tasks, each an answer cell and a test cell; crop's test cell failed."""
    return notebook_of(answer_cell("crop"), visible_test_cell("crop", [error_output(LONG_TRACEBACK)]),
                       answer_cell("unet", "class UNet: ..."), visible_test_cell("unet"))


def test_each_test_cell_shows_its_tasks_hidden_checks_after_its_own_output(tmp_path, graded_notebook):
    report = write_report(tmp_path / "report.json", [CROP_RESULT, UNET_RESULT], [])

    shown, _ = AddGradingReport(report=report).preprocess(graded_notebook, {})

    crop_test, unet_test = shown.cells[2], shown.cells[4]  # after the summary
    assert [output.output_type for output in crop_test.outputs] == ["error", "display_data"]
    assert crop_test.outputs[1] == hidden_checks_output(CROP_RESULT)
    for shown_as in ("text/html", "text/plain"):
        assert "the window you kept starts at row 2, expected row 1" in crop_test.outputs[1].data[shown_as]
    assert crop_test.outputs[1].data["text/plain"].startswith(f"{HIDDEN_CHECKS_HEADING}\n")
    assert unet_test.outputs == [hidden_checks_output(UNET_RESULT)]
    assert shown.cells[1].outputs == [] and shown.cells[3].outputs == []  # answer cells get nothing
    nbformat.validate(shown)


def test_a_task_missing_from_the_report_gets_no_hidden_checks(tmp_path, graded_notebook):
    report = write_report(tmp_path / "report.json", [UNET_RESULT], [])
    shown, _ = AddGradingReport(report=report).preprocess(graded_notebook, {})
    assert [output.output_type for output in shown.cells[2].outputs] == ["error"]


def test_the_page_opens_with_the_summary_of_every_task_in_the_report(tmp_path, graded_notebook):
    tasks = [CROP_RESULT, UNET_RESULT]
    report = write_report(tmp_path / "report.json", tasks, [])

    shown, _ = AddGradingReport(report=report).preprocess(graded_notebook, {})

    assert shown.cells[0].cell_type == "markdown"
    assert shown.cells[0].source == summary_html(SubmissionReport("student", tasks=tasks))
    assert [cell.cell_type for cell in shown.cells[1:]] == ["code"] * 4  # and no notes cell without notes


def test_the_graders_notes_follow_the_summary_as_plain_words(tmp_path, graded_notebook):
    notes = ["the test cell of crop was changed: the original was restored", "cell 3 printed <script> [a link](x)"]
    report = write_report(tmp_path / "report.json", [CROP_RESULT], notes)

    shown, _ = AddGradingReport(report=report).preprocess(graded_notebook, {})

    assert len(shown.cells) == 6
    assert "grading-summary" in shown.cells[0].source
    assert shown.cells[1].cell_type == "markdown"
    assert shown.cells[1].source == (
        "**Notes from the grader.** Your notebook was graded after these repairs or problems:\n\n"
        "- the test cell of crop was changed: the original was restored\n"
        "- cell 3 printed &lt;script&gt; \\[a link\\]\\(x\\)")


def test_a_report_without_tasks_gets_its_notes_and_no_summary(tmp_path, graded_notebook):
    report = write_report(tmp_path / "report.json", [], ["no feedback: nbgrader could not write it"])
    shown, _ = AddGradingReport(report=report).preprocess(graded_notebook, {})
    assert [cell.cell_type for cell in shown.cells] == ["markdown"] + ["code"] * 4
    assert shown.cells[0].source.startswith("**Notes from the grader.**")


@pytest.mark.parametrize("report", ["", "missing.json"], ids=["not configured", "file absent"])
def test_without_a_report_the_notebook_is_unchanged(tmp_path, graded_notebook, report):
    before = copy.deepcopy(graded_notebook)
    path = str(tmp_path / report) if report else ""
    assert AddGradingReport(report=path).preprocess(graded_notebook, {})[0] == before


# -- ShowStudentContentAsText -------------------------------------------------------------------
def show_as_text(release: nbformat.NotebookNode, notebook: nbformat.NotebookNode, tmp_path) -> nbformat.NotebookNode:
    nbformat.write(release, tmp_path / "release.ipynb")
    shown, _ = ShowStudentContentAsText(release=str(tmp_path / "release.ipynb")).preprocess(notebook, {})
    nbformat.validate(shown)
    return shown


def test_rich_outputs_keep_their_text_and_say_what_was_removed(tmp_path):
    cell = nbformat.v4.new_code_cell("display(HTML(...))", outputs=[
        nbformat.v4.new_output("display_data", data={"text/html": "<script>alert(1)</script>",
                                                      "application/javascript": "alert(1)",
                                                      "text/plain": "<IPython.core.display.HTML object>"},
                               metadata={"text/html": {"isolated": True}})])
    shown = show_as_text(nbformat.v4.new_notebook(), nbformat.v4.new_notebook(cells=[cell]), tmp_path)
    output = shown.cells[0].outputs[0]
    assert output.data == {"text/plain": f"<IPython.core.display.HTML object>\n{REMOVED_OUTPUT}"}
    assert output.metadata == {}


def test_pictures_stay_only_when_they_are_plain_base64(tmp_path):
    picture, forged = "iVBORw0KGgoAAAANSUhEUg==", '"><script>alert(1)</script>'
    cell = nbformat.v4.new_code_cell("plot()", outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": picture, "text/plain": "figure"}),
        nbformat.v4.new_output("display_data", data={"image/png": forged})])
    shown = show_as_text(nbformat.v4.new_notebook(), nbformat.v4.new_notebook(cells=[cell]), tmp_path)
    assert shown.cells[0].outputs[0].data == {"image/png": picture, "text/plain": "figure"}
    assert shown.cells[0].outputs[1].data == {"text/plain": REMOVED_OUTPUT}


def test_markdown_and_raw_cells_a_student_wrote_become_literal_text(tmp_path):
    release = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## Task 1 <b>crop</b>")])
    student = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("## Task 1 <b>crop</b>"),
        nbformat.v4.new_markdown_cell('notes <img src=x onerror="alert(1)">\n\n[a](javascript:alert(1))'),
        nbformat.v4.new_raw_cell("<script>alert(1)</script>")])
    typed = [cell.source for cell in student.cells[1:]]
    shown = show_as_text(release, student, tmp_path)
    assert shown.cells[0].source == "## Task 1 <b>crop</b>"  # the release's own markdown renders
    for cell, source in zip(shown.cells[1:], typed):
        assert cell.cell_type == "markdown"
        body = cell.source.split("\n\n", 1)[1]
        assert body.splitlines() == [f"    {line}" for line in source.splitlines()]


def test_cell_metadata_is_dropped_and_nbgrader_metadata_kept_only_for_the_releases_grade_ids(tmp_path):
    release = nbformat.v4.new_notebook(cells=[answer_cell("crop")])
    forged = answer_cell('crop"><script>')
    tagged = nbformat.v4.new_code_cell("x = 1", metadata={"tags": ['x" onmouseover="alert(1)']})
    student = nbformat.v4.new_notebook(cells=[answer_cell("crop"), forged, tagged])
    shown = show_as_text(release, student, tmp_path)
    assert shown.cells[0].metadata["nbgrader"]["grade_id"] == "crop"
    assert shown.cells[1].metadata == {} and shown.cells[2].metadata == {}


def test_notes_are_escaped_into_plain_markdown():
    assert escape_markdown('[x](javascript:alert(1)) <b>$a$</b>') == (
        "\\[x\\]\\(javascript:alert\\(1\\)\\) &lt;b&gt;\\$a\\$&lt;/b&gt;")


def test_quotes_in_a_note_reach_the_page_as_quotes():
    """An entity would have its ``#`` escaped and show on the page as ``&#x27;``."""
    note = "could not read '/grader': \"denied\""
    rendered = markdown2html("- " + escape_markdown(note))
    assert html.unescape(rendered) == f"<ul>\n<li>{note}</li>\n</ul>\n"
