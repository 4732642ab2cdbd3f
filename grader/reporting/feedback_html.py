"""The grading report as HTML on a student's feedback page: a summary on top, each task's results under its test.

The pages come from the templates in ``feedback_templates/`` with Jinja's autoescaping on, so
every value reaches the page as text: a check's reason may quote the student's own error
message. The grader's words wrap like prose at any width (``feedback.css``, carried by the
summary), and a task's misconception stands first in its results, in a box of its own.
"""

from __future__ import annotations

import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from grader.report import SubmissionReport, TaskResult
from unet_kit.assignment import TASKS

TEMPLATES = Path(__file__).with_name("feedback_templates")
#: The words before each task's results; the plain-text version of the page says them too.
HIDDEN_CHECKS_HEADING = "Hidden checks, run by the grader in a separate process"
#: Where a sentence ends: a full stop after a word or a bracket (so "64, 128, ... whatever" goes on).
SENTENCE_END = re.compile(r"(?<=[A-Za-z0-9)][.!?])\s+")


def task_anchor(task: str) -> str:
    """The id of a task's results on the page, which the summary links to."""
    return f"hidden-checks-{task}"


def task_title(task: str) -> str:
    """``Task 1: crop``, numbered as the notebook numbers its tasks."""
    return f"Task {TASKS.index(task) + 1}: {task}" if task in TASKS else task


def first_sentence(text: str) -> str:
    """The opening sentence of a misconception's explanation: it names the mistake."""
    return SENTENCE_END.split(" ".join(text.split()), maxsplit=1)[0]


_ENVIRONMENT = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                           trim_blocks=True, lstrip_blocks=True)
_ENVIRONMENT.globals.update(anchor=task_anchor, title=task_title, first_sentence=first_sentence,
                            heading=HIDDEN_CHECKS_HEADING)


def summary_html(report: SubmissionReport) -> str:
    """The page's styles and a table of each task's score and diagnosis, as markdown's HTML blocks:
    no blank line inside the table, which would end its block."""
    return _ENVIRONMENT.get_template("summary.html.j2").render(report=report)


def task_results_html(task: TaskResult) -> str:
    """One task's misconception (if any) in its box, then its score and each failed check."""
    return _ENVIRONMENT.get_template("task_results.html.j2").render(task=task)


def task_results_text(task: TaskResult) -> str:
    """The same results as plain text, for anything that shows the notebook without HTML."""
    return f"{HIDDEN_CHECKS_HEADING}:\n{task.summary()}"
