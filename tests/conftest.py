"""Shared fixtures: paths, the solution's own code, and one smoke-mode execution of the notebook."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY_ROOT))

from tests.notebook_code import task_namespace  # noqa: E402


@pytest.fixture(scope="session")
def solution():
    """The solution notebook's five task definitions, executed in a fresh namespace."""
    return task_namespace(REPOSITORY_ROOT / "solutions" / "UNet_Assignment.ipynb")


@pytest.fixture
def kernel_environment(monkeypatch):
    """Kernels started by tests import our packages and stay quiet on stderr."""
    python_path = [str(REPOSITORY_ROOT), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in python_path if p))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONWARNINGS", "ignore")


@pytest.fixture(scope="session")
def graded_batch(tmp_path_factory):
    """The catalogue and the bad submissions, graded once by ``python -m grader autograde``."""
    from tests.batch import grade_batch

    return grade_batch(tmp_path_factory.mktemp("batch"))


def pytest_terminal_summary(terminalreporter):
    """Print the figures the run measured and the mutation score."""
    from tests.batch import BATCH_FIGURES
    from tests.submissions import MUTANTS
    from tests.test_browser import SCREENSHOTS
    from tests.test_grader import MUTATION_REPORT
    from tests.test_notebooks import SMOKE_FIGURES

    for figure, value in {**SMOKE_FIGURES, **BATCH_FIGURES}.items():
        terminalreporter.write_line(f"{figure}: {value}")
    for test, screenshot in SCREENSHOTS.items():
        terminalreporter.write_line(f"screenshot of {test}: {screenshot}")
    if not MUTATION_REPORT:
        return
    killed = sum(1 for _, score, maximum in MUTATION_REPORT.values() if score < maximum)
    terminalreporter.write_sep("-", f"mutation score: {killed} of {len(MUTANTS)} mutants lose points")
    for name, (task, score, maximum) in MUTATION_REPORT.items():
        terminalreporter.write_line(f"  {name}: {task} {score:g}/{maximum:g}")
