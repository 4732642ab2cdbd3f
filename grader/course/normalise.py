"""Turn whatever a student handed in into a notebook nbgrader can grade, and say what was done.

Students' editors save notebooks in many shapes (Colab: nbformat 4.0, ids in ``metadata.id``,
a kernelspec without ``language``; VS Code: other kernel names), and students move, copy,
delete and retype cells. Grading should depend on the code in the answer cells, not on any of
that. This module never runs the student's code: it reads JSON and rebuilds the notebook on
the release's skeleton, the tasks in the release's order, and records every repair in plain
words for the summary and the feedback.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from grader.limits import DEFAULT_LIMITS, GradingLimits
from unet_kit.assignment import nbgrader_metadata, task_of_test_cell

LOOKS_LIKE_PYTHON = re.compile(r"^\s*(#|import |from |def |class |print\(|@)", re.MULTILINE)
CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")


@dataclass
class Normalised:
    """The gradable notebook (None if there is none) and what was repaired, in plain words."""

    notebook: NotebookNode | None
    notes: list[str] = field(default_factory=list)
    problem: str | None = None


@dataclass
class Submitted:
    """The submission's JSON (None if it is no notebook), why not, and what reading it noticed."""

    raw: dict | None
    problem: str | None = None
    notes: list[str] = field(default_factory=list)


def read_json(path: Path, limits: GradingLimits = DEFAULT_LIMITS) -> Submitted:
    """The submission's JSON, or why it is not a notebook at all; sizes are checked before parsing."""
    size = path.stat().st_size
    if size > limits.notebook_bytes:
        return Submitted(None, f"the file is {size / 2**20:,.0f} MB, more than the {limits.notebook_mb} MB the "
                         "grader reads: clear the outputs (Edit > Clear all outputs), save and hand it in again")
    data = path.read_bytes()
    if not data.strip():
        return Submitted(None, "the file is empty: the notebook was not saved before it was handed in")
    notes = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        text = data.decode("utf-8", errors="replace")
        notes.append(f"the file is not valid UTF-8 (first bad byte at position {error.start}): "
                     "bad bytes were read as \N{REPLACEMENT CHARACTER}")
    text = text.lstrip("\ufeff")
    try:
        raw = json.loads(text)
    except RecursionError:
        return Submitted(None, "the file is JSON nested far deeper than any notebook: it is not a notebook")
    except json.JSONDecodeError as error:
        if LOOKS_LIKE_PYTHON.search(text[:2000]) and not text.lstrip().startswith("{"):
            return Submitted(None, "the file holds Python source, not a notebook: download the notebook "
                             "itself (File > Download > .ipynb) and hand that in")
        return Submitted(None, f"the file is not a readable notebook (broken JSON at line {error.lineno}, "
                         f"column {error.colno})")
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return Submitted(None, "the file is JSON but not a notebook (it has no list of cells)")
    if len(raw["cells"]) > limits.notebook_cells:
        return Submitted(None, f"the notebook has {len(raw['cells']):,} cells, more than the "
                         f"{limits.notebook_cells:,} the grader reads (the assignment has fewer than 100)")
    return Submitted(raw, notes=notes)


def _without_long_sources(raw: dict, limit_bytes: int) -> list[str]:
    """Leave out cells whose source is longer than any answer could be; say which."""
    notes = []
    for number, cell in enumerate(raw["cells"], start=1):
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if len(source) > limit_bytes:
            cell["source"] = f"# The grader left this cell out: its source was {len(source) / 2**20:.1f} MB long."
            notes.append(f"cell {number} was left out: its source is {len(source) / 2**20:.1f} MB, more than "
                         f"the {limit_bytes / 2**20:g} MB a cell may hold")
    return notes


def _without_outputs(raw: dict) -> dict:
    """Outputs are never graded (nbgrader runs the notebook again) and can be hundreds of MB."""
    for cell in raw["cells"]:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return raw


