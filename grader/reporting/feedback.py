"""nbconvert preprocessors for the feedback students receive."""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode

from grader.report import SubmissionReport, TaskResult
from grader.reporting.feedback_html import summary_html, task_results_html, task_results_text
from unet_kit.assignment import nbgrader_metadata, task_of_test_cell

#: The kit's own results reach the page as HTML; nothing a student wrote does.
HTML_OUTPUT = "text/html"


class FeedbackPreprocessor(Preprocessor):
    """A step of the kit's feedback: on unless configured off, and able to find its submission's files."""

    enabled = Bool(True, help="nbconvert runs preprocessors only when enabled").tag(config=True)

    def course_file(self, resources: dict, what: str) -> Path | None:
        """In an instructor's nbgrader course, this submission's ``what`` (``grader.course.preprocessors``)."""
        if "nbgrader" not in resources:
            return None
        from grader.course.preprocessors import CourseSubmission

        return getattr(CourseSubmission.of(self, resources), what)


class ShortenTestTracebacks(FeedbackPreprocessor):
    """Cut a test cell's traceback to its last line: the message is what teaches."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and nbgrader_metadata(cell).get("grade"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output['ename']}: {output['evalue']}"]
        return cell, resources


class AddGradingReport(FeedbackPreprocessor):
    """Show what ``grader.checking.check`` found: a summary of each task's score and diagnosis on top, the
    grader's notes after it, each task's hidden checks under its test cell, its misconception
    first and set apart (``grader.reporting.feedback_html``). The report holds results and reasons only,
    never test code."""

    report = Unicode("", help="the submission's report (grader.report.SubmissionReport as JSON)").tag(config=True)

    def preprocess(self, nb, resources):
        path = Path(self.report) if self.report else self.course_file(resources, "report_file")
        if path is None or not path.is_file():
            return nb, resources
        report = SubmissionReport.from_json(path.read_text())
        for cell in nb.cells:
            grading = nbgrader_metadata(cell)
            task = report.task(task_of_test_cell(grading.get("grade_id", "")))
            if task and grading.get("grade") and cell.cell_type == "code":
                cell.setdefault("outputs", []).append(hidden_checks_output(task))
        if report.notes:
            items = "\n".join(f"- {escape_markdown(note)}" for note in report.notes)
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(
                f"**Notes from the grader.** Your notebook was graded after these repairs or "
                f"problems:\n\n{items}"))
        if report.tasks:
            nb.cells.insert(0, summary_cell(report))
        return nb, resources


def hidden_checks_output(task: TaskResult) -> nbformat.NotebookNode:
    """A task's results as an output of its test cell: HTML that wraps, with the same words as plain text."""
    return nbformat.v4.new_output("display_data", data={HTML_OUTPUT: task_results_html(task),
                                                        TEXT_OUTPUT: task_results_text(task)})


def summary_cell(report: SubmissionReport) -> nbformat.NotebookNode:
    """A markdown cell of HTML blocks, which nbconvert's markdown renderer passes on as they are:
    the kit's styles and the summary. (nbconvert cleans a raw cell's HTML of its styles.)

    It is added after ``ShowStudentContentAsText`` has made every cell the student wrote
    literal text, so none of the student's HTML renders beside it."""
    return nbformat.v4.new_markdown_cell(summary_html(report))


#: Output types that reach the feedback: plain text, and pictures that are nothing but base64.
TEXT_OUTPUT = "text/plain"
PICTURES = ("image/png", "image/jpeg")
BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
GRADE_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
REMOVED_OUTPUT = "[an HTML, JavaScript or other rich output was removed: feedback shows text and pictures only]"


class ShowStudentContentAsText(FeedbackPreprocessor):
    """Everything the student's code displayed or the student wrote reaches the feedback as text.

    Students' notebooks and outputs are untrusted, and the feedback is opened in the
    instructor's and the student's browser: so outputs keep only ``text/plain`` and base64
    pictures (HTML, SVG, JavaScript, markdown and widget outputs are dropped with a visible
    note), output and cell metadata that templates put into attributes are dropped, nbgrader
    metadata is kept only where its grade id is the release's, and markdown or raw cells
    that are not the release's own are shown as literal text.
    """

    release = Unicode("", help="the release notebook, whose markdown and grade ids are trusted").tag(config=True)

    def preprocess(self, nb, resources):
        path = Path(self.release) if self.release else self.course_file(resources, "release")
        release = nbformat.read(path, as_version=4) if path and path.is_file() else nbformat.v4.new_notebook()
        self.trusted_markdown = {cell.source for cell in release.cells if cell.cell_type == "markdown"}
        self.grade_ids = {nbgrader_metadata(cell).get("grade_id") for cell in release.cells} - {None}
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        grading = nbgrader_metadata(cell)
        trusted = grading.get("grade_id") in self.grade_ids and GRADE_ID.match(str(grading.get("grade_id")))
        cell.metadata = {"nbgrader": grading} if trusted else {}
        cell.pop("attachments", None)
        if cell.cell_type == "raw" or (cell.cell_type == "markdown" and cell.source not in self.trusted_markdown):
            literal = nbformat.v4.new_markdown_cell(as_literal_markdown(cell.source), metadata=cell.metadata)
            literal.id, cell = cell.id, literal
        for output in cell.get("outputs", []):
            if "metadata" in output:
                output["metadata"] = {}
            if "data" in output:
                output["data"] = _text_and_pictures(output["data"])
        return cell, resources


def _text_and_pictures(data: dict) -> dict:
    kept = {mime: value for mime, value in data.items()
            if mime == TEXT_OUTPUT or (mime in PICTURES and isinstance(value, str) and BASE64.match(value))}
    if set(data) - set(kept):
        kept[TEXT_OUTPUT] = f"{kept.get(TEXT_OUTPUT, '')}\n{REMOVED_OUTPUT}".strip()
    return kept


def as_literal_markdown(text: str) -> str:
    """Markdown that shows ``text`` exactly as typed: an indented code block, so no HTML, link or
    math in it is ever interpreted."""
    lines = text.splitlines() or [""]
    return "*A cell you wrote, shown as text:*\n\n" + "\n".join(f"    {line}" for line in lines)


def escape_markdown(text: str) -> str:
    """``text`` inside markdown as plain words: no HTML, link, emphasis or math survives.

    Quotes stay as typed: in markdown's text they are inert, and an entity such as ``&#x27;``
    would have its ``#`` escaped below and show on the page as written."""
    escaped = html.escape(text, quote=False)
    return re.sub(r"([\\`*_\[\]{}()#!|$~])", r"\\\1", escaped)
