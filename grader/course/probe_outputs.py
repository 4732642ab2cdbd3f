"""The notebook as the probe ran it: each notebook is executed once, by the probe, not again by nbgrader.

The probe (``grader.checking.probe``) records every cell's outputs as a kernel would send them;
here they become the outputs of the notebook that nbgrader autogrades, in place of what the
student submitted. The probe runs student code, so its record is untrusted: each output is
rebuilt from the fields nbformat defines, with plain strings only, and anything else is left out.
"""

from __future__ import annotations

import nbformat
from nbformat import NotebookNode

from grader.course.normalise import take_out_cells
from grader.report import CellOutcome

STREAM_NAMES = ("stdout", "stderr")
TEXT_LIMIT = 100_000


def with_probe_outputs(notebook: NotebookNode, cells: list[CellOutcome]) -> NotebookNode:
    """``notebook`` with the probe's outputs: cells it took out replaced by a note, cells it never ran empty.

    Nothing the student submitted as output survives, so a forged "tests passed" cannot reach the feedback.
    """
    ran = {cell.index: cell for cell in cells}
    stopped = {cell.index: cell.stopped for cell in cells if cell.stopped}
    notebook = take_out_cells(notebook, stopped)  # a copy
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        outcome = ran.get(index)
        cell.outputs, cell.execution_count = [], None
        if outcome is None:
            continue
        if outcome.stopped:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                   text=f"The grader did not run this cell: {outcome.stopped}\n")]
            continue
        cell.outputs = [output for output in map(rebuilt_output, outcome.outputs) if output is not None]
        if isinstance(outcome.execution_count, int):
            cell.execution_count = outcome.execution_count
    return notebook


def rebuilt_output(output) -> NotebookNode | None:
    """One output from the probe, rebuilt from plain strings; None when it is not a valid output."""
    if not isinstance(output, dict):
        return None
    kind = output.get("output_type")
    if kind == "stream" and output.get("name") in STREAM_NAMES and isinstance(output.get("text"), str):
        return nbformat.v4.new_output("stream", name=output["name"], text=output["text"][:TEXT_LIMIT])
    if kind in ("display_data", "execute_result") and isinstance(output.get("data"), dict):
        data = {mime: value for mime, value in output["data"].items()
                if isinstance(mime, str) and "/" in mime and isinstance(value, str)}
        if not data:
            return None
        if kind == "execute_result":
            count = output.get("execution_count")
            return nbformat.v4.new_output(kind, data=data, execution_count=count if isinstance(count, int) else None)
        return nbformat.v4.new_output(kind, data=data)
    if kind == "error" and isinstance(output.get("traceback"), list):
        traceback = [line[:TEXT_LIMIT] for line in output["traceback"] if isinstance(line, str)]
        return nbformat.v4.new_output("error", ename=str(output.get("ename", ""))[:200],
                                      evalue=str(output.get("evalue", ""))[:TEXT_LIMIT], traceback=traceback)
    return None
