"""Probes forked warm from the batch's fork server behave as probes started cold, and share nothing.

Real jail, real probe: each probe here confines itself with the grading policy, as in a batch.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from grader.checking.remote import ProbeProcess
from grader.confinement.policy import confined_environment
from grader.confinement.probe_forkserver import ForkedProbe
from grader.report import Confinement
from tests.probes import jailed_probe

#: What a probe's process looks like from inside: everything a fork could carry over from its parent.
SELF_PORTRAIT = """\
import json, os, sys, tempfile, warnings, __main__
targets = []
for fd in os.listdir("/proc/self/fd"):
    try:
        targets.append(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        pass  # the listing's own descriptor, closed already
print(json.dumps({
    "environment": dict(os.environ), "path": sys.path, "argv": sys.argv, "cwd": os.getcwd(),
    "temporary": tempfile.gettempdir(), "main": getattr(__main__, "__file__", None),
    "descriptors": sorted(target.split(":")[0] if target[0] != "/" else target
                          for target in targets if not target.startswith("/proc/")),
    "grader_modules": sorted(name for name in sys.modules if name.split(".")[0] in ("grader", "unet_kit")),
    "warnings": [str(entry[0]) for entry in warnings.filters[:1]],
    "flags": [sys.flags.dont_write_bytecode, sys.flags.ignore_environment],
    "processes": sorted(name for name in os.listdir("/proc") if name.isdigit()),
}))"""
SECONDS = 120.0


def probe_of(probe_forkserver, name: str, cells: list[str], forked: bool) -> ProbeProcess:
    return jailed_probe(probe_forkserver, probe_forkserver[0] / name, list(enumerate(cells)), forked,
                        cell_seconds=SECONDS, request_seconds=SECONDS)


def printed(probe: ProbeProcess, cell: int = 0) -> str:
    outcome = probe.outcomes[cell]
    assert outcome.error is None and outcome.stopped is None, outcome
    return "".join(output["text"] for output in outcome.outputs if output["output_type"] == "stream")


def portrait(probe_forkserver, forked: bool) -> tuple[dict, Confinement]:
    """The probe's view of itself, with its own folder's name made the same for both kinds."""
    name = "forked" if forked else "cold"
    probe = probe_of(probe_forkserver, name, [SELF_PORTRAIT], forked)
    try:
        probe.start()
        seen = json.loads(printed(probe).replace(f"/{name}/", "/PROBE/"))
    finally:
        probe.stop()
    return seen, Confinement.load(probe_forkserver[0] / name / "layers.json")


@pytest.mark.slow
def test_a_forked_probe_sees_itself_as_a_cold_one_does_and_is_confined_alike(probe_forkserver):
    """A cold probe imports torch: slow, for the comparison every other test here relies on."""
    cold, cold_layers = portrait(probe_forkserver, forked=False)
    forked, forked_layers = portrait(probe_forkserver, forked=True)
    assert forked == cold
    assert forked_layers == cold_layers
    assert forked["grader_modules"] == [] and forked["environment"]["HOME"].endswith("/PROBE/home")


def test_a_forked_probe_is_confined_and_holds_only_its_own_descriptors(probe_forkserver):
    seen, layers = portrait(probe_forkserver, forked=True)
    policy_environment = confined_environment(Path("home"), Path("kit"))
    assert layers.stage == "probe" and layers.environment_variables == len(policy_environment)
    assert set(seen["environment"]) - {"LC_CTYPE"} == set(policy_environment)
    assert seen["cwd"].endswith("/PROBE/home") and seen["temporary"] == seen["cwd"]
    assert "socket" not in seen["descriptors"]  # none of the fork server's connections
    assert [target for target in seen["descriptors"]  # the channel, /dev/null, its log and IPython's history
            if target not in ("pipe", os.devnull) and not target.startswith(seen["cwd"] + "/")] == []
    if layers.private_proc:
        assert len(seen["processes"]) == 2  # the namespace's init and the probe: not the fork server


def test_nothing_one_forked_probe_does_reaches_the_next(probe_forkserver):
    first = probe_of(probe_forkserver, "first", ["import torch, numpy\ntorch.left_behind = numpy.left_behind = 1\n"
                                      "GLOBAL = 'mine'"], forked=True)
    first.start()
    first.stop()
    second = probe_of(probe_forkserver, "second", ["import torch, numpy\nprint(hasattr(torch, 'left_behind'), "
                                        "hasattr(numpy, 'left_behind'), 'GLOBAL' in globals())"], forked=True)
    try:
        second.start()
        assert printed(second) == "False False False\n"
    finally:
        second.stop()


def test_a_probe_that_ends_its_process_is_taken_out_with_the_exit_code(probe_forkserver):
    probe = probe_of(probe_forkserver, "exits", ["import os\nos._exit(3)", "print('after')"], forked=True)
    try:
        probe.start()
        assert isinstance(probe.process, ForkedProbe)
        assert probe.outcomes[0].stopped == "it ended the Python process (exit code 3)"
        assert printed(probe, 1) == "after\n"  # started again without the cell that ended it
    finally:
        probe.stop()


def test_a_probe_ends_when_its_checker_drops_the_connection(probe_forkserver):
    probe = probe_of(probe_forkserver, "dropped", ["x = 1"], forked=True)
    probe.start()
    pid = probe.process.pid
    probe.forkserver.close()  # what a killed checker leaves: the connection closes
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}")


@pytest.mark.slow
def test_without_its_fork_server_a_probe_starts_cold(probe_forkserver):
    """Cold: a probe that imports torch itself."""
    connection, servers_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    servers_end.close()  # the fork server is gone
    probe = probe_of(probe_forkserver, "cold-again", ["print('ran')"], forked=False)
    probe.forkserver = connection
    try:
        probe.start()
        assert not isinstance(probe.process, ForkedProbe) and probe.forkserver is None
        assert printed(probe) == "ran\n"
    finally:
        probe.stop()
