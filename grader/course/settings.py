"""The kit's nbgrader settings, for the two kinds of course directory that run nbgrader.

``configure_course`` is what an instructor's course (``python -m grader course``) loads from
its ``nbgrader_config.py``: nbgrader's own ``autograde`` then normalises each submission,
runs the hidden checks against a confined probe, runs the notebook in a confined kernel and
records the checker's scores (``grader.course.preprocessors``); ``generate_feedback`` writes
the kit's page. ``configure_batch_course`` is the same minus the checks, for the private
course copies of ``python -m grader autograde``, which runs the checker itself.
"""

from __future__ import annotations

from grader.entry_points import feedback_preprocessor, preprocessor
from grader.limits import DEFAULT_LIMITS, GradingLimits
from unet_kit.assignment import GRADING_KERNEL_NAME

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
#: nbgrader's autograding steps around the kit's: hidden checks first, the checker's scores after nbgrader's own.
AUTOGRADE_PREPROCESSORS = [
    preprocessor("CheckHiddenTests"),
    preprocessor("ConfinedExecute"),
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    preprocessor("RecordCheckScores"),
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]


def _common(c, limits: GradingLimits) -> None:
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".*"]
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
    c.Execute.interrupt_on_timeout = True
    c.Execute.timeout = int(limits.kernel_cell_seconds)
    # The confined kernel has no network, not even a loopback: it talks ZeroMQ over Unix sockets.
    c.KernelManager.transport = "ipc"
    # Feedback shows the checker's results and notes, never hidden test code.
    c.GenerateFeedback.preprocessors = list(FEEDBACK_PREPROCESSORS)


def configure_batch_course(c) -> None:
    """A private course copy of ``python -m grader autograde``: it writes the confined kernel's
    spec for each submission (``grader.confinement.jail``), whatever kernel the student's editor named."""
    _common(c, DEFAULT_LIMITS)
    c.CourseDirectory.course_id = "unet-isbi2012"
    c.Execute.kernel_name = GRADING_KERNEL_NAME


def configure_course(c) -> None:
    """An instructor's nbgrader course: ``nbgrader autograde`` grades with the kit's hidden checks.

    Limits come from ``c.GradingLimits`` (``grader.limits``: ``c.GradingLimits.memory_gb = 4``).
    """
    limits = GradingLimits(**dict(c.GradingLimits)) if "GradingLimits" in c else DEFAULT_LIMITS
    _common(c, limits)
    c.Autograde.sanitize_preprocessors = list(SANITIZE_PREPROCESSORS)
    c.Autograde.autograde_preprocessors = list(AUTOGRADE_PREPROCESSORS)
