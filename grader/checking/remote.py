"""The checker's side of the probe: a confined process that holds one student's code.

The hidden tests talk to the student's functions and modules only through ``RemoteStudent``
and ``RemoteModule``. Every request carries inputs and parameter values chosen here; every
answer is an array that is compared here with a value computed here. A probe that dies, hangs
or lies costs the student the checks it touched, never the checker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from grader.checking.probe import read_message, write_message
from grader.confinement.probe_forkserver import ForkedProbe
from grader.entry_points import JAIL_MODULE
from grader.limits import GradingLimits
from grader.report import CellOutcome

#: Seconds a request interrupted inside the probe gets to answer before the probe is killed.
KILL_GRACE_SECONDS = 10.0
#: Requests that run no forward pass: during the diagnosis they are still sent after a task ran
#: out of time, so that it can read a module's layers (a U-Net 64 wide may time out in float64,
#: never in its layers). The hidden checks get no such exception: a timeout costs them all.
LAYER_REQUESTS = ("forget", "build", "describe")
#: Loading the stand-ins imports torch in the probe: the slowest request of a healthy probe.
STAND_INS_SECONDS = 120.0


class StudentCodeFailed(Exception):
    """The student's code raised, hung or stopped the probe; the message says which, plainly."""


class StudentCodeTimedOut(StudentCodeFailed):
    """The student's code ran past its time limit."""


class CellTakenOut(StudentCodeFailed):
    """A cell hung or ended the probe: it is taken out, and the probe starts again without it."""


