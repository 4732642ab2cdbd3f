"""The hidden checks run with their own pytest settings, whatever the grading machine's environment says."""

from __future__ import annotations

import os

import pytest

from grader.checking.check import run_hidden_tests
from grader.course.notebook_cells import task_namespace
from tests.probe_here import ProbeHandlersHere
from unet_kit.assignment import SOLUTION_NOTEBOOK

#: An installed pytest plugin that deselects every test: what pytest-randomly or a stray
#: ``-k`` would do to a grade, only more visibly.
DESELECTING_PLUGIN = "def pytest_collection_modifyitems(items):\n    items.clear()\n"


@pytest.fixture(scope="module")
def solution_probe():
    return ProbeHandlersHere(task_namespace(SOLUTION_NOTEBOOK))


@pytest.fixture
def installed_deselecting_plugin(tmp_path, monkeypatch):
    """A distribution on sys.path that registers a pytest plugin, as ``pip install pytest-something`` would."""
    (tmp_path / "deselect_everything.py").write_text(DESELECTING_PLUGIN)
    dist_info = tmp_path / "deselect_everything-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: deselect-everything\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text("[pytest11]\ndeselect_everything = deselect_everything\n")
    monkeypatch.syspath_prepend(str(tmp_path))


def test_the_environments_pytest_options_and_plugins_do_not_change_the_checks(solution_probe, monkeypatch):
    own = run_hidden_tests("crop", solution_probe, 2)
    assert own.checks and own.score == 2
    monkeypatch.setenv("PYTEST_ADDOPTS", "-k no_check_is_called_this --maxfail=1")
    monkeypatch.setenv("PYTEST_PLUGINS", "a_plugin_nobody_installed")
    assert run_hidden_tests("crop", solution_probe, 2) == own
    assert os.environ["PYTEST_ADDOPTS"] == "-k no_check_is_called_this --maxfail=1"  # restored afterwards
    assert "PYTEST_DISABLE_PLUGIN_AUTOLOAD" not in os.environ


def test_an_installed_pytest_plugin_is_not_loaded_into_the_checks(solution_probe, installed_deselecting_plugin):
    checked = run_hidden_tests("crop", solution_probe, 2)
    assert checked.checks and checked.score == 2
