"""A probe as the batch builds one: its own folder, the grading policy, forked from a fork server or cold."""

from __future__ import annotations

from pathlib import Path

from grader.checking.remote import ProbeProcess, probe_command
from grader.confinement.policy import PROBE_NAME, grading_policy, launcher_environment
from grader.limits import DEFAULT_LIMITS


def jailed_probe(probe_forkserver, folder: Path, cells: list[tuple[int, str]], forked: bool = True,
                 **times: float) -> ProbeProcess:
    """A probe of ``cells`` at home in ``folder``, confined by the grading policy; forked from the
    ``probe_forkserver`` fixture's server, or cold. ``times``: ProbeProcess's time limits."""
    root, kit, server = probe_forkserver
    policy = grading_policy(folder / "home", kit, hidden=[root], limits=DEFAULT_LIMITS, stage="probe",
                            layers_file=folder / "layers.json").save(folder / "policy.json")
    return ProbeProcess(command=probe_command(policy, kit / PROBE_NAME), cells=cells, workdir=folder / "home",
                        environment=launcher_environment(), forkserver=server.connect() if forked else None,
                        policy_file=policy, probe_file=kit / PROBE_NAME, **times)
