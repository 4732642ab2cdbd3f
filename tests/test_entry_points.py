"""Every name another process reaches the grader by resolves, and none is written anywhere else."""

from __future__ import annotations

import ast
import importlib.util
import re

from traitlets.utils.importstring import import_item  # how nbgrader loads a dotted name from its config

from grader import entry_points
from grader.course.settings import AUTOGRADE_PREPROCESSORS, FEEDBACK_PREPROCESSORS, SANITIZE_PREPROCESSORS
from unet_kit.assignment import REPOSITORY_ROOT

DOTTED_GRADER_NAME = re.compile(r"^grader(\.\w+)+$")


def test_every_module_started_with_python_m_or_named_in_a_config_can_be_found():
    modules = [entry_points.CHECKER_MODULE, entry_points.JAIL_MODULE, entry_points.PROBE_FORKSERVER_MODULE,
               entry_points.COURSE_SETTINGS_MODULE,
               entry_points.PREPROCESSORS_MODULE, entry_points.FEEDBACK_MODULE, *entry_points.WARM_PRELOAD_MODULES]
    assert [name for name in modules if importlib.util.find_spec(name) is None] == []


def test_every_file_copied_or_run_by_path_is_there():
    files = [entry_points.PROBE_FILE, entry_points.REFERENCE_FILE, entry_points.BATCH_COURSE_CONFIG,
             entry_points.HIDDEN_TESTS / "pytest.ini"]
    assert [str(path) for path in files if not path.is_file()] == []


def test_every_preprocessor_and_exporter_in_the_course_configuration_loads_as_nbgrader_loads_it():
    names = [*SANITIZE_PREPROCESSORS, *AUTOGRADE_PREPROCESSORS, *FEEDBACK_PREPROCESSORS, *entry_points.LMS_EXPORTERS]
    assert all(isinstance(import_item(name), type) for name in names)


def test_no_other_grader_module_spells_a_grader_module_name_in_a_string():
    offences = []
    for path in sorted((REPOSITORY_ROOT / "grader").rglob("*.py")):
        if path.name == "entry_points.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and DOTTED_GRADER_NAME.match(node.value):
                offences.append(f"{path.relative_to(REPOSITORY_ROOT)}:{node.lineno} {node.value}")
    assert offences == []