@dataclass
class ProbeProcess:
    """A confined Python process that ran the student's cells and answers requests.

    ``command`` starts the probe (the jail launcher included). Each cell's outputs, error, and
    whether it ended the process or hung, are recorded in ``outcomes``; a cell that ended or hung
    the probe is skipped when the probe is started again.
    """

    command: list[str]
    cells: list[tuple[int, str]]
    workdir: Path
    environment: dict[str, str]
    stand_ins_source: str = ""
    stand_ins_by_task: dict = field(default_factory=dict)
    cell_seconds: float = GradingLimits.cell_seconds
    request_seconds: float = GradingLimits.check_seconds
    after_timeout_seconds: float = GradingLimits.after_timeout_seconds
    outcomes: dict[int, CellOutcome] = field(default_factory=dict)
    interruptible: set[int] = field(default_factory=set)  # cells after the tasks: a time-out interrupts them
    after_tasks_timed_out: bool = False  # a cell after the tasks ran out of time: the later ones get less
    task: str | None = None
    out_of_time: str | None = None
    diagnosing: bool = False
    process: subprocess.Popen | ForkedProbe | None = None
    forkserver: socket.socket | None = None
    policy_file: Path | None = None
    probe_file: Path | None = None

    def request(self, op: str, timeout: float | None = None, **fields) -> dict:
        """One request to a running probe; StudentCodeFailed if the student's code broke it.

        After one request of a task runs out of time, the task's other requests are not sent:
        a hanging ``forward`` must cost its checks, not a minute each.
        """
        if (self.out_of_time == self.task and self.task is not None
                and not (self.diagnosing and op in LAYER_REQUESTS)):
            raise StudentCodeFailed("not run: an earlier check of this task ran out of time")
        if self.process is None or self.process.poll() is not None:
            self.start()
        timeout = timeout or self.request_seconds
        try:
            reply = self._exchange({"op": op, "timeout": timeout, **fields}, timeout + KILL_GRACE_SECONDS)
        except StudentCodeTimedOut:
            self.out_of_time = self.task
            raise
        if "error" in reply:
            raise StudentCodeFailed(reply["error"])
        return reply

    def _exchange(self, message: dict, deadline: float, interrupted_is_an_answer: bool = False) -> dict:
        """Send one message and wait for its reply; StudentCodeFailed when the probe hung or ended.

        A request the probe interrupted itself (it lives on) is a StudentCodeTimedOut too, unless
        ``interrupted_is_an_answer``: then its reply, error and outputs included, comes back.
        """
        answer: dict = {}

        def talk():
            try:
                write_message(self.process.stdin, message)
                answer["reply"] = read_message(self.process.stdout)
            except (OSError, ValueError) as error:
                answer["broken"] = str(error)

        worker = threading.Thread(target=talk, daemon=True)
        worker.start()
        worker.join(deadline)
        if worker.is_alive():
            self.stop()
            raise StudentCodeTimedOut(f"it ran longer than {deadline - KILL_GRACE_SECONDS:g} s and was stopped")
        reply = answer.get("reply")
        if not isinstance(reply, dict):
            code = self.stop()
            raise StudentCodeFailed(f"it ended the Python process (exit code {code})")
        if reply.get("timed_out") and not interrupted_is_an_answer:  # interrupted inside the probe, which lives on
            raise StudentCodeTimedOut(reply["error"])
        return reply

    def start(self) -> None:
        """Start the probe and run the cells, taking out each cell that hangs or ends it."""
        while True:
            self.stop()
            self.workdir.mkdir(parents=True, exist_ok=True)
            self.process = self._launch()
            try:
                self._exchange({"op": "define_stand_ins", "timeout": STAND_INS_SECONDS,
                                "source": self.stand_ins_source,
                                "stand_ins_by_task": self.stand_ins_by_task}, STAND_INS_SECONDS)
                self._run_cells(self.cells)
                if self.task:
                    self._exchange({"op": "use_stand_ins", "timeout": self.request_seconds, "task": self.task},
                                   self.request_seconds + KILL_GRACE_SECONDS)
                return
            except CellTakenOut:
                continue  # start again without it

    def _seconds_for(self, index: int) -> float:
        """A cell's time: ``cell_seconds``, less for a cell after the tasks once one of them ran out of time."""
        if index in self.interruptible and self.after_tasks_timed_out:
            return min(self.cell_seconds, self.after_timeout_seconds)
        return self.cell_seconds

    def _launch(self) -> subprocess.Popen | ForkedProbe:
        if self.forkserver is not None and self.policy_file and self.probe_file:
            try:
                return ForkedProbe(self.forkserver, self.policy_file, self.probe_file, STAND_INS_SECONDS)
            except OSError:
                self.forkserver = None  # gone: this submission's later probes start cold
        return subprocess.Popen(self.command, cwd=self.workdir, env=self.environment, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)

    def _run_cells(self, cells: list[tuple[int, str]]) -> None:
        """Run ``cells`` as a kernel would, recording each one's outputs; CellTakenOut if one hangs or ends the probe.

        A cell in ``interruptible`` that the probe interrupted at its time limit keeps its outputs
        and error, and the next cell runs, as in a kernel that was interrupted.
        """
        for index, source in cells:
            outcome = self.outcomes.setdefault(index, CellOutcome(index))
            if outcome.stopped:
                continue
            seconds = self._seconds_for(index)
            try:
                reply = self._exchange({"op": "run_cell", "timeout": seconds, "source": source,
                                        "record": True}, seconds + KILL_GRACE_SECONDS,
                                       interrupted_is_an_answer=index in self.interruptible)
            except StudentCodeFailed as failure:  # what it defined must not count
                outcome.stopped, outcome.outputs = str(failure), []
                self.after_tasks_timed_out |= index in self.interruptible and isinstance(failure, StudentCodeTimedOut)
                raise CellTakenOut(str(failure)) from failure
            self.after_tasks_timed_out |= index in self.interruptible and bool(reply.get("timed_out"))
            outcome.error = reply.get("error")
            outcome.outputs = reply.get("outputs") if isinstance(reply.get("outputs"), list) else []
            outcome.execution_count = reply.get("execution_count")

    def run_remaining(self, cells: list[tuple[int, str]]) -> None:
        """After the checks, the cells after the tasks, on the student's own definitions: their outputs
        complete the notebook. The checks saw the namespace as the last task's test cell left it.

        These cells earn nothing, so one that runs past its time is interrupted, not taken out:
        its outputs end with the interruption and the next cell runs in the same probe. Once one
        has run out of time, each later one gets ``after_timeout_seconds``: a forward that hangs
        must not cost half a minute in every cell that calls it.
        """
        self.task, self.out_of_time = None, None
        self.cells = [*self.cells, *cells]
        self.interruptible.update(index for index, _ in cells)
        try:
            if self.process is None or self.process.poll() is not None:
                self.start()
                return
            deadline = self.request_seconds + KILL_GRACE_SECONDS
            self._exchange({"op": "forget", "timeout": self.request_seconds}, deadline)
            self._exchange({"op": "use_stand_ins", "timeout": self.request_seconds, "task": None}, deadline)  # no stand-ins
            self._run_cells(cells)
        except CellTakenOut:
            self.start()

    @contextlib.contextmanager
    def diagnosis(self):
        """While the diagnosis runs: layer requests are answered even after the task ran out of time."""
        self.diagnosing = True
        try:
            yield
        finally:
            self.diagnosing = False

    def use_stand_ins(self, task: str) -> None:
        self.task = task
        self.request("use_stand_ins", task=task)

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if isinstance(self.process, ForkedProbe):
            self.process.kill()  # by the fork server, which alone knows the process is still the probe
        else:
            try:  # the probe's whole process group: the jail's supervisor and all it started
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        code = self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.process = None
        return code


