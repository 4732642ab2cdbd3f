"""nbconvert preprocessors for the feedback students receive."""

from __future__ import annotations

import html
import json
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode

from grader.course import TEST_CELL_PREFIX


class ShortenTestTracebacks(Preprocessor):
    """Cut a test cell's traceback to its last line: the message is what teaches."""

    enabled = Bool(True, help="nbconvert runs preprocessors only when enabled").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output['ename']}: {output['evalue']}"]
        return cell, resources


class AddGradingReport(Preprocessor):
    """Show what ``grader.check`` found: the grader's notes on top, each task's hidden checks
    under its test cell. The report holds results and reasons only, never test code."""

    enabled = Bool(True, help="nbconvert runs preprocessors only when enabled").tag(config=True)
    report = Unicode("", help="the grading report (JSON) written by grader.autograde").tag(config=True)

    def preprocess(self, nb, resources):
        if not self.report or not Path(self.report).is_file():
            return nb, resources
        report = json.loads(Path(self.report).read_text())
        for cell in nb.cells:
            grading = cell.metadata.get("nbgrader", {})
            task = report["tasks"].get(grading.get("grade_id", "").removeprefix(TEST_CELL_PREFIX))
            if task and grading.get("grade") and cell.cell_type == "code":
                cell.setdefault("outputs", []).append(nbformat.v4.new_output(
                    "stream", name="stdout",
                    text=f"\nHidden checks, run by the grader in a separate process:\n{task['summary']}\n"))
        if report.get("notes"):
            items = "\n".join(f"- {html.escape(note)}" for note in report["notes"])
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(
                f"**Notes from the grader.** Your notebook was graded after these repairs or "
                f"problems:\n\n{items}"))
        return nb, resources
