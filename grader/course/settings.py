"""The kit's nbgrader settings, for the two kinds of course directory that run nbgrader.

``configure_course`` is what an instructor's course (``python -m grader course``) loads from
its ``nbgrader_config.py``: nbgrader's own ``autograde`` then normalises each submission,
runs it once in a confined probe that the hidden checks question and whose outputs become
the notebook's, and records the checker's scores (``grader.course.preprocessors``);
``generate_feedback`` writes the kit's page. ``configure_batch_course`` is for the private
course copies of ``python -m grader autograde``, which runs the checker itself and hands
nbgrader a notebook that already holds the probe's outputs: there, nbgrader executes nothing.
"""

from __future__ import annotations

from grader.entry_points import PREPROCESSORS_MODULE, feedback_preprocessor, preprocessor

FEEDBACK_PREPROCESSORS = [
    "nbgrader.preprocessors.GetGrades",
    feedback_preprocessor("ShowStudentContentAsText"),
    "nbgrader.preprocessors.ClearHiddenTests",
    feedback_preprocessor("ShortenTestTracebacks"),
    feedback_preprocessor("AddGradingReport"),
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
#: nbgrader's sanitising steps, after the kit rebuilds the submission on the release's skeleton.
SANITIZE_PREPROCESSORS = [
    preprocessor("NormaliseSubmission"),
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
#: nbgrader's autograding steps around the kit's: the hidden checks (and the one execution) first,
#: the checker's scores after nbgrader's own. No ``Execute``: the probe ran the notebook.
AUTOGRADE_PREPROCESSORS = [
    preprocessor("CheckHiddenTests"),
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    preprocessor("RecordCheckScores"),
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]


def _common(c) -> None:
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".*"]
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
    # Feedback shows the checker's results and notes, never hidden test code.
    c.GenerateFeedback.preprocessors = list(FEEDBACK_PREPROCESSORS)


def configure_batch_course(c) -> None:
    """A private course copy of ``python -m grader autograde``: the submitted notebook already holds
    the probe's outputs (``grader.course.probe_outputs``), so nbgrader neither clears nor executes it."""
    _common(c)
    c.CourseDirectory.course_id = "unet-isbi2012"
    c.Autograde.sanitize_preprocessors = [step for step in _nbgraders_own(SANITIZE_PREPROCESSORS)
                                          if step != "nbgrader.preprocessors.ClearOutput"]
    c.Autograde.autograde_preprocessors = _nbgraders_own(AUTOGRADE_PREPROCESSORS)


def _nbgraders_own(steps: list[str]) -> list[str]:
    """``steps`` without the kit's: the batch normalises, checks and records scores itself."""
    return [step for step in steps if not step.startswith(f"{PREPROCESSORS_MODULE}.")]


def configure_course(c) -> None:
    """An instructor's nbgrader course: ``nbgrader autograde`` grades with the kit's hidden checks.

    Limits come from ``c.GradingLimits`` (``grader.limits``: ``c.GradingLimits.memory_gb = 4``).
    """
    _common(c)
    c.Autograde.sanitize_preprocessors = list(SANITIZE_PREPROCESSORS)
    c.Autograde.autograde_preprocessors = list(AUTOGRADE_PREPROCESSORS)