def _parse(raw: dict) -> NotebookNode:
    version = raw.get("nbformat", 4)
    raw.setdefault("nbformat", 4)
    raw.setdefault("nbformat_minor", 0)
    raw.setdefault("metadata", {})
    notebook = nbformat.reads(json.dumps(raw), as_version=4)
    if version != 4:
        notebook.nbformat = 4
    return notebook


def _grade_id(cell: NotebookNode) -> str | None:
    return nbgrader_metadata(cell).get("grade_id")


def _cell_key(cell: NotebookNode) -> str | None:
    """The id a cell had in the release: its own id, or Colab's copy of it in ``metadata.id``."""
    return cell.get("id") or cell.get("metadata", {}).get("id")


class _Release:
    """The release notebook's cells, indexed the ways a student's cell can be recognised."""

    def __init__(self, release: NotebookNode):
        self.cells = release.cells
        self.by_grade_id = {_grade_id(c): i for i, c in enumerate(self.cells) if _grade_id(c)}
        self.by_id = {c.id: i for i, c in enumerate(self.cells)}
        self.by_source = {}
        for i, cell in enumerate(self.cells):
            self.by_source.setdefault(cell.source.strip(), i)
        self.answers = {gid: i for gid, i in self.by_grade_id.items()
                        if nbgrader_metadata(self.cells[i]).get("solution")}
        self.tests = {gid: i for gid, i in self.by_grade_id.items()  # a graded answer is the student's
                      if nbgrader_metadata(self.cells[i]).get("grade") and i not in self.answers.values()}

    def match(self, cell: NotebookNode) -> int | None:
        """Which release cell this student cell is, if any."""
        grade_id = _grade_id(cell)
        if grade_id in self.by_grade_id:
            return self.by_grade_id[grade_id]
        key = _cell_key(cell)
        if key in self.by_id and not (grade_id and grade_id not in self.by_grade_id):
            return self.by_id[key]
        index = self.by_source.get(cell.source.strip())
        return index if index is not None and index not in self.answers.values() else None


def _task(grade_id: str) -> str:
    return task_of_test_cell(grade_id) or grade_id


@dataclass
class Matched:
    """The student's cells matched to the release's: each release cell's counterpart, and the cells
    the student added, by the release cell they followed (``None``: before the first)."""

    claimed: dict[int, NotebookNode]
    followers: dict[int | None, list[NotebookNode]]
    order: list[int]


def match_cells(student: NotebookNode, release: NotebookNode, index: _Release, notes: list[str]) -> Matched:
    """Which student cell is which release cell; the cells a student added stay after the cell they followed.

    A second copy of a release cell becomes an ordinary cell where it stands, so it still runs
    after the first and, as in the student's kernel, the last definition wins.
    """
    matched = Matched({}, {None: []}, [])
    current: int | None = None
    for cell in student.cells:
        match = index.match(cell)
        if match is not None and match in matched.claimed:
            if match in index.answers.values():
                notes.append(f"two cells are marked as the answer to {_grade_id(release.cells[match])}: "
                             "both run, in the order they were in, and the last definition counts")
            match = None
        if match is None:
            cell.get("metadata", {}).pop("nbgrader", None)
            matched.followers[current].append(cell)
            continue
        matched.claimed[match], current = cell, match
        matched.order.append(match)
        matched.followers[match] = []
    graded_order = [i for i in matched.order if i in index.by_grade_id.values()]
    if graded_order != sorted(graded_order):
        notes.append("the task cells were out of order: they were put back in the assignment's order")
    return matched


