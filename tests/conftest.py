"""Shared fixtures: paths, the solution's own code, and one smoke-mode execution of the notebook."""

from __future__ import annotations

import os

import pytest

import grader.skipped_imports  # noqa: F401 - first: the test process, too, goes without jsonschema's 2 s IRI parser
from grader.course.notebook_cells import task_namespace
from tests.figures import MUTATION_REPORT, SCREENSHOTS, SMOKE_FIGURES
from unet_kit.assignment import REPOSITORY_ROOT, SOLUTION_NOTEBOOK


@pytest.fixture(scope="session")
def solution():
    """The solution notebook's five task definitions, executed in a fresh namespace."""
    return task_namespace(SOLUTION_NOTEBOOK)


@pytest.fixture
def kernel_environment(monkeypatch):
    """Kernels started by tests import our packages and stay quiet on stderr."""
    python_path = [str(REPOSITORY_ROOT), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in python_path if p))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONWARNINGS", "ignore")


@pytest.fixture(scope="session")
def probe_forkserver(tmp_path_factory):
    """A batch's scratch folder, its kit and its probe fork server, for every test that forks probes:
    the fork server's imports take seconds, once."""
    from grader.confinement.policy import prepare_kit
    from grader.confinement.probe_forkserver import ProbeForkServer

    root = tmp_path_factory.mktemp("forkserver-batch")
    kit = prepare_kit(root)
    with ProbeForkServer(root / "forkserver", kit) as server:
        yield root, kit, server


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's Chromium (installed with apt-get where it is missing and we may), or a skip."""
    from tests.chromium import find_or_install_chromium

    return find_or_install_chromium()


@pytest.fixture(scope="session")
def playwright_sync_api():
    """Playwright's synchronous API (pip-installed from requirements-dev.txt where it is missing)."""
    from tests.chromium import import_playwright_sync_api

    return import_playwright_sync_api()


def reads_the_corpus_first(item: pytest.Item) -> bool:
    return "graded_batch" in item.fixturenames


def reads_the_corpus_at_the_end(item: pytest.Item) -> bool:
    return item.get_closest_marker("compares_with_the_corpus") is not None


def reads_the_corpus(item: pytest.Item) -> bool:
    return reads_the_corpus_first(item) or reads_the_corpus_at_the_end(item)


def pytest_collection_modifyitems(items):
    """The tests that read the corpus batch run last: every other test runs while it grades. Those
    that do their own work first and read the batch only at the end go just before them."""
    items.sort(key=lambda item: (reads_the_corpus_first(item), reads_the_corpus_at_the_end(item)))


@pytest.fixture(scope="session", autouse=True)
def corpus_grading(request, tmp_path_factory):
    """The catalogue and the bad submissions, graded by ``python -m grader autograde`` from the
    session's start, when a selected test reads them.

    The suite's longest step (about 8 minutes for 88 submissions on 2 cores, beside the other tests): every mutant,
    correct variant and bad submission graded as an instructor grades a class, in one batch,
    hangs and time limits included. Much of it is waiting out those limits, so it runs in the
    background while the tests that do not read it run.
    """
    if not any(map(reads_the_corpus, request.session.items)):
        yield None
        return
    from tests.batch import CorpusGrading

    grading = CorpusGrading(tmp_path_factory.mktemp("batch"))
    yield grading
    grading.stop()


@pytest.fixture(scope="session")
def graded_batch(corpus_grading):
    """The corpus batch's results, read by more than sixty tests: no other test grades these notebooks again."""
    return corpus_grading.result()


def pytest_terminal_summary(terminalreporter):
    """Print the figures the run measured and the mutation score."""
    from tests.batch import BATCH_FIGURES
    from tests.submissions import MUTANTS

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
