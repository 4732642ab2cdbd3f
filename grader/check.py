"""The trusted score of one submission: hidden pytest checks, run where student code cannot reach.

This process never runs student code. It starts the probe (``grader.remote``), a confined
process that runs the notebook's cells, and runs each task's hidden pytest module here, with
a ``student`` fixture that reaches the student's functions only through the probe. Expected
values come from the oracles in ``grader.reference``, computed here; so monkeypatching
``torch``, ``pytest`` or the grader inside the notebook changes nothing but the student's own
answers.

``python -m grader.check NOTEBOOK --workdir DIR --report REPORT.json [--hide FOLDER ...]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import pytest

from grader.course import SOLUTION_NOTEBOOK, TASKS, TEST_CELL_PREFIX
from grader.jail import landlock_abi
from grader.reference import UPSTREAM_STAND_INS
from grader.remote import ProbeProcess, RemoteStudent, StudentCodeFailed, probe_command
from grader.sandbox import PROBE_NAME, grading_policy, launcher_environment, prepare_kit

HIDDEN_TESTS = Path(__file__).resolve().parent / "hidden_tests"


@dataclass
class TaskReport:
    points: float
    score: float = 0.0
    passed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        total = len(self.passed) + len(self.failed)
        lines = [f"{len(self.passed)} of {total} hidden checks passed: {self.score:g} of {self.points:g} points"]
        lines += [f"  failed {name}: {reason}" for name, reason in self.failed]
        return "\n".join(lines)


def task_points(solution: Path = SOLUTION_NOTEBOOK) -> dict[str, float]:
    """Points of each task, read from its test cell in the nbgrader source (one source of truth)."""
    notebook = nbformat.read(solution, as_version=4)
    points = {}
    for cell in notebook.cells:
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("grade") and grading.get("grade_id", "").startswith(TEST_CELL_PREFIX):
            points[grading["grade_id"].removeprefix(TEST_CELL_PREFIX)] = float(grading["points"])
    return points


def probe_cells(notebook) -> list[tuple[int, str]]:
    """The code cells the probe runs: every code cell before the last test cell, test cells excepted.

    The cells after the tasks (training, evaluation) define nothing the hidden tests need.
    """
    graded = [i for i, cell in enumerate(notebook.cells) if cell.metadata.get("nbgrader", {}).get("grade")]
    last = max(graded, default=len(notebook.cells) - 1)
    return [(i, cell.source) for i, cell in enumerate(notebook.cells[:last])
            if cell.cell_type == "code" and not cell.metadata.get("nbgrader", {}).get("grade")]


class _Collector:
    """pytest plugin: gives the tests the remote student and records each outcome."""

    def __init__(self, student: RemoteStudent):
        self.remote_student = student
        self.passed: list[str] = []
        self.failed: list[tuple[str, str]] = []

    @pytest.fixture
    def student(self):
        return self.remote_student

    def pytest_runtest_logreport(self, report):
        name = report.nodeid.split("::", 1)[-1].split("[", 1)[0]  # the case is in the message
        if report.when == "call" and report.passed:
            self.passed.append(name)
        elif report.failed:
            self.failed.append((name, _reason(report)))


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


def run_hidden_tests(task: str, probe: ProbeProcess, points: float) -> TaskReport:
    """``hidden_tests/test_<task>.py`` against the probe; partial credit by checks passed."""
    report = TaskReport(points)
    try:
        collector = _Collector(RemoteStudent(probe, task))
    except StudentCodeFailed as failure:
        report.failed.append(("setup", f"your notebook could not be run: {failure}"))
        return report
    arguments = [str(HIDDEN_TESTS / f"test_{task}.py"), "-q", "--tb=line", "--assert=plain",
                 "-p", "no:cacheprovider", "-c", str(HIDDEN_TESTS / "pytest.ini"),
                 "--rootdir", str(HIDDEN_TESTS)]
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pytest.main(arguments, plugins=[collector])
    report.passed, report.failed = collector.passed, collector.failed
    total = len(report.passed) + len(report.failed)
    report.score = round(points * len(report.passed) / total, 3) if total else 0.0
    return report


def check_notebook(notebook_path: Path, workdir: Path, hide: list[Path] = (), kit: Path | None = None) -> dict:
    """Run every task's hidden checks against one notebook; return the report as plain data."""
    notebook = nbformat.read(notebook_path, as_version=4)
    kit = kit or prepare_kit(workdir)
    home = workdir / "probe-home"
    policy = grading_policy(home, kit, hidden=[*hide, workdir]).save(workdir / "probe-policy.json")
    environment = launcher_environment()
    probe = ProbeProcess(
        command=probe_command(policy, kit / PROBE_NAME), cells=probe_cells(notebook), workdir=home,
        environment=environment, stand_ins_source=Path(sys.modules["grader.reference"].__file__).read_text(),
        stand_ins_by_task=UPSTREAM_STAND_INS,
    )
    points = task_points()
    try:
        tasks = {task: run_hidden_tests(task, probe, points[task]) for task in TASKS}
    finally:
        probe.stop()
    return {
        "tasks": {task: asdict(report) | {"summary": report.summary()} for task, report in tasks.items()},
        "cells": [asdict(outcome) for outcome in sorted(probe.outcomes.values(), key=lambda o: o.index)],
        "landlock_abi": landlock_abi(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m grader.check", description=__doc__)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--kit", type=Path, default=None)
    parser.add_argument("--hide", type=Path, action="append", default=[])
    arguments = parser.parse_args(argv)
    arguments.workdir.mkdir(parents=True, exist_ok=True)
    report = check_notebook(arguments.notebook, arguments.workdir.resolve(), arguments.hide, arguments.kit)
    arguments.report.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
