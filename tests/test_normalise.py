"""What ``grader.course.normalise`` makes of a handed-in file: read, repaired on the release's skeleton, explained.

Submissions are built here from the committed student notebook (the release), edited the way
students' editors and students edit them; nbgrader never runs.
"""

from __future__ import annotations

import copy
import json

import nbformat
import pytest

from grader.course.normalise import describe_cell, normalise, read_json, take_out_cells
from unet_kit.assignment import STUDENT_NOTEBOOK, TASKS, grade_id_of_test_cell, task_of_test_cell

COLAB_CELL_METADATA = {"colab": {"base_uri": "https://localhost:8080/"}, "outputId": "5e1f0c2a-colab"}


@pytest.fixture(scope="module")
def release() -> nbformat.NotebookNode:
    return nbformat.read(STUDENT_NOTEBOOK, as_version=4)


@pytest.fixture
def saved(release) -> dict:
    """The release as the JSON an editor saved: a fresh copy each test may edit."""
    return json.loads(nbformat.writes(release))


def index_of(cells: list, grade_id: str) -> int:
    return next(i for i, cell in enumerate(cells) if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def grade_ids(notebook) -> list[str]:
    return [cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells if "nbgrader" in cell.metadata]


def sources(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells]


# -- read_json: is it a notebook at all? ------------------------------------------------------------
def refusal(path) -> str | None:
    """Why ``read_json`` refuses the file; it must then hand back no notebook."""
    submitted = read_json(path)
    assert submitted.raw is None
    return submitted.problem


def test_an_empty_file_was_not_saved(tmp_path):
    path = tmp_path / "empty.ipynb"
    path.write_text("  \n")
    assert refusal(path) == "the file is empty: the notebook was not saved before it was handed in"


def test_broken_json_names_where_it_breaks(tmp_path):
    path = tmp_path / "truncated.ipynb"
    path.write_text('{"cells": [\n  {"cell_type": ')
    assert refusal(path) == "the file is not a readable notebook (broken JSON at line 2, column 17)"


def test_python_source_is_told_to_download_the_notebook_itself(tmp_path):
    path = tmp_path / "exported.ipynb"
    path.write_text("import torch\n\ndef crop(image, new_shape):\n    return image\n")
    assert refusal(path) == ("the file holds Python source, not a notebook: download the notebook "
                             "itself (File > Download > .ipynb) and hand that in")


@pytest.mark.parametrize("text", ['["cells"]', '{"worksheets": []}', '{"cells": "none"}'])
def test_json_without_a_list_of_cells_is_not_a_notebook(tmp_path, text):
    path = tmp_path / "other.ipynb"
    path.write_text(text)
    assert refusal(path) == "the file is JSON but not a notebook (it has no list of cells)"


def test_a_byte_order_mark_does_not_stop_a_notebook_being_read(tmp_path, saved):
    path = tmp_path / "windows.ipynb"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(saved).encode())
    submitted = read_json(path)
    assert (submitted.raw, submitted.problem, submitted.notes) == (saved, None, [])


# -- normalise: editors' formats ---------------------------------------------------------------------
def test_an_untouched_release_needs_no_repair(release, saved):
    normalised = normalise(saved, release)
    assert normalised.notes == [] and normalised.problem is None
    assert normalised.notebook == release


def test_colab_format_is_read_back_with_the_release_ids_and_without_colab_metadata(release, saved):
    saved.update(nbformat_minor=0, metadata={"colab": {"provenance": []},
                                             "kernelspec": {"name": "python3", "display_name": "Python 3"}})
    for cell in saved["cells"]:
        cell["metadata"].update(id=cell.pop("id"), **copy.deepcopy(COLAB_CELL_METADATA))
        if cell["cell_type"] == "code":
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ran in Colab\n"}]
            cell["execution_count"] = 7
    saved["cells"][index_of(saved["cells"], "crop")]["source"] = "def crop(image, new_shape):\n    return image"

    normalised = normalise(saved, release)

    assert normalised.notes == []
    notebook = normalised.notebook
    assert (notebook.nbformat, notebook.nbformat_minor) == (release.nbformat, release.nbformat_minor)
    assert notebook.metadata == release.metadata
    assert [cell.id for cell in notebook.cells] == [cell.id for cell in release.cells]
    assert [cell.metadata for cell in notebook.cells] == [cell.metadata for cell in release.cells]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in notebook.cells if cell.cell_type == "code")
    assert notebook.cells[index_of(notebook.cells, "crop")].source == "def crop(image, new_shape):\n    return image"


