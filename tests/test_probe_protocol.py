"""The probe's wire protocol and the checker's handling of a probe.

``grader.checking.probe`` runs next to the student's code and ``grader.checking.remote`` drives it.
Here each probe is forked from a probe fork server, as in a batch, so these tests check the
protocol and the bookkeeping (errors recorded, hanging and process-ending cells taken out);
the confinement, and a cold probe's likeness to a forked one, are tested in
``test_jail.py`` and ``test_probe_forkserver.py``.
"""

from __future__ import annotations

import io
import json
import signal
import time

import numpy as np
import pytest
import torch

from grader.checking.probe import HEADER, MESSAGE_LIMIT, CellTimeout, decode, encode, read_message, time_limit, write_message
from grader.checking.remote import ProbeProcess, RemoteStudent, StudentCodeFailed, StudentCodeTimedOut
from tests.probes import jailed_probe

DOUBLE = "import torch\n\ndef double(x):\n    return 2 * x"
#: Generous, as the grader is: on two busy cores a cell that imports torch can take seconds.
CELL_SECONDS = 60.0
#: Long enough for ``x = 1`` on a busy machine (the probe's shell exists before its first cell),
#: short enough to keep the hanging-cell tests quick.
HANGING_CELL_SECONDS = 1.0


def through_json(value):
    """``value`` encoded, sent as JSON text and decoded, as it crosses the channel."""
    return decode(json.loads(json.dumps(encode(value))))


# -- encode / decode ---------------------------------------------------------------------------------
@pytest.mark.parametrize("array", [
    np.linspace(-1.5, 2.5, 6).reshape(2, 3),
    np.arange(12, dtype=np.uint8).reshape(3, 4).T,  # not contiguous
    np.array([[-(2**40), 7]], dtype=np.int64),
    np.zeros((0, 4)),
], ids=["float64", "uint8-transposed", "int64", "empty"])
def test_arrays_cross_the_channel_with_their_values_dtype_and_shape(array):
    received = through_json(array)
    assert received.dtype == array.dtype and received.shape == array.shape
    np.testing.assert_array_equal(received, array)


def test_nested_containers_cross_the_channel_and_tuples_arrive_as_lists():
    message = {"inputs": [np.eye(2), (3, 4.5, "name")], "options": {"seed": 0, "inner": {"flag": None}}}
    received = through_json(message)
    assert set(received) == {"inputs", "options"}
    np.testing.assert_array_equal(received["inputs"][0], np.eye(2))
    assert received["inputs"][1] == [3, 4.5, "name"]
    assert received["options"] == {"seed": 0, "inner": {"flag": None}}


def test_an_object_array_is_refused_because_decoding_it_would_trust_pointers():
    with pytest.raises(ValueError, match="object arrays are not accepted"):
        through_json(np.array([1, "one"], dtype=object))


# -- length-prefixed messages ------------------------------------------------------------------------
def test_messages_written_one_after_another_are_read_back_in_order():
    stream = io.BytesIO()
    write_message(stream, {"op": "call", "arguments": [np.arange(3.0)]})
    write_message(stream, {"op": "describe", "handle": 1})
    stream.seek(0)
    first, second = read_message(stream), read_message(stream)
    assert first["op"] == "call"
    np.testing.assert_array_equal(first["arguments"][0], np.arange(3.0))
    assert second == {"op": "describe", "handle": 1}
    assert read_message(stream) is None  # the end of the stream: no more requests


@pytest.mark.parametrize("cut", [0, HEADER.size - 1, HEADER.size + 5], ids=["nothing", "half-header", "half-body"])
def test_a_truncated_stream_reads_as_no_message(cut):
    stream = io.BytesIO()
    write_message(stream, {"value": "a reply long enough to be cut in the middle"})
    assert read_message(io.BytesIO(stream.getvalue()[:cut])) is None


def test_a_header_announcing_more_than_the_limit_is_refused_before_reading_it():
    stream = io.BytesIO(HEADER.pack(MESSAGE_LIMIT + 1) + b"{}")
    with pytest.raises(ValueError, match="too large"):
        read_message(stream)


# -- time_limit ----------------------------------------------------------------------------------------
@pytest.fixture
def alarm_handler_restored():
    """time_limit installs its own SIGALRM handler; put pytest's back afterwards."""
    previous = signal.getsignal(signal.SIGALRM)
    yield
    signal.signal(signal.SIGALRM, previous)


def test_code_running_past_its_time_limit_is_interrupted(alarm_handler_restored):
    started = time.perf_counter()
    with pytest.raises(CellTimeout, match=r"^it ran longer than 0.2 s and was stopped$"), time_limit(0.2):
        time.sleep(10)
    assert time.perf_counter() - started < 5


def test_the_time_limit_ends_with_its_block(alarm_handler_restored):
    with time_limit(0.2):
        pass
    time.sleep(0.4)  # would raise CellTimeout if the timer were still armed


# -- the checker driving a real probe process ---------------------------------------------------------
@pytest.fixture
def start_probe(probe_forkserver, tmp_path):
    """Start a probe that runs ``cells``; every probe is stopped afterwards."""
    started: list[ProbeProcess] = []

    def start(cells: list[tuple[int, str]], cell_seconds: float = CELL_SECONDS, **times: float) -> ProbeProcess:
        probe = jailed_probe(probe_forkserver, tmp_path / f"probe-{len(started)}", cells,
                             cell_seconds=cell_seconds, **times)
        started.append(probe)
        probe.start()
        return probe

    yield start
    for probe in started:
        probe.stop()