# -- what the hidden tests see ----------------------------------------------------------------
def _encode_argument(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, torch.Size):
        return {"__size__": list(value)}
    if isinstance(value, tuple | list):
        return [_encode_argument(item) for item in value]
    return value


def _tensor(array) -> torch.Tensor:
    if not isinstance(array, np.ndarray):
        raise StudentCodeFailed("the answer was not an array")
    return torch.from_numpy(array)


@dataclass(frozen=True)
class Layer:
    """One submodule as the student's code reported it (an untrusted description)."""

    path: str
    type: str
    bases: tuple[str, ...]
    conv: dict | None
    widths: dict

    def is_a(self, class_name: str) -> bool:
        return class_name in self.bases

    def parameter(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name


class RemoteModule:
    """A student's module living in the probe: call it with our inputs and our parameter values."""

    def __init__(self, probe: ProbeProcess, handle: int, label: str):
        self.probe, self.handle, self.label = probe, handle, label
        description = probe.request("describe", handle=handle)
        self.layers = [Layer(m["path"], m["type"], tuple(m["bases"]), m.get("conv"), m.get("widths", {}))
                       for m in description["modules"]]
        self.parameter_shapes = {name: tuple(shape) for name, shape in description["parameters"]}

    @property
    def parameter_count(self) -> int:
        return sum(int(np.prod(shape)) for shape in self.parameter_shapes.values())

    def fresh_parameters(self, seed: int) -> dict[str, torch.Tensor]:
        """New values for every parameter, scaled like PyTorch's default initialisation."""
        generator = torch.Generator().manual_seed(seed)
        values = {}
        for name, shape in self.parameter_shapes.items():
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 4
            bound = 1 / max(fan_in, 1) ** 0.5
            values[name] = (torch.rand(shape, generator=generator, dtype=torch.float64) * 2 - 1) * bound
        return values

    def __call__(self, *inputs: torch.Tensor, parameters: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        reply = self.probe.request("forward", handle=self.handle, inputs=[_encode_argument(x) for x in inputs],
                                   parameters={k: _encode_argument(v) for k, v in (parameters or {}).items()})
        return _tensor(reply["value"])

    def backward(self, *inputs: torch.Tensor) -> tuple[list[str], list[torch.Tensor | None]]:
        """Parameters that got no gradient from sum(output²), and the inputs' gradients."""
        reply = self.probe.request("forward", handle=self.handle, inputs=[_encode_argument(x) for x in inputs],
                                   backward=True)
        gradients = [None if g is None else _tensor(g) for g in reply["input_gradients"]]
        return list(reply["starved"]), gradients


class RemoteStudent:
    """The hidden tests' view of one submission's task, with upstream stand-ins in place."""

    def __init__(self, probe: ProbeProcess, task: str):
        self.probe = probe
        probe.use_stand_ins(task)

    def call(self, name: str, *arguments) -> torch.Tensor:
        reply = self.probe.request("call", name=name, arguments=_encode_argument(list(arguments)))
        return _tensor(reply["value"])

    def call_keeping_inputs(self, name: str, *arguments) -> tuple[torch.Tensor, list[torch.Tensor]]:
        reply = self.probe.request("call", name=name, arguments=_encode_argument(list(arguments)),
                                   keep_inputs=True)
        return _tensor(reply["value"]), [_tensor(x) for x in reply["inputs_after"]]

    def gradient(self, name: str, *arguments, of: int = 0) -> torch.Tensor | None:
        """d sum(name(arguments)) / d arguments[of], computed by the student's code."""
        reply = self.probe.request("call", name=name, arguments=_encode_argument(list(arguments)),
                                   gradient_of=of)
        return None if reply.get("gradient") is None else _tensor(reply["gradient"])

    def build(self, name: str, *arguments, seed: int) -> RemoteModule:
        """``name(*arguments)`` in float64, built after ``torch.manual_seed(seed)``."""
        reply = self.probe.request("build", name=name, arguments=_encode_argument(list(arguments)), seed=seed)
        return RemoteModule(self.probe, reply["handle"], f"{name}{tuple(arguments)}")


def probe_command(policy_file: Path, probe_file: Path) -> list[str]:
    """The jail launcher, then the probe, both with this interpreter."""
    return [sys.executable, "-m", JAIL_MODULE, str(policy_file), "--", sys.executable, str(probe_file)]
