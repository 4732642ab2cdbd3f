"""The probe: runs one student's code in a confined process and answers questions about it.

This file runs *inside* the jail (``grader.confinement.jail``), next to the student's code, so nothing it
sends back is trusted: the checker (``grader.checking.remote``) computes every expected value itself,
in a process that never runs student code, and only compares. The probe chooses nothing:
inputs and parameter values come from the checker.

Protocol: length-prefixed JSON messages on the file descriptors it was given as stdin and
stdout; arrays travel as base64 (``encode``/``decode``), never as pickles. While a cell runs,
what it prints and displays is recorded as the cell's outputs, as a kernel would send them:
that is how each notebook is executed once. The student's prints during the checks go to a
log file, so they cannot garble the channel by accident.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import json
import os
import signal
import struct
import sys

import numpy as np

HEADER = struct.Struct("!I")
MESSAGE_LIMIT = 256 * 2**20
#: What one cell's outputs may hold: enough for any figure or log a student means to show.
STREAM_CHARACTERS = 100_000
DISPLAY_OUTPUTS = 50
DISPLAY_CHARACTERS = 4 * 2**20


class CellTimeout(BaseException):
    """Raised in student code that runs past its time; the checker kills the probe if it is caught."""


@contextlib.contextmanager
def time_limit(seconds: float):
    def stop(signum, frame):
        raise CellTimeout(f"it ran longer than {seconds:g} s and was stopped")

    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def encode(value):
    """Arrays, tuples and plain values as JSON-ready data."""
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        return {"__array__": base64.b64encode(array.tobytes()).decode(), "dtype": array.dtype.str,
                "shape": list(array.shape)}
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    return value


def decode(value):
    if isinstance(value, dict):
        if "__array__" in value:
            dtype = np.dtype(value["dtype"])
            if dtype.hasobject:
                raise ValueError("object arrays are not accepted")
            data = base64.b64decode(value["__array__"])
            return np.frombuffer(data, dtype=dtype).reshape(value["shape"]).copy()
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


def write_message(stream, message: dict) -> None:
    data = json.dumps(encode(message)).encode()
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def read_message(stream) -> dict | None:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (length,) = HEADER.unpack(header)
    if length > MESSAGE_LIMIT:
        raise ValueError(f"message of {length} bytes is too large")
    data = stream.read(length)
    if len(data) < length:
        return None
    return decode(json.loads(data))


def describe_error(error: BaseException) -> str:
    if isinstance(error, CellTimeout):
        return str(error)
    text = f"{type(error).__name__}: {error}".strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]


class CellOutputs:
    """One cell's outputs in nbformat's shape: streams, displays, its result and its error, in order.

    Kept within ``STREAM_CHARACTERS`` per stream and ``DISPLAY_OUTPUTS``/``DISPLAY_CHARACTERS``
    of displays, so a cell that prints forever fills neither the probe's memory nor the reply.
    """

    def __init__(self):
        self.outputs: list[dict] = []
        self.display_characters = 0
        self.clear_pending = False

    def _add(self, output: dict) -> None:
        if self.clear_pending:
            self.outputs.clear()
            self.clear_pending = False
        self.outputs.append(output)

    def stream(self, name: str, text: str) -> None:
        if not text:
            return
        last = self.outputs[-1] if self.outputs and not self.clear_pending else None
        if last and last["output_type"] == "stream" and last["name"] == name:
            room = STREAM_CHARACTERS - len(last["text"])
            last["text"] += text[:max(room, 0)]
        else:
            self._add({"output_type": "stream", "name": name, "text": text[:STREAM_CHARACTERS]})

    def display(self, data: dict, metadata: dict | None, display_id: str | None = None,
                update: bool = False, result_of: int | None = None) -> None:
        size = sum(len(str(value)) for value in data.values())
        if update:
            for output in self.outputs:
                if display_id is not None and output.get("display_id") == display_id:
                    self.display_characters += size
                    output["data"], output["metadata"] = data, metadata or {}
            return
        displays = [output for output in self.outputs if output["output_type"] != "stream"]
        if len(displays) >= DISPLAY_OUTPUTS or self.display_characters + size > DISPLAY_CHARACTERS:
            return
        self.display_characters += size
        output = {"output_type": "display_data", "data": data, "metadata": metadata or {}}
        if result_of is not None:
            output.update(output_type="execute_result", execution_count=result_of)
        if display_id is not None:
            output["display_id"] = display_id
        self._add(output)

    def error(self, error: BaseException, traceback: list[str]) -> None:
        self._add({"output_type": "error", "ename": type(error).__name__, "evalue": str(error)[:1000],
                   "traceback": [line[:2000] for line in traceback[-100:]]})

    def clear(self, wait: bool = False) -> None:
        if wait:
            self.clear_pending = True
        else:
            self.outputs.clear()


class _RecordedStream:
    """``sys.stdout`` or ``sys.stderr`` while a cell runs: text goes to the cell's outputs."""

    def __init__(self, name: str, recorder):
        self.name, self.recorder = name, recorder
        self.encoding, self.errors = "utf-8", "replace"

    def write(self, text) -> int:
        text = str(text)
        self.recorder().stream(self.name, text)
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class Probe:
    """Holds the student's namespace and the objects built from it, and answers requests."""

    def __init__(self):
        from IPython.core.displaypub import DisplayPublisher
        from IPython.core.interactiveshell import InteractiveShell

        self.shell = InteractiveShell.instance(colors="NoColor")
        self.namespace = self.shell.user_ns
        self.objects: dict[int, object] = {}
        self.stand_ins: dict[str, dict] = {}
        self.originals: dict[str, object] = {}
        self.recording: CellOutputs | None = None
        self.execution_count = 0
        probe = self

        class RecordingPublisher(DisplayPublisher):
            def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
                if probe.recording is not None:
                    display_id = (transient or {}).get("display_id")
                    probe.recording.display(dict(data), metadata, display_id, update)

            def clear_output(self, wait=False):
                if probe.recording is not None:
                    probe.recording.clear(wait)

        self.shell.display_pub = RecordingPublisher(shell=self.shell)
        hook = self.shell.displayhook
        hook.write_output_prompt = lambda: None
        hook.finish_displayhook = lambda: None
        hook.write_format_data = self._record_result
        ends_quietly = getattr(hook, "semicolon_at_end_of_expression", lambda cell: cell.rstrip().endswith(";"))
        hook.quiet = lambda: ends_quietly(self.source)  # a kernel's rule: no result after a final ';'
        self.source = ""
        self.shell._showtraceback = self._record_traceback

    # -- requests -------------------------------------------------------------------------
    def run_cell(self, source: str, record: bool = False) -> dict:
        """Run one cell; with ``record``, as a kernel would: its outputs come back with the answer."""
        if not record:
            result = self.shell.run_cell(source, store_history=False, silent=True)
            error = result.error_before_exec or result.error_in_exec
            return {"error": describe_error(error) if error else None,
                    "timed_out": isinstance(error, CellTimeout)}
        self.execution_count += 1
        self.recording, self.source = CellOutputs(), source
        streams = sys.stdout, sys.stderr
        sys.stdout = _RecordedStream("stdout", lambda: self.recording)
        sys.stderr = _RecordedStream("stderr", lambda: self.recording)
        try:
            result = self.shell.run_cell(source, store_history=False, silent=False)
        finally:
            sys.stdout, sys.stderr = streams
            outputs, self.recording = self.recording.outputs, None
        error = result.error_before_exec or result.error_in_exec
        return {"error": describe_error(error) if error else None, "timed_out": isinstance(error, CellTimeout),
                "outputs": outputs, "execution_count": self.execution_count}

    def _record_result(self, data: dict, metadata: dict | None = None) -> None:
        if self.recording is not None:
            self.recording.display(dict(data), metadata, result_of=self.execution_count)

    def _record_traceback(self, kind, error, traceback: list[str]) -> None:
        if self.recording is not None:
            self.recording.error(error, traceback)

    def define_stand_ins(self, source: str, stand_ins_by_task: dict) -> dict:
        module = {"__name__": "grading_stand_ins"}
        exec(compile(source, "grading_stand_ins", "exec"), module)
        self.stand_ins = {task: {name: module[kind] for name, kind in names.items()}
                          for task, names in stand_ins_by_task.items()}
        return {}

    def use_stand_ins(self, task: str) -> dict:
        """Put back the student's definitions, then replace those ``task`` must not depend on."""
        self.namespace.update(self.originals)
        replacements = self.stand_ins.get(task, {})
        self.originals = {name: self.namespace[name] for name in replacements if name in self.namespace}
        self.namespace.update(replacements)
        return {}

    def call(self, name: str, arguments: list, keep_inputs: bool = False, gradient_of: int | None = None) -> dict:
        torch = self.torch
        inputs = [self.to_argument(argument) for argument in arguments]
        if gradient_of is not None:
            inputs[gradient_of] = inputs[gradient_of].double().requires_grad_(True)
        value = self.lookup(name)(*inputs)
        reply = {"value": self.to_array(value, f"{name}(...)")}
        if keep_inputs:
            reply["inputs_after"] = [self.to_array(x, "an input") for x in inputs if isinstance(x, torch.Tensor)]
        if gradient_of is not None:
            value.sum().backward()
            gradient = inputs[gradient_of].grad
            reply["gradient"] = None if gradient is None else self.to_array(gradient, "the gradient")
        return reply

    def build(self, name: str, arguments: list, seed: int) -> dict:
        self.torch.manual_seed(seed)
        module = self.lookup(name)(*[self.to_argument(a) for a in arguments])
        if not isinstance(module, self.torch.nn.Module):
            raise TypeError(f"{name}(...) returned a {type(module).__name__}, not an nn.Module")
        module = module.double()
        handle = max(self.objects, default=0) + 1
        self.objects[handle] = module
        return {"handle": handle}

    def forget(self) -> dict:
        """Drop every module built so far: the diagnosis starts with the memory the checks used."""
        self.objects.clear()
        gc.collect()
        return {}

    def describe(self, handle: int) -> dict:
        nn = self.torch.nn
        modules = []
        for path, module in self.objects[handle].named_modules():
            record = {"path": path, "type": type(module).__name__,
                      "bases": [base.__name__ for base in type(module).__mro__]}
            if isinstance(module, nn.modules.conv._ConvNd):
                record["conv"] = {key: list(getattr(module, key)) if isinstance(getattr(module, key), tuple)
                                  else getattr(module, key)
                                  for key in ("kernel_size", "padding", "stride", "dilation", "groups",
                                              "in_channels", "out_channels", "transposed")}
            for width in ("input_channels", "output_channels"):
                if isinstance(getattr(module, width, None), int):
                    record.setdefault("widths", {})[width] = getattr(module, width)
            modules.append(record)
        parameters = [[name, list(p.shape)] for name, p in self.objects[handle].named_parameters()]
        return {"modules": modules, "parameters": parameters}

    def forward(self, handle: int, inputs: list, parameters: dict | None = None,
                backward: bool = False) -> dict:
        torch = self.torch
        module = self.objects[handle]
        if parameters:
            named = dict(module.named_parameters())
            with torch.no_grad():
                for name, value in parameters.items():
                    named[name].copy_(torch.from_numpy(value))
        tensors = [self.to_argument(x) for x in inputs]
        if backward:
            tensors = [t.requires_grad_(True) if t.is_floating_point() else t for t in tensors]
        output = module(*tensors)
        reply = {"value": self.to_array(output, "forward(...)")}
        if backward:
            module.zero_grad(set_to_none=True)
            output.double().square().sum().backward()
            reply["starved"] = [name for name, p in module.named_parameters() if p.grad is None]
            reply["input_gradients"] = [None if t.grad is None else self.to_array(t.grad, "a gradient")
                                        for t in tensors]
        return reply

    # -- helpers --------------------------------------------------------------------------
    @property
    def torch(self):
        import torch

        return torch

    def lookup(self, name: str):
        if name not in self.namespace:
            raise NameError(f"{name} is not defined: did its cell run without errors?")
        return self.namespace[name]

    def to_argument(self, value):
        if isinstance(value, np.ndarray):
            return self.torch.from_numpy(value)
        if isinstance(value, dict) and "__size__" in value:
            return self.torch.Size(value["__size__"])
        if isinstance(value, list):
            return tuple(value)
        return value

    def to_array(self, value, what: str) -> np.ndarray:
        if not isinstance(value, self.torch.Tensor):
            raise TypeError(f"{what} returned a {type(value).__name__}, not a tensor")
        return value.detach().cpu().numpy().copy()


def serve(requests, replies) -> None:
    probe = Probe()
    while (request := read_message(requests)) is not None:
        operation, timeout = request.pop("op"), request.pop("timeout")
        try:
            with time_limit(timeout):
                reply = getattr(probe, operation)(**request)
        except BaseException as error:  # the student's error is the answer, not the probe's end
            reply = {"error": describe_error(error), "timed_out": isinstance(error, CellTimeout)}
        write_message(replies, reply)


def main() -> None:
    """Keep the checker's channel on private descriptors; the student's output goes to a log."""
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    log = os.open("probe.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.stderr = os.fdopen(2, "w", buffering=1)
    serve(requests, replies)


if __name__ == "__main__":
    main()