def test_cells_without_ids_get_unique_ids_and_the_graded_cells_their_release_ids(release, saved):
    saved["nbformat_minor"] = 4
    for cell in saved["cells"]:
        del cell["id"]

    normalised = normalise(saved, release)

    assert normalised.notes == []
    notebook = normalised.notebook
    assert sources(notebook) == sources(release)
    ids = [cell.id for cell in notebook.cells]
    assert len(set(ids)) == len(ids)
    graded = [index_of(release.cells, grade_id) for grade_id in grade_ids(release)]
    assert [ids[i] for i in graded] == [release.cells[i].id for i in graded]


# -- normalise: what students do to cells ------------------------------------------------------------
def test_a_deleted_answer_cell_is_graded_as_the_stub_and_noted(release, saved):
    del saved["cells"][index_of(saved["cells"], "crop")]

    normalised = normalise(saved, release)

    assert normalised.notes == ["the answer cell of crop is missing: crop is graded as not answered"]
    stub = release.cells[index_of(release.cells, "crop")]
    assert normalised.notebook.cells[index_of(normalised.notebook.cells, "crop")] == stub
    assert grade_ids(normalised.notebook) == grade_ids(release)


def test_a_deleted_test_cell_is_restored_and_noted(release, saved):
    del saved["cells"][index_of(saved["cells"], grade_id_of_test_cell("crop"))]

    normalised = normalise(saved, release)

    assert normalised.notes == ["the test cell of crop was missing: it was restored"]
    assert normalised.notebook == release


def test_an_edited_test_cell_is_put_back_and_noted(release, saved):
    test_cell = saved["cells"][index_of(saved["cells"], grade_id_of_test_cell("unet"))]
    test_cell["source"] = 'print("unet: all visible tests passed")'

    normalised = normalise(saved, release)

    assert normalised.notes == ["the test cell of unet was changed: the original was restored"]
    assert normalised.notebook == release


def test_a_duplicated_answer_cell_keeps_both_in_order_and_only_the_first_graded(release, saved):
    first = index_of(saved["cells"], "unet")
    second_attempt = copy.deepcopy(saved["cells"][first])
    second_attempt.update(id="second-attempt", source="class UNet(nn.Module):\n    pass  # second attempt")
    saved["cells"].insert(first + 1, second_attempt)

    normalised = normalise(saved, release)

    assert normalised.notes == ["two cells are marked as the answer to unet: both run, in the order they were in, "
                                "and the last definition counts"]
    cells = normalised.notebook.cells
    answer = index_of(cells, "unet")
    assert cells[answer].source == release.cells[index_of(release.cells, "unet")].source
    assert cells[answer + 1].source == second_attempt["source"]
    assert "nbgrader" not in cells[answer + 1].metadata
    assert grade_ids(normalised.notebook) == grade_ids(release)


def test_an_answer_cell_turned_into_markdown_is_graded_as_code_and_noted(release, saved):
    answer = saved["cells"][index_of(saved["cells"], "feature_map_block")]
    answer.update(cell_type="markdown", source="class FeatureMapBlock(nn.Module):\n    pass")
    del answer["outputs"], answer["execution_count"]

    normalised = normalise(saved, release)

    assert normalised.notes == ["the answer cell of feature_map_block had been turned into a markdown cell: "
                                "it was graded as code"]
    release_answer = release.cells[index_of(release.cells, "feature_map_block")]
    graded = normalised.notebook.cells[index_of(normalised.notebook.cells, "feature_map_block")]
    assert graded.cell_type == "code" and graded.source == "class FeatureMapBlock(nn.Module):\n    pass"
    assert (graded.id, graded.metadata) == (release_answer.id, release_answer.metadata)


def test_tasks_moved_out_of_order_are_put_back_and_noted(release, saved):
    cells = saved["cells"]
    unet = index_of(cells, "unet")
    moved = cells[unet:unet + 2]  # the answer cell and its test cell
    del cells[unet:unet + 2]
    crop = index_of(cells, "crop")
    cells[crop:crop] = moved

    normalised = normalise(saved, release)

    assert normalised.notes == ["the task cells were out of order: they were put back in the assignment's order"]
    assert normalised.notebook == release


