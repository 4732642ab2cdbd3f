"""Grader code that other processes reach by a name or a path, not by an import: all of it, here.

A module started with ``python -m``, a class nbgrader loads from a dotted name in its config, a
file copied into the jail: renaming one of these breaks grading in another process, far from
the edit. Every such name lives in this module, and ``tests/test_entry_points.py`` resolves
each one, so a rename fails a fast test instead.
"""

from __future__ import annotations

from pathlib import Path

GRADER = Path(__file__).resolve().parent

#: The checker: torch and pytest, imported once by the warm processes' forkserver.
CHECKER_MODULE = "grader.checking.check"
#: ``python -m``: the jail, which confines itself and then runs the probe.
JAIL_MODULE = "grader.confinement.jail"
#: ``python -m``: the batch's fork server of probes, which imports torch once and forks each probe.
PROBE_FORKSERVER_MODULE = "grader.confinement.probe_forkserver"
#: Imported once by the forkserver that forks each submission's warm process (``grader.warm_process``):
#: first the imports it goes without and its exit without teardown, then one submission's steps, the
#: checker (torch, pytest) and nbgrader's converters.
SKIPPED_IMPORTS_MODULE = "grader.skipped_imports"
FORKSERVER_EXIT_MODULE = "grader.forkserver_exit"
WARM_PRELOAD_MODULES = (SKIPPED_IMPORTS_MODULE, FORKSERVER_EXIT_MODULE, "grader.submission", CHECKER_MODULE,
                        "nbgrader.converters")
#: Copied into the kit folder the jail may read, and run there by path (it imports nothing of ours).
PROBE_FILE = GRADER / "checking" / "probe.py"
#: Sent to the probe as source: the stand-in blocks and reference crop a downstream task is graded with.
REFERENCE_FILE = GRADER / "checking" / "reference.py"
#: pytest's root folder for the hidden checks, which the checker runs in its own process.
HIDDEN_TESTS = GRADER / "checking" / "hidden_tests"
#: Copied into each private course copy of the batch; nbgrader loads it by path.
BATCH_COURSE_CONFIG = GRADER / "course" / "nbgrader_config.py"
#: Named in an instructor's ``nbgrader_config.py``: ``configure_course`` from it sets everything below.
COURSE_SETTINGS_MODULE = "grader.course.settings"
#: nbgrader loads these preprocessors by dotted name from the course configuration.
PREPROCESSORS_MODULE = "grader.course.preprocessors"
FEEDBACK_MODULE = "grader.reporting.feedback"
#: ``nbgrader export --exporter ...``, as the README tells instructors.
LMS_EXPORTERS = ("grader.reporting.lms_export.CanvasExport", "grader.reporting.lms_export.MoodleExport")


def preprocessor(name: str) -> str:
    """The dotted name nbgrader loads one of the kit's grading preprocessors by."""
    return f"{PREPROCESSORS_MODULE}.{name}"


def feedback_preprocessor(name: str) -> str:
    """The dotted name nbgrader loads one of the kit's feedback preprocessors by."""
    return f"{FEEDBACK_MODULE}.{name}"
