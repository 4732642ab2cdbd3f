"""``python -m grader course``: the course's config loads in nbgrader, keeps the instructor's lines,
and turns a kit that cannot be imported into a loud refusal instead of a visible-tests-only grade."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course.setup import BLOCK_BEGIN, make_course
from unet_kit.assignment import NOTEBOOK_NAME
from unet_kit.data import REGISTRY

LOAD_CONFIG = """\
import json, sys
from traitlets.config.loader import PyFileConfigLoader
config = PyFileConfigLoader("nbgrader_config.py", path=sys.argv[1]).load_config()
print(json.dumps({
    "course_id": config.CourseDirectory.course_id,
    "exchange": config.Exchange.root if "root" in config.Exchange else None,
    "late_penalty": config.LateSubmissionPlugin.penalty_method if "LateSubmissionPlugin" in config else None,
    "sanitize": [p if isinstance(p, str) else p.__name__ for p in config.Autograde.sanitize_preprocessors],
    "autograde": [p if isinstance(p, str) else p.__name__ for p in config.Autograde.get("autograde_preprocessors", [])],
}))
"""


def load_config(course: Path, python_path: str | None = None) -> tuple[dict, str]:
    """The course's config as nbgrader's loader reads it, in a fresh Python (as nbgrader would)."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    if python_path:
        environment["PYTHONPATH"] = python_path
    completed = subprocess.run([sys.executable, "-c", LOAD_CONFIG, str(course)], env=environment, cwd=course,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout), completed.stderr


def test_the_course_holds_the_notebook_the_kit_and_the_data_and_its_config_loads(tmp_path):
    made = make_course(tmp_path / "course", course_id="unet-2027", exchange=tmp_path / "exchange")
    source = made.root / "source" / "unet"
    assert (source / NOTEBOOK_NAME).is_file() and (source / "unet_kit" / "data.py").is_file()
    assert sorted(path.stem for path in (source / "data" / "isbi2012").glob("*.tif")) == sorted(REGISTRY)
    assert not list(source.rglob("__pycache__"))
    config, _ = load_config(made.root)
    assert config["course_id"] == "unet-2027" and config["exchange"] == str((tmp_path / "exchange").resolve())
    assert config["sanitize"][0] == "grader.course.preprocessors.NormaliseSubmission"
    assert config["autograde"][0] == "grader.course.preprocessors.CheckHiddenTests"  # the one execution
    assert not any(step.endswith("Execute") for step in config["autograde"])  # nbgrader runs nothing again
    assert "grader.course.preprocessors.RecordCheckScores" in config["autograde"]


@pytest.mark.slow
def test_running_it_again_keeps_the_instructors_lines_and_notebook(tmp_path):
    course = tmp_path / "course"
    make_course(course)
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text() + "c.LateSubmissionPlugin.penalty_method = 'zero'\n")
    notebook = course / "source" / "unet" / NOTEBOOK_NAME
    notebook.write_text(notebook.read_text().replace("Segmenting neurons", "Segmenting neurons (our edition)"))
    made = make_course(course, course_id="renamed")
    assert config.read_text().count(BLOCK_BEGIN) == 1
    loaded, _ = load_config(course)
    assert loaded["course_id"] == "renamed" and loaded["late_penalty"] == "zero"
    assert "(our edition)" in notebook.read_text()
    assert any("kept your" in note for note in made.notes)


@pytest.mark.slow
def test_an_existing_config_without_the_kit_gets_the_block_and_keeps_its_lines(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.Exchange.root = '/srv/exchange'\n")
    make_course(course, course_id="phys101")
    loaded, _ = load_config(course)
    assert loaded["course_id"] == "phys101" and loaded["exchange"] == "/srv/exchange"


def test_a_kit_that_cannot_be_imported_leaves_a_loud_refusal_not_nbgraders_defaults(tmp_path):
    course = make_course(tmp_path / "course").root
    broken = tmp_path / "broken"
    (broken / "grader").mkdir(parents=True)
    (broken / "grader" / "__init__.py").write_text("raise ImportError('the kit is missing here')\n")
    loaded, warnings = load_config(course, python_path=str(broken))
    assert loaded["sanitize"] == ["UnetKitMissing"]
    assert "the hidden checks cannot run" in warnings and "Fix: run `make env`" in warnings


@pytest.mark.parametrize("course_id", ["two words", "../up", ""])
def test_a_course_id_nbgrader_cannot_use_is_refused(tmp_path, course_id):
    with pytest.raises(ValueError, match="only letters, digits"):
        make_course(tmp_path / "course", course_id=course_id)
