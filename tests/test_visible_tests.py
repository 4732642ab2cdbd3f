"""The student notebook's own visible tests, run as a student runs them, against the corpus.

The set-up cells run once; then, for each mutant and each correct variant, every task's answer
cell and test cell run in order in a fresh copy of that namespace, the way a student runs the
notebook top to bottom. A mutant must fail its own task's test with its misconception's words;
a later task whose test fails because of it must name the earlier task; correct code passes.
"""

from __future__ import annotations

import json

import matplotlib
import pytest

from tests.submissions import (
    CORRECT_VARIANTS,
    MISCONCEPTION_OF,
    MUTANTS,
    PARAMETER_VARIANT_MISCONCEPTIONS,
    PARAMETER_VARIANTS,
    filled_in,
    fits_template,
)
from unet_kit.assignment import STUDENT_NOTEBOOK, TASKS, grade_id_of_test_cell
from unet_kit.known_mistakes import FINGERPRINTS_FILE, TASK_TITLES, same_fingerprint

#: Each misconception's feedback paragraph, with blanks the diagnosis fills (``{axes}``, ``{activation}``).
TEMPLATES = {id: entry["text"] for id, entry in
             json.loads(FINGERPRINTS_FILE.read_text(encoding="utf-8"))["explanations"].items()}


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


@pytest.fixture(scope="module")
def set_up_namespace():
    """The namespace after the notebook's set-up cells (everything before Task 1's answer cell)."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    notebook = filled_in()
    first_task = next(i for i, cell in enumerate(notebook.cells) if _grade_id(cell) == TASKS[0])
    namespace = {"__name__": "__main__"}
    for cell in notebook.cells[:first_task]:
        if cell.cell_type == "code":
            exec(compile(cell.source, "<set-up cell>", "exec"), namespace)
    plt.close("all")
    return namespace


#: Every mutant with the misconceptions its own task's test must name (a parameter variant may show two).
EXPECTED = {**{name: (misconception,) for name, misconception in MISCONCEPTION_OF.items()},
            **PARAMETER_VARIANT_MISCONCEPTIONS}


def run_tasks(notebook, namespace: dict, last_task: str = TASKS[-1]) -> dict[str, str | None]:
    """Each task's test outcome up to ``last_task``: None when it passed, else the error's message."""
    namespace = dict(namespace)
    cells = {_grade_id(cell): cell.source for cell in notebook.cells if _grade_id(cell)}
    outcomes = {}
    for task in TASKS[:TASKS.index(last_task) + 1]:
        exec(compile(cells[task], f"<answer {task}>", "exec"), namespace)
        try:
            exec(compile(cells[grade_id_of_test_cell(task)], f"<test {task}>", "exec"), namespace)
            outcomes[task] = None
        except Exception as error:  # noqa: BLE001 - the message is what the test inspects
            outcomes[task] = f"{type(error).__name__}: {error}"
    return outcomes


@pytest.mark.parametrize("mutant", [*MUTANTS, *PARAMETER_VARIANTS], ids=lambda mutant: mutant.name)
def test_each_mutant_fails_its_own_visible_test_naming_its_misconception(set_up_namespace, mutant, capsys):
    outcomes = run_tasks(mutant.notebook(), set_up_namespace, last_task=mutant.task)
    earlier = {task: outcome for task, outcome in outcomes.items() if task != mutant.task}
    assert all(outcome is None for outcome in earlier.values()), earlier
    message = outcomes[mutant.task]
    assert message is not None, f"{mutant.name} passes the visible tests of {mutant.task}"
    assert all(fits_template(message, TEMPLATES[misconception]) for misconception in EXPECTED[mutant.name]), message


@pytest.mark.slow
@pytest.mark.parametrize("mutant", [m for m in MUTANTS if m.task != TASKS[-1]], ids=lambda mutant: mutant.name)
def test_a_later_visible_test_broken_by_an_earlier_mistake_names_the_earlier_task(set_up_namespace, mutant, capsys):
    outcomes = run_tasks(mutant.notebook(), set_up_namespace)
    later = TASKS[TASKS.index(mutant.task) + 1:]
    for task in later:
        if outcomes[task] is not None:
            assert TASK_TITLES[mutant.task] in outcomes[task], (task, outcomes[task])


@pytest.mark.parametrize("variant", sorted(CORRECT_VARIANTS))
def test_correct_code_written_differently_passes_every_visible_test(set_up_namespace, variant, capsys):
    task, source = CORRECT_VARIANTS[variant]
    outcomes = run_tasks(filled_in({task: source.strip()}), set_up_namespace)
    assert outcomes == dict.fromkeys(TASKS), outcomes


def test_the_solution_passes_every_visible_test(set_up_namespace, capsys):
    assert run_tasks(filled_in(), set_up_namespace) == dict.fromkeys(TASKS)
    assert "all visible tests passed" in capsys.readouterr().out


def test_the_blank_notebook_fails_with_the_students_own_error_not_a_diagnosis(set_up_namespace):
    import nbformat

    outcomes = run_tasks(nbformat.read(STUDENT_NOTEBOOK, as_version=4), set_up_namespace)
    assert all(outcome.startswith("NotImplementedError") for outcome in outcomes.values()), outcomes


def test_the_stored_fingerprints_are_the_graders_current_ones():
    from grader.course.known_mistake_fingerprints import known_mistake_fingerprints

    stored, fresh = json.loads(FINGERPRINTS_FILE.read_text(encoding="utf-8")), known_mistake_fingerprints()
    hint = "the grader's catalogue changed: run `make student-notebook` and commit unet_kit/known_mistakes.json"
    assert stored["explanations"] == fresh["explanations"], hint
    for task, expected in fresh["tasks"].items():
        assert [m["id"] for m in stored["tasks"][task]["mistakes"]] == [m["id"] for m in expected["mistakes"]], hint
        pairs = list(zip(stored["tasks"][task]["right"], expected["right"]))
        for stored_mistake, mistake in zip(stored["tasks"][task]["mistakes"], expected["mistakes"]):
            pairs += [pair for variants in zip(stored_mistake["variants"], mistake["variants"]) for pair in zip(*variants)]
        assert all(a == b or same_fingerprint(a, b) for a, b in pairs), hint
