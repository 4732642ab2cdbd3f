"""Each notebook runs once: the probe records outputs as a kernel would, and they become the graded notebook's."""

from __future__ import annotations

import os
import time

import nbformat
import pytest

from grader.checking.probe import DISPLAY_OUTPUTS, STREAM_CHARACTERS, Probe
from grader.course.probe_outputs import with_probe_outputs
from grader.report import CellOutcome
from grader.warm_process import WorkFailed, WorkTimedOut, run_in_warm_process


@pytest.fixture(scope="module")
def probe():
    return Probe()


def test_a_cell_s_prints_result_and_error_come_back_in_order_as_a_kernel_sends_them(probe):
    reply = probe.run_cell("import sys\nprint('one')\nprint('two', file=sys.stderr)\n6 * 7", record=True)
    assert [(o["output_type"], o.get("name")) for o in reply["outputs"]] == [
        ("stream", "stdout"), ("stream", "stderr"), ("execute_result", None)]
    assert reply["outputs"][2]["data"] == {"text/plain": "42"}
    failed = probe.run_cell("assert 1 == 2, 'the visible test says why'", record=True)
    (error,) = failed["outputs"]
    assert error["output_type"] == "error" and error["evalue"] == "the visible test says why"
    assert failed["error"] == "AssertionError: the visible test says why"


def test_a_final_semicolon_hides_the_result_and_clear_output_clears(probe):
    assert probe.run_cell("'hidden';", record=True)["outputs"] == []
    reply = probe.run_cell("from IPython.display import clear_output\nprint('old')\nclear_output()\nprint('new')",
                           record=True)
    assert reply["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "new\n"}]


def test_a_cell_that_prints_forever_keeps_a_bounded_record(probe):
    reply = probe.run_cell("for _ in range(100_000):\n    print('x' * 50)\n"
                           "from IPython.display import display\nfor i in range(500):\n    display(i)", record=True)
    streams = [o for o in reply["outputs"] if o["output_type"] == "stream"]
    assert sum(len(o["text"]) for o in streams) <= STREAM_CHARACTERS
    assert len([o for o in reply["outputs"] if o["output_type"] == "display_data"]) == DISPLAY_OUTPUTS


def _code_notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])


def test_the_graded_notebook_holds_the_probe_s_outputs_and_nothing_the_student_submitted():
    notebook = _code_notebook("print('mine')", "while True: pass", "x = 1")
    for cell in notebook.cells:  # what a student could forge in the file
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="All tests passed!")]
    cells = [CellOutcome(0, outputs=[{"output_type": "stream", "name": "stdout", "text": "mine\n"}], execution_count=1),
             CellOutcome(1, stopped="it ran longer than 30 s and was stopped")]
    graded = with_probe_outputs(notebook, cells)
    assert graded.cells[0].outputs[0].text == "mine\n" and graded.cells[0].execution_count == 1
    assert graded.cells[1].outputs[0].text.startswith("The grader did not run this cell: it ran longer")
    assert "The grader did not run this cell" in graded.cells[1].source
    assert graded.cells[2].outputs == []  # never run: no outputs, forged or otherwise
    assert notebook.cells[0].outputs[0].text == "All tests passed!"  # the input is left as it was
    nbformat.validate(graded)


def test_outputs_that_are_not_nbformat_s_are_left_out():
    odd = [{"output_type": "stream", "name": "/etc/passwd", "text": "x"}, "not a dict",
           {"output_type": "display_data", "data": {"text/plain": ["a", "list"], "image/png": "iVBOR"}},
           {"output_type": "display_data", "data": {"nomime": "x"}},
           {"output_type": "error", "ename": 3, "evalue": None, "traceback": ["line", 7]},
           {"output_type": "update_display_data", "data": {"text/plain": "x"}}]
    graded = with_probe_outputs(_code_notebook("x"), [CellOutcome(0, outputs=odd, execution_count="7")])
    outputs = graded.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data", "error"]
    assert outputs[0].data == {"image/png": "iVBOR"} and outputs[1].traceback == ["line"]
    assert graded.cells[0].execution_count is None
    nbformat.validate(graded)


# -- the warm process -------------------------------------------------------------------------------
def _pid_and_marker() -> tuple[int, bool]:
    import grader.warm_process as module

    seen = getattr(module, "_marker", False)
    module._marker = True  # set in this child only: the next child must not see it
    return os.getpid(), seen


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _raise() -> None:
    raise ValueError("the work's own message")


def _die() -> None:
    os._exit(3)


@pytest.mark.slow  # starts the forkserver, which imports torch, pytest and nbgrader once (about 10 s)
def test_each_piece_of_work_gets_a_fresh_process_that_can_be_stopped():
    first, second = run_in_warm_process(_pid_and_marker, (), 120), run_in_warm_process(_pid_and_marker, (), 60)
    assert first[0] != second[0] != os.getpid()
    assert first[1] is False and second[1] is False  # no state carried from one submission to the next
    started = time.monotonic()
    with pytest.raises(WorkTimedOut):
        run_in_warm_process(_sleep, (60,), 2)
    assert time.monotonic() - started < 20
    with pytest.raises(WorkFailed, match="ValueError: the work's own message"):
        run_in_warm_process(_raise, (), 60)
    with pytest.raises(WorkFailed, match="ended without an answer"):
        run_in_warm_process(_die, (), 60)