def test_cells_a_student_added_stay_after_the_cell_they_followed(release, saved):
    cells = saved["cells"]
    scratch = nbformat.v4.new_code_cell("print(crop(torch.zeros(1, 1, 4, 4), (1, 1, 2, 2)).shape)")
    scratch.id = "scratch"
    cells.insert(index_of(cells, "crop") + 1, json.loads(json.dumps(scratch)))
    heading = nbformat.v4.new_markdown_cell("My notes")
    heading.id = "my-notes"
    cells.insert(0, json.loads(json.dumps(heading)))

    normalised = normalise(saved, release)

    assert normalised.notes == []
    expected = sources(release)
    expected.insert(index_of(release.cells, "crop") + 1, scratch.source)
    expected.insert(0, heading.source)
    assert sources(normalised.notebook) == expected
    added = [cell for cell in normalised.notebook.cells if cell.id in ("scratch", "my-notes")]
    assert [cell.id for cell in added] == ["my-notes", "scratch"]
    assert all("nbgrader" not in cell.metadata for cell in added)


def test_every_task_keeps_its_answer_and_test_cell_in_the_release_order(release, saved):
    del saved["cells"][index_of(saved["cells"], "contracting_block")]
    del saved["cells"][index_of(saved["cells"], grade_id_of_test_cell("expanding_block"))]

    normalised = normalise(saved, release)

    task_cells = [grade_id for grade_id in grade_ids(normalised.notebook)
                  if grade_id in TASKS or task_of_test_cell(grade_id)]
    assert task_cells == [grade_id for task in TASKS for grade_id in (task, grade_id_of_test_cell(task))]
    assert grade_ids(normalised.notebook) == grade_ids(release)


def test_a_written_answer_is_kept_as_the_student_wrote_it_and_stays_markdown(release, saved):
    written = next(cell for cell in saved["cells"] if cell["metadata"].get("nbgrader", {}).get("grade_id", "")
                   .startswith("answer_"))
    written["source"] = "The crop keeps the *centre*, where the valid convolutions left real pixels."
    code_instead = next(cell for cell in saved["cells"][saved["cells"].index(written) + 1:]
                        if cell["metadata"].get("nbgrader", {}).get("grade_id", "").startswith("answer_"))
    code_instead.update(cell_type="code", outputs=[], execution_count=None, source="# my answer")

    normalised = normalise(saved, release)

    cells = {cell.metadata["nbgrader"]["grade_id"]: cell for cell in normalised.notebook.cells
             if "nbgrader" in cell.metadata}
    kept = cells[written["metadata"]["nbgrader"]["grade_id"]]
    assert (kept.cell_type, kept.source) == ("markdown", written["source"])
    retyped = cells[code_instead["metadata"]["nbgrader"]["grade_id"]]
    assert (retyped.cell_type, retyped.source) == ("markdown", "# my answer")
    assert normalised.notes == [f"the answer cell of {code_instead['metadata']['nbgrader']['grade_id']} had been "
                                "turned into a code cell: it was graded as markdown"]


# -- after the probe: cells taken out, cells described -----------------------------------------------
def test_a_cell_taken_out_prints_why_and_the_original_is_untouched(release):
    setup = 1
    taken_out = take_out_cells(release, {setup: "it ran longer than 30 s and was stopped"})

    assert taken_out.cells[setup].source == (
        "# The grader did not run this cell: when it ran, it ran longer than 30 s and was stopped.\n"
        "print('The grader did not run this cell: it ran longer than 30 s and was stopped')")
    assert sources(taken_out)[setup + 1:] == sources(release)[setup + 1:]
    assert release.cells[setup].source.startswith("# Setup: brings the helper package")


def test_an_answer_cell_is_described_by_its_task(release):
    assert describe_cell(release, index_of(release.cells, "expanding_block")) == "the answer cell of expanding_block"


def test_another_cell_is_described_by_its_number_and_first_line(release):
    notebook = copy.deepcopy(release)
    notebook.cells[2].source = "\n\n   x = 1  # a first line that is longer than forty characters\n"
    notebook.cells[3].source = "  \n"
    assert describe_cell(notebook, 2) == "cell 3 ('x = 1  # a first line that is longer tha')"
    assert describe_cell(notebook, 3) == "cell 4"
