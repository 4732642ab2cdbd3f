"""Run a task's hidden pytest module inside the autograding kernel and return partial credit.

Called from the hidden regions of the solution notebook's test cells, which nbgrader strips
from the student release and restores at autograde time. nbgrader takes a number that a test
cell evaluates to as that cell's score, so the cell ends with the value this returns.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import pytest

from grader.reference import UPSTREAM_STAND_INS

HIDDEN_TESTS = Path(__file__).resolve().parent / "hidden_tests"
_ORIGINALS = "__grader_upstream_originals__"


def isolate_from_upstream(namespace: dict, task: str) -> None:
    """Replace the notebook's upstream definitions of ``task`` by trusted stand-ins.

    A wrong ``crop`` must not cost points in the expanding block, nor wrong blocks in the
    U-Net. ``run_hidden_tests`` puts the student's own definitions back when it ends.
    """
    stand_ins = UPSTREAM_STAND_INS[task]
    namespace[_ORIGINALS] = {name: namespace[name] for name in stand_ins if name in namespace}
    namespace.update(stand_ins)


class _Collector:
    """pytest plugin: hands the notebook's namespace to the tests and records each outcome."""

    def __init__(self, namespace: dict):
        self.namespace = namespace
        self.passed: list[str] = []
        self.failed: list[tuple[str, str]] = []

    @pytest.fixture
    def student(self):
        return self.namespace

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
    message = message.removeprefix("AssertionError: ").strip()
    return message.splitlines()[0][:300] if message else "failed"


def run_hidden_tests(task: str, namespace: dict, points: float) -> float:
    """Run ``hidden_tests/test_<task>.py`` against ``namespace``; print a report, return the score."""
    try:
        return _score(task, namespace, points)
    finally:
        namespace.update(namespace.pop(_ORIGINALS, {}))


def _score(task: str, namespace: dict, points: float) -> float:
    collector = _Collector(namespace)
    arguments = [str(HIDDEN_TESTS / f"test_{task}.py"), "-q", "--tb=no", "--assert=plain",
                 "-p", "no:cacheprovider", "-c", str(HIDDEN_TESTS / "pytest.ini"),
                 "--rootdir", str(HIDDEN_TESTS)]
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pytest.main(arguments, plugins=[collector])
    total = len(collector.passed) + len(collector.failed)
    if total == 0:
        print(f"{task}: the hidden tests could not run; please report this to your instructor.")
        return 0.0
    print(f"{task}: {len(collector.passed)} of {total} hidden checks passed")
    for name, reason in collector.failed:
        print(f"  failed {name}: {reason}")
    return round(points * len(collector.passed) / total, 3)
