"""Check my submission: what the autograder will find in your notebook, before you hand it in.

It reads the notebook as last *saved* (save first!), wherever you run it: Colab hands the
notebook to the kernel on request, VS Code and JupyterLab tell the kernel its path. It reports
missing or duplicated task cells, cells whose type changed, tasks not started, and runs the
visible tests again against what your kernel holds now.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from unet_kit.assignment import NOTEBOOK_NAME, TASKS, grade_id_of_test_cell, nbgrader_metadata
from unet_kit.known_mistakes import KnownMistake

STUB = "raise NotImplementedError"


@dataclass(frozen=True)
class Finding:
    task: str
    problem: str


def _grade_id(cell: dict) -> str | None:
    return nbgrader_metadata(cell).get("grade_id")


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def find_notebook(namespace: dict) -> tuple[dict | None, str]:
    """The saved notebook's JSON and where it came from, or None and why it was not found."""
    if "google.colab" in sys.modules:
        try:
            from google.colab import _message

            return _message.blocking_request("get_ipynb", request="", timeout_sec=30)["ipynb"], "Colab"
        except Exception as error:  # noqa: BLE001 - any failure means "ask the student to download"
            return None, f"Colab did not hand over the notebook ({type(error).__name__})"
    candidates = [namespace.get("__vsc_ipynb_file__"), os.environ.get("JPY_SESSION_NAME"), NOTEBOOK_NAME]
    for candidate in filter(None, candidates):
        for path in (Path(candidate), Path.cwd() / Path(candidate).name):
            if path.suffix == ".ipynb" and path.is_file():
                try:
                    return json.loads(path.read_text(encoding="utf-8")), str(path)
                except (OSError, ValueError) as error:
                    return None, f"{path} could not be read ({type(error).__name__})"
    return None, f"no saved notebook found (looked for {NOTEBOOK_NAME} in {Path.cwd()})"


def inspect_cells(notebook: dict) -> list[Finding]:
    """Problems with the task cells that would cost points or confuse the grader."""
    cells = notebook.get("cells", [])
    findings = []
    for task in TASKS:
        answers = [cell for cell in cells if _grade_id(cell) == task]
        tests = [cell for cell in cells if _grade_id(cell) == grade_id_of_test_cell(task)]
        if not answers:
            findings.append(Finding(task, "its answer cell is missing: copy it back from a fresh copy of the assignment"))
        elif len(answers) > 1:
            findings.append(Finding(task, f"{len(answers)} cells are marked as its answer: keep one and delete the copies"))
        for cell in answers:
            if cell.get("cell_type") != "code":
                findings.append(Finding(task, f"its answer cell is a {cell.get('cell_type')} cell: change it back to Code"))
            elif STUB in _source(cell):
                findings.append(Finding(task, "not started: its answer cell still raises NotImplementedError"))
        if not tests:
            findings.append(Finding(task, "its test cell is missing (the grader restores it, but you lose its checks)"))
    return findings


def run_visible_tests(notebook: dict, namespace: dict) -> dict[str, str | None]:
    """Each task's visible test cell run on a copy of ``namespace``: None if it passed, else why not."""
    results = {}
    for task in TASKS:
        test = next((cell for cell in notebook.get("cells", []) if _grade_id(cell) == grade_id_of_test_cell(task)), None)
        if test is None:
            results[task] = "no test cell"
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(_source(test), f"<visible tests of {task}>", "exec"), dict(namespace))
            results[task] = None
        except KnownMistake as mistake:  # the named mistake is the point: show all of it
            results[task] = textwrap.fill(str(mistake), width=96, subsequent_indent="      ")
        except Exception as error:  # noqa: BLE001 - the student's error is the message
            results[task] = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:200]
    return results


def check_my_submission(namespace: dict) -> None:
    """Print what the autograder will find: cell problems, visible tests, a reminder of hidden tests."""
    if os.environ.get("NBGRADER_EXECUTION"):
        print("(check my submission does not run while the autograder grades this notebook)")
        return
    notebook, origin = find_notebook(namespace)
    if notebook is None:
        print(f"Could not check your cells: {origin}. Save the notebook and run this cell again; "
              "the visible tests below still ran.")
        notebook = {"cells": []}
    else:
        print(f"Checked the notebook as last saved ({origin}). Save again if you changed it since.")
    findings = inspect_cells(notebook) if notebook["cells"] else []
    for finding in findings:
        print(f"  ✗ {finding.task}: {finding.problem}")
    if notebook["cells"] and not findings:
        print("  ✓ every task has one answer cell and one test cell, all code, all started")
    results = run_visible_tests(notebook, namespace) if notebook["cells"] else {}
    for task, failure in results.items():
        print(f"  {'✓' if failure is None else '✗'} visible tests of {task}" + (f": {failure}" if failure else ""))
    passed = sum(failure is None for failure in results.values())
    if results:
        print(f"{passed} of {len(TASKS)} tasks pass their visible tests.")
    print("Remember: the autograder also runs hidden tests (other shapes, exact values, structure), "
          "so passing the visible ones is necessary, not sufficient.")
