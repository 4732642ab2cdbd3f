"""The trusted score of one submission: hidden pytest checks, run where student code cannot reach.

This process never runs student code. It starts the probe (``grader.checking.remote``), a confined
process that runs the notebook's cells once, recording their outputs as a kernel would, and runs
each task's hidden pytest module here, with a ``student`` fixture that reaches the student's
functions only through the probe. Expected values come from the oracles in
``grader.checking.reference``, computed here; so monkeypatching ``torch``, ``pytest`` or the
grader inside the notebook changes nothing but the student's own answers. ``check_notebook``
returns a ``grader.report.CheckReport``; it runs in each submission's warm process
(``grader.warm_process``).
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import warnings
from pathlib import Path

import nbformat
import pytest

from grader.checking.diagnosis import find_misconceptions
from grader.checking.reference import UPSTREAM_STAND_INS
from grader.checking.remote import ProbeProcess, RemoteStudent, StudentCodeFailed, probe_command
from grader.confinement.policy import PROBE_NAME, grading_policy, launcher_environment, prepare_kit
from grader.course.course_directory import task_points
from grader.entry_points import HIDDEN_TESTS, REFERENCE_FILE
from grader.limits import DEFAULT_LIMITS, GradingLimits
from grader.report import CheckReport, CheckResult, Confinement, Diagnosis, TaskResult
from unet_kit.assignment import TASKS, nbgrader_metadata, task_of_test_cell

#: pytest's plugins the hidden checks never use. ``unraisableexception`` and ``threadexception``
#: collect garbage five times at the end of every session: with torch loaded, a second a
#: submission for nothing.
UNUSED_PYTEST_PLUGINS = ("cacheprovider", "unraisableexception", "threadexception", "faulthandler", "doctest",
                         "junitxml", "pastebin", "legacypath", "stepwise", "logging")
#: What pytest takes from the environment besides its arguments. An instructor's ``-x`` or ``-k``,
#: or an installed plugin such as pytest-randomly, would change which checks run, and so the grade.
PYTEST_SETTINGS_FROM_ENVIRONMENT = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")


@contextlib.contextmanager
def pytest_of_its_own():
    """pytest with only the hidden checks' own settings: none from the environment, no plugin
    loaded because it is installed. The environment is restored afterwards."""
    saved = {name: os.environ.pop(name) for name in PYTEST_SETTINGS_FROM_ENVIRONMENT if name in os.environ}
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
        os.environ.update(saved)


def probe_cells(notebook) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Every code cell, in two parts: up to the last task's test cell, which the hidden checks see
    as they left the namespace, and the cells after it, run once the checks are done.

    The probe runs them all, the visible tests included, as a kernel would: their outputs are
    the autograded notebook's, so the notebook is executed once.
    """
    tests = [i for i, cell in enumerate(notebook.cells)
             if task_of_test_cell(nbgrader_metadata(cell).get("grade_id", ""))]
    last = max(tests, default=len(notebook.cells) - 1)
    code = [(i, cell.source) for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    return [cell for cell in code if cell[0] <= last], [cell for cell in code if cell[0] > last]


class _Collector:
    """pytest plugin: gives the tests the remote student and records each outcome."""

    def __init__(self, student: RemoteStudent):
        self.remote_student = student
        self.checks: list[CheckResult] = []

    @pytest.fixture
    def student(self):
        return self.remote_student

    def pytest_runtest_logreport(self, report):
        name, _, case = report.nodeid.split("::", 1)[-1].partition("[")
        case = case.removesuffix("]")
        if report.when == "call" and report.passed:
            self.checks.append(CheckResult(name, passed=True, case=case))
        elif report.failed:
            self.checks.append(CheckResult(name, passed=False, reason=_reason(report), case=case))


def _reason(report) -> str:
    """The failed check's own message, never the test source or a traceback."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash is not None else str(report.longrepr).splitlines()[-1]
    for prefix in ("AssertionError: ", f"{StudentCodeFailed.__module__}.{StudentCodeFailed.__name__}: "):
        if message.startswith(prefix):
            message = message.removeprefix(prefix)
            if prefix != "AssertionError: ":
                message = f"your code failed: {message}"
    message = message.strip()
    return message.splitlines()[0][:300] if message else "failed"


def run_hidden_tests(task: str, probe: ProbeProcess, points: float) -> TaskResult:
    """``hidden_tests/test_<task>.py`` against the probe; partial credit by checks passed."""
    result = TaskResult(task, points)
    try:
        collector = _Collector(RemoteStudent(probe, task))
    except StudentCodeFailed as failure:
        result.checks.append(CheckResult("setup", passed=False, reason=f"your notebook could not be run: {failure}"))
        return result
    arguments = [str(HIDDEN_TESTS / f"test_{task}.py"), "-q", "--tb=line", "--assert=plain",
                 *(f"-pno:{plugin}" for plugin in UNUSED_PYTEST_PLUGINS),
                 "-c", str(HIDDEN_TESTS / "pytest.ini"), "--rootdir", str(HIDDEN_TESTS)]
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), pytest_of_its_own():
        warnings.simplefilter("ignore")
        pytest.main(arguments, plugins=[collector])
    result.checks = collector.checks
    passed = len(result.checks) - len(result.failed)
    result.score = round(points * passed / len(result.checks), 3) if result.checks else 0.0
    if result.failed:
        with probe.diagnosis():
            found = find_misconceptions(task, collector.remote_student)
        result.misconceptions = [Diagnosis(finding.id, finding.explanation) for finding in found]
    return result


def check_notebook(notebook: nbformat.NotebookNode, workdir: Path, hide: list[Path] = (), kit: Path | None = None,
                   limits: GradingLimits = DEFAULT_LIMITS, cgroups: list[Path] = (),
                   scratch: Path | None = None, forkserver: socket.socket | None = None) -> CheckReport:
    """Run every task's hidden checks against one notebook, its cells in a confined probe.

    The probe's code writes only to ``scratch`` (by default a folder in ``workdir``). With a
    ``forkserver`` connection the probe is forked warm (``grader.confinement.probe_forkserver``).
    """
    kit = kit or prepare_kit(workdir)
    home = scratch or workdir / "probe-home"
    layers_file = workdir / "probe-layers.json"
    policy = grading_policy(home, kit, hidden=[*hide, workdir], limits=limits, stage="probe",
                            layers_file=layers_file, cgroups=cgroups).save(workdir / "probe-policy.json")
    checked_cells, remaining_cells = probe_cells(notebook)
    probe_file = kit / PROBE_NAME
    probe = ProbeProcess(
        command=probe_command(policy, probe_file), cells=checked_cells, workdir=home,
        forkserver=forkserver, policy_file=policy, probe_file=probe_file,
        environment=launcher_environment(), stand_ins_source=REFERENCE_FILE.read_text(),
        stand_ins_by_task=UPSTREAM_STAND_INS, cell_seconds=limits.cell_seconds, request_seconds=limits.check_seconds,
        after_timeout_seconds=limits.after_timeout_seconds,
    )
    points = task_points()
    try:
        tasks = [run_hidden_tests(task, probe, points[task]) for task in TASKS]
        with contextlib.suppress(StudentCodeFailed):  # the scores stand; cells that did not run show no output
            probe.run_remaining(remaining_cells)
    finally:
        probe.stop()
    return CheckReport(tasks=tasks, cells=sorted(probe.outcomes.values(), key=lambda outcome: outcome.index),
                       confinement=Confinement.load(layers_file))

