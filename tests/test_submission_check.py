"""The student's "check my submission" cell reports what the autograder would find."""

from __future__ import annotations

import copy
import json

import nbformat
import pytest

from tests.submissions import MUTANTS, filled_in, fits_template, solution_answer
from unet_kit.assignment import STUDENT_NOTEBOOK, TASKS, grade_id_of_test_cell
from unet_kit.known_mistakes import FINGERPRINTS_FILE, explain_known_mistakes
from unet_kit.submission_check import check_my_submission, find_notebook, inspect_cells, run_visible_tests

TEMPLATES = {id: entry["text"] for id, entry in
             json.loads(FINGERPRINTS_FILE.read_text(encoding="utf-8"))["explanations"].items()}


def as_json(notebook) -> dict:
    return json.loads(nbformat.writes(notebook))


def index_of(notebook: dict, grade_id: str) -> int:
    return next(i for i, cell in enumerate(notebook["cells"])
                if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.fixture
def kernel(solution):
    """What a student's kernel holds after the set-up cells and the five tasks."""
    return {**solution, "explain_known_mistakes": explain_known_mistakes}


def test_a_finished_notebook_has_no_findings_and_passes_every_visible_test(kernel):
    notebook = as_json(filled_in())
    assert inspect_cells(notebook) == []
    assert run_visible_tests(notebook, kernel) == {task: None for task in TASKS}


def test_the_blank_notebook_reports_every_task_as_not_started():
    findings = inspect_cells(json.loads(STUDENT_NOTEBOOK.read_text()))
    assert [(f.task, "not started" in f.problem) for f in findings] == [(task, True) for task in TASKS]


def test_deleted_duplicated_and_retyped_cells_are_named():
    notebook = as_json(filled_in())
    del notebook["cells"][index_of(notebook, "crop")]
    duplicate = index_of(notebook, "unet")
    notebook["cells"].insert(duplicate, copy.deepcopy(notebook["cells"][duplicate]))
    notebook["cells"][index_of(notebook, "feature_map_block")]["cell_type"] = "markdown"
    del notebook["cells"][index_of(notebook, grade_id_of_test_cell("expanding_block"))]
    problems = {(f.task, f.problem.split(":")[0]) for f in inspect_cells(notebook)}
    assert problems == {("crop", "its answer cell is missing"), ("unet", "2 cells are marked as its answer"),
                        ("feature_map_block", "its answer cell is a markdown cell"),
                        ("expanding_block", "its test cell is missing (the grader restores it, but you lose its checks)")}


def test_a_wrong_crop_is_named_in_its_own_task_and_blamed_in_the_tasks_that_call_it(kernel):
    namespace = {name: kernel[name] for name in ("torch", "nn", "F", "explain_known_mistakes")}
    for task in TASKS:  # one namespace, as in a kernel: the blocks call the crop defined here
        exec(MUTANTS[0].answer() if task == "crop" else solution_answer(task), namespace)  # crop off by one
    results = run_visible_tests(as_json(filled_in()), namespace)
    assert results["crop"].startswith("Task 1's crop: Your window is one pixel away from the centre in rows.")
    assert fits_template(results["crop"], TEMPLATES["crop.start_off_by_one"])
    assert "Task 3's ExpandingBlock calls Task 1's crop, which is wrong" in " ".join(results["expanding_block"].split())
    assert all(results[task] is None for task in ("contracting_block", "feature_map_block"))


def test_finds_the_notebook_vscode_names(tmp_path, monkeypatch):
    saved = tmp_path / "my copy.ipynb"
    saved.write_text(json.dumps({"cells": [], "marker": 1}))
    monkeypatch.chdir(tmp_path)
    notebook, origin = find_notebook({"__vsc_ipynb_file__": str(saved)})
    assert notebook["marker"] == 1 and origin == str(saved)


def test_finds_the_notebook_jupyter_names_in_the_working_folder(tmp_path, monkeypatch):
    (tmp_path / "UNet_Assignment (1).ipynb").write_text(json.dumps({"cells": [], "marker": 2}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JPY_SESSION_NAME", "course/UNet_Assignment (1).ipynb")
    assert find_notebook({})[0]["marker"] == 2


def test_without_a_saved_notebook_it_says_so_and_still_reminds_of_hidden_tests(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    check_my_submission({})
    printed = capsys.readouterr().out
    assert "Could not check your cells: no saved notebook found" in printed
    assert "hidden tests" in printed


def test_it_stays_out_of_the_autograders_way(monkeypatch, capsys):
    """Under nbgrader the visible tests already ran; running them again would only cost time."""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    check_my_submission({})
    assert "does not run while the autograder grades" in capsys.readouterr().out
