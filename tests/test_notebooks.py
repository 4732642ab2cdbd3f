"""The solution notebook runs and learns; the student notebook is its current nbgrader release."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import nbformat
import papermill
import pytest
from nbgrader.validator import Validator

from grader.course.course_directory import create_course, generate_assignment, task_points
from grader.course.notebook_cells import answer_cells
from tests.figures import SMOKE_FIGURES
from unet_kit.assignment import SOLUTION_NOTEBOOK, STUDENT_NOTEBOOK, TASKS, grade_id_of_test_cell, task_of_test_cell
from unet_kit.data import load_isbi2012

PIXEL_ERROR_LINE = re.compile(r"at threshold 0\.5 .*\n  pixel error ([0-9.]+)")
CHALLENGE_LINE = re.compile(r"V_Rand ([0-9.]+) \(at ([0-9.]+)\), V_Info ([0-9.]+) \(at ([0-9.]+)\)")


@pytest.fixture(scope="module")
def executed_solution(tmp_path_factory):
    """The solution notebook executed top to bottom with the smoke budget.

    About 90 s on 2 idle cores (twice that beside the corpus batch), once per run: the only place the whole lesson runs in a real kernel
    and a U-Net is trained (300 steps) from the notebook's own cells; every test in this module
    reads this one run.
    """
    output = tmp_path_factory.mktemp("executed") / "UNet_Assignment.ipynb"
    papermill.execute_notebook(
        str(SOLUTION_NOTEBOOK), str(output), parameters={"BUDGET": "smoke"},
        cwd=str(SOLUTION_NOTEBOOK.parent), progress_bar=False, kernel_name="python3",
    )
    return nbformat.read(output, as_version=4)


def all_text(notebook) -> str:
    return "\n".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.get("outputs", []) if output.output_type == "stream"
    )


@pytest.mark.slow
def test_smoke_run_learns_better_than_calling_everything_cell(executed_solution,
                                                              kernel_environment):
    match = PIXEL_ERROR_LINE.search(all_text(executed_solution))
    assert match, "the executed notebook does not report the validation pixel error"
    validation_labels = load_isbi2012().train_labels[25:]
    all_cell_error = (validation_labels == 0).mean()
    SMOKE_FIGURES["validation pixel error (smoke)"] = match.group(1)
    assert float(match.group(1)) < all_cell_error - 0.03


@pytest.mark.slow
def test_smoke_run_reports_its_plan_and_the_challenges_scores(executed_solution):
    text = all_text(executed_solution)
    assert "trained 300 steps" in text and "the smoke budget's fixed 300 steps" in text
    match = CHALLENGE_LINE.search(text)
    assert match, "the executed notebook does not report V_Rand and V_Info"
    v_rand, rand_threshold, v_info, info_threshold = map(float, match.groups())
    assert 0 < v_rand <= 1 and 0 < v_info <= 1
    assert {rand_threshold, info_threshold} <= {index / 10 for index in range(11)}
    SMOKE_FIGURES["validation V_Rand (smoke)"] = match.group(1)


@pytest.mark.slow
def test_smoke_run_shows_data_training_curve_and_predictions(executed_solution):
    pictures = [cell for cell in executed_solution.cells if cell.cell_type == "code"
                and any("image/png" in output.get("data", {}) for output in cell.outputs)]
    assert len(pictures) >= 3
    assert "training budget: smoke" in all_text(executed_solution)


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    return generate_assignment(create_course(tmp_path_factory.mktemp("course")))


@pytest.mark.slow
def test_committed_student_notebook_equals_a_fresh_generation(fresh_release):
    committed = json.loads(STUDENT_NOTEBOOK.read_text())
    fresh = json.loads(fresh_release.read_text())
    assert committed == fresh, "UNet_Assignment.ipynb is stale: run `make student-notebook`"


@pytest.mark.slow
def test_student_notebook_holds_stubs_and_no_solution_or_hidden_test(fresh_release):
    text = STUDENT_NOTEBOOK.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "torch.cat([x, skip_con_x]"):
        assert marker not in text
    stubs = answer_cells(STUDENT_NOTEBOOK)
    assert sorted(stubs) == sorted(answer_cells(SOLUTION_NOTEBOOK)) and set(TASKS) <= set(stubs)
    for grade_id, source in stubs.items():
        stub = "raise NotImplementedError()" if grade_id in TASKS else "YOUR ANSWER HERE"  # code, or a written answer
        assert stub in source, f"{grade_id} has no stub"


def test_student_notebook_carries_no_outputs():
    notebook = nbformat.read(STUDENT_NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


@pytest.mark.slow
def test_nbgrader_validate_passes_the_solution(kernel_environment):
    assert Validator().validate(str(SOLUTION_NOTEBOOK)) == {}


@pytest.mark.slow
def test_nbgrader_validate_fails_the_blank_notebook(kernel_environment):
    results = Validator().validate(str(STUDENT_NOTEBOOK))
    assert len(results.get("failed", [])) == len(TASKS)


@pytest.mark.slow
def test_nbgrader_validate_invert_tells_blank_from_solution(kernel_environment):
    blank = Validator(invert=True).validate(str(STUDENT_NOTEBOOK))
    # nbgrader counts an unanswered written answer as passing; no test cell may pass on the blank.
    assert set(blank) <= {"passed"} and all(entry["source"].strip() == "YOUR ANSWER HERE" for entry in blank.get("passed", []))
    passed = Validator(invert=True).validate(str(SOLUTION_NOTEBOOK)).get("passed", [])
    assert len(passed) == len(TASKS), passed


def test_checker_takes_each_tasks_points_from_its_test_cell():
    """One source of truth: the points grader.checking.check gives are the nbgrader points of the test cells."""
    notebook = nbformat.read(SOLUTION_NOTEBOOK, as_version=4)
    graded = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade")]
    written = [cell for cell in graded if cell.metadata.nbgrader.get("solution")]
    assert all(cell.cell_type == "markdown" and cell.metadata.nbgrader.points == 0 for cell in written), \
        "the questions' answer cells are written answers worth no points unless an instructor gives some"
    graded = [cell for cell in graded if cell not in written]
    assert [cell.metadata.nbgrader.grade_id for cell in graded] == [grade_id_of_test_cell(task) for task in TASKS]
    assert task_points() == {task_of_test_cell(cell.metadata.nbgrader.grade_id): float(cell.metadata.nbgrader.points)
                             for cell in graded}
    assert all("grader" not in cell.source for cell in graded), "test cells must not import the grader"


def setup_cell(notebook_path) -> str:
    return nbformat.read(notebook_path, as_version=4).cells[1].source


def test_colab_badge_opens_the_repository_the_setup_cell_clones():
    match = re.search(r'KIT_REPOSITORY = "https://github.com/([\w.-]+/[\w.-]+)"', setup_cell(STUDENT_NOTEBOOK))
    assert match, "the setup cell must name the repository in KIT_REPOSITORY"
    badge = f"https://colab.research.google.com/github/{match.group(1)}/blob/main/UNet_Assignment.ipynb"
    assert badge in (SOLUTION_NOTEBOOK.parent.parent / "README.md").read_text()


def test_setup_cell_runs_twice_in_a_checkout_without_cloning_or_installing(tmp_path):
    """Outside Colab the cell only finds the checkout: no clone, no pip, no error on a re-run."""
    source = setup_cell(STUDENT_NOTEBOOK)
    program = f"{source}\n{source}\nimport unet_kit\nprint('ok', IN_COLAB, missing)"
    completed = subprocess.run([sys.executable, "-c", program], cwd=SOLUTION_NOTEBOOK.parent,
                               capture_output=True, text=True, timeout=120,
                               env={**os.environ, "PYTHONPATH": ""})
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "ok False []"
    assert "torch" not in source.split("NEEDED_PACKAGES", 1)[1].split("\n", 1)[0], "the setup cell must never install torch"


def test_notebook_asks_colab_for_a_gpu_runtime():
    metadata = nbformat.read(STUDENT_NOTEBOOK, as_version=4).metadata
    assert metadata["accelerator"] == "GPU" and metadata["colab"]["gpuType"]


def test_solution_notebook_carries_no_outputs():
    notebook = nbformat.read(SOLUTION_NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") and cell.get("execution_count") is None
               for cell in notebook.cells if cell.cell_type == "code")
