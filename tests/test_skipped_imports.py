"""The grader's processes go without ``rfc3987_syntax`` and lose nothing: no nbformat schema checks formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat

from unet_kit.assignment import REPOSITORY_ROOT, STUDENT_NOTEBOOK


def string_formats(schema) -> set[str]:
    """Every ``"format": "<name>"`` keyword in a JSON schema (a property named format holds a schema, not a name)."""
    if isinstance(schema, dict):
        own = {schema["format"]} if isinstance(schema.get("format"), str) else set()
        return own | {name for item in schema.values() for name in string_formats(item)}
    if isinstance(schema, list):
        return {name for item in schema for name in string_formats(item)}
    return set()


def test_no_nbformat_schema_asks_for_a_string_format():
    schemas = sorted(Path(nbformat.__file__).parent.rglob("*.schema.json"))
    assert schemas
    assert {schema.name: string_formats(json.loads(schema.read_text())) for schema in schemas} == {
        schema.name: set() for schema in schemas}


def test_a_grader_process_validates_a_notebook_without_importing_rfc3987_syntax():
    script = f"""
import sys
import grader.skipped_imports
import nbformat
nbformat.validate(nbformat.read({str(STUDENT_NOTEBOOK)!r}, as_version=4))
print(sys.modules["rfc3987_syntax"])
"""
    finished = subprocess.run([sys.executable, "-c", script], cwd=REPOSITORY_ROOT, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "None"