def rebuild(matched: Matched, release: NotebookNode, index: _Release, notes: list[str]) -> list[NotebookNode]:
    """The release's cells in the release's order: test cells as released, answers as the student wrote
    them (in the release's cell type), other cells the student's, added cells after the one they followed."""
    cells = list(matched.followers[None])
    for release_index, release_cell in enumerate(release.cells):
        grade_id = _grade_id(release_cell)
        mine = matched.claimed.get(release_index)
        if release_index in index.tests.values():
            cell = copy.deepcopy(release_cell)
            if mine is None:
                notes.append(f"the test cell of {_task(grade_id)} was missing: it was restored")
            elif mine.source.strip() != release_cell.source.strip():
                notes.append(f"the test cell of {_task(grade_id)} was changed: the original was restored")
        elif release_index in index.answers.values():
            if mine is None:
                notes.append(f"the answer cell of {grade_id} is missing: {grade_id} is graded as not answered")
                cell = copy.deepcopy(release_cell)
            else:
                if mine.cell_type != release_cell.cell_type:
                    notes.append(f"the answer cell of {grade_id} had been turned into a {mine.cell_type} "
                                 f"cell: it was graded as {release_cell.cell_type}")
                cell = _as_cell_type(release_cell.cell_type, mine.source)
                cell.metadata = copy.deepcopy(release_cell.metadata)
                cell.id = release_cell.id
        else:
            cell = mine if mine is not None else copy.deepcopy(release_cell)
        cells.append(cell)
        cells.extend(matched.followers.get(release_index, []))
    return cells


def normalise(raw: dict, release: NotebookNode, limits: GradingLimits = DEFAULT_LIMITS) -> Normalised:
    """Rebuild the student's notebook on the release's skeleton; see the module docstring."""
    notes = _without_long_sources(raw, limits.cell_source_bytes)
    try:
        student = _parse(_without_outputs(raw))
    except Exception as error:  # nbformat's errors vary by version; all mean "unreadable"
        return Normalised(None, problem=f"the file is not a readable notebook ({type(error).__name__})")
    index = _Release(release)
    cells = rebuild(match_cells(student, release, index, notes), release, index, notes)
    notebook = nbformat.v4.new_notebook(metadata=copy.deepcopy(release.metadata))
    notebook.cells = [_clean(cell) for cell in cells]
    _give_unique_ids(notebook)
    nbformat.validate(notebook)
    return Normalised(notebook, notes)


def _as_cell_type(cell_type: str, source: str) -> NotebookNode:
    """A new cell of ``cell_type`` (code, or markdown for a written answer) holding ``source``."""
    return nbformat.v4.new_markdown_cell(source) if cell_type == "markdown" else nbformat.v4.new_code_cell(source)


def _clean(cell: NotebookNode) -> NotebookNode:
    """A cell as nbformat 4.5 wants it, with Colab's private metadata dropped."""
    metadata = {key: value for key, value in cell.get("metadata", {}).items() if key not in ("id", "colab", "outputId")}
    if cell.cell_type == "code":
        fresh = nbformat.v4.new_code_cell(cell.source, metadata=metadata)
    elif cell.cell_type == "markdown":
        fresh = nbformat.v4.new_markdown_cell(cell.source, metadata=metadata)
    else:
        fresh = nbformat.v4.new_raw_cell(cell.source, metadata=metadata)
    fresh.id = _cell_key(cell) or fresh.id
    return fresh


def _give_unique_ids(notebook: NotebookNode) -> None:
    seen = set()
    for cell in notebook.cells:
        if not CELL_ID.match(str(cell.id)) or cell.id in seen:
            cell.id = uuid.uuid4().hex[:8]
        seen.add(cell.id)


def take_out_cells(notebook: NotebookNode, reasons: dict[int, str]) -> NotebookNode:
    """Replace cells that hung or ended the grading process by a note, so the rest can run."""
    notebook = copy.deepcopy(notebook)
    for position, reason in reasons.items():
        cell = notebook.cells[position]
        cell.source = (f"# The grader did not run this cell: when it ran, {reason}.\n"
                       f"print({('The grader did not run this cell: ' + reason)!r})")
    return notebook


def describe_cell(notebook: NotebookNode, index: int) -> str:
    """How a student finds a cell: the task it answers, or its number and first line."""
    grading = nbgrader_metadata(notebook.cells[index])
    if grading.get("solution"):
        return f"the answer cell of {grading['grade_id']}"
    first_line = next((line.strip() for line in notebook.cells[index].source.splitlines() if line.strip()), "")
    return f"cell {index + 1} ({first_line[:40]!r})" if first_line else f"cell {index + 1}"