def test_a_call_sends_our_input_and_returns_the_students_answer(start_probe):
    probe = start_probe([(0, DOUBLE)])
    student = RemoteStudent(probe, "crop")
    assert torch.equal(student.call("double", torch.tensor([[1.0, -2.5]])), torch.tensor([[2.0, -5.0]]))
    with pytest.raises(StudentCodeFailed, match="triple is not defined"):
        student.call("triple", torch.zeros(1))


def test_a_cell_that_raises_is_recorded_and_the_next_cells_still_run(start_probe):
    probe = start_probe([(0, "x = 1"), (2, "raise ValueError('wrong shape')"), (4, "y = 1 / 0")])
    assert probe.outcomes[2].error == "ValueError: wrong shape"
    assert probe.outcomes[4].error == "ZeroDivisionError: division by zero"
    assert (probe.outcomes[0].error, probe.outcomes[2].stopped, probe.outcomes[4].stopped) == (None, None, None)


def test_a_cell_that_hangs_is_taken_out_and_the_others_run_without_it(start_probe):
    probe = start_probe([(0, "x = 1"), (1, "while True:\n    pass"), (2, "raise RuntimeError('after the loop')")],
                        cell_seconds=HANGING_CELL_SECONDS)
    assert probe.outcomes[1].stopped == f"it ran longer than {HANGING_CELL_SECONDS:g} s and was stopped"
    assert probe.outcomes[2].error == "RuntimeError: after the loop"
    assert probe.outcomes[0].stopped is None and probe.process.poll() is None


def test_a_cell_after_the_tasks_that_hangs_is_interrupted_in_place_like_a_kernels(start_probe):
    probe = start_probe([(0, "x = 1")], cell_seconds=HANGING_CELL_SECONDS)
    pid = probe.process.pid
    probe.run_remaining([(1, "print('started')\nwhile True:\n    pass"), (2, "print('x is', x)")])
    assert probe.outcomes[1].stopped is None
    assert probe.outcomes[1].error == f"it ran longer than {HANGING_CELL_SECONDS:g} s and was stopped"
    assert [o["output_type"] for o in probe.outcomes[1].outputs] == ["stream", "error"]
    assert probe.outcomes[2].outputs == [{"output_type": "stream", "name": "stdout", "text": "x is 1\n"}]
    assert probe.process.pid == pid  # the same probe: nothing was run again


def test_once_a_cell_after_the_tasks_ran_out_of_time_the_later_ones_get_less(start_probe):
    probe = start_probe([(0, "x = 1")], cell_seconds=HANGING_CELL_SECONDS, after_timeout_seconds=0.5)
    hang = "while True:\n    pass"
    probe.run_remaining([(1, "print('x is', x)"), (2, hang), (3, hang), (4, "print('still', x)")])
    assert [probe.outcomes[index].error for index in (1, 2, 3, 4)] == [
        None, f"it ran longer than {HANGING_CELL_SECONDS:g} s and was stopped", "it ran longer than 0.5 s and was stopped",
        None]
    assert probe.outcomes[4].outputs == [{"output_type": "stream", "name": "stdout", "text": "still 1\n"}]


def test_a_cell_that_ends_the_process_is_taken_out_and_the_others_run_without_it(start_probe):
    probe = start_probe([(0, "x = 1"), (1, "import os\nos._exit(3)"), (2, "raise RuntimeError('after the exit')")])
    assert probe.outcomes[1].stopped == "it ended the Python process (exit code 3)"
    assert probe.outcomes[2].error == "RuntimeError: after the exit"
    assert probe.outcomes[0].stopped is None and probe.process.poll() is None


def test_after_a_timeout_only_the_diagnosis_may_still_read_a_modules_layers(probe_forkserver, tmp_path):
    probe = jailed_probe(probe_forkserver, tmp_path, [(0, "import torch\nclass Block(torch.nn.Module):\n"
                                                    "    def __init__(self):\n        super().__init__()\n"
                                                    "        self.conv = torch.nn.Conv2d(1, 1, 3)\n"
                                                    "    def forward(self, x):\n        while True:\n"
                                                    "            pass\n")], cell_seconds=CELL_SECONDS, request_seconds=1)
    try:
        student = RemoteStudent(probe, "contracting_block")
        block = student.build("Block", seed=0)
        with pytest.raises(StudentCodeTimedOut):
            block(torch.zeros(1, 1, 5, 5, dtype=torch.float64))
        with pytest.raises(StudentCodeFailed, match="ran out of time"):
            student.build("Block", seed=0)  # a hidden check after the timeout: not sent
        with probe.diagnosis():
            assert student.build("Block", seed=0).parameter_shapes == {"conv.weight": (1, 1, 3, 3), "conv.bias": (1,)}
            with pytest.raises(StudentCodeFailed, match="ran out of time"):
                block(torch.zeros(1, 1, 5, 5, dtype=torch.float64))  # a forward: still not sent
    finally:
        probe.stop()
