"""The probe's request handlers run in the test process: the checks' and the diagnosis's view of a
student, without a student process."""

from __future__ import annotations

import json

from grader.checking.probe import Probe, decode, describe_error, encode
from grader.checking.reference import UPSTREAM_STAND_INS
from grader.checking.remote import StudentCodeFailed
from unet_kit.assignment import REPOSITORY_ROOT

REFERENCE_SOURCE = (REPOSITORY_ROOT / "grader" / "checking" / "reference.py").read_text()


def through_the_channel(value):
    """``value`` as the other end of the probe's pipe receives it."""
    return decode(json.loads(json.dumps(encode(value))))


class HandlersOnANamespace(Probe):
    """The probe's handlers on a namespace filled here: no IPython shell, as no cell is run through it."""

    def __init__(self, namespace: dict):
        self.namespace, self.objects, self.stand_ins, self.originals = namespace, {}, {}, {}

    def forget(self) -> dict:
        """Drop the modules without the probe's garbage collection, which here would sweep the test process."""
        self.objects.clear()
        return {}


class ProbeHandlersHere:
    """``grader.checking.probe.Probe``'s request handlers, run in this process on a namespace of the student's
    code, each message crossing ``encode``/``decode`` as on the pipe. The diagnosis, the remote
    student and the handlers are the real ones; only the process is left out (its pipe and
    confinement are tested in test_probe_protocol.py and test_grader.py)."""

    def __init__(self, namespace: dict):
        self.handlers = HandlersOnANamespace(namespace)
        self.handlers.define_stand_ins(REFERENCE_SOURCE, UPSTREAM_STAND_INS)

    def use_stand_ins(self, task: str) -> None:
        self.request("use_stand_ins", task=task)

    def request(self, op: str, timeout: float | None = None, **fields) -> dict:
        try:
            reply = getattr(self.handlers, op)(**through_the_channel(fields))
        except Exception as error:  # the student's error, reported as the probe reports it
            raise StudentCodeFailed(describe_error(error)) from error
        return through_the_channel(reply)
