"""One submission's cgroups: a process cap and a memory limit for everything it runs, together.

The grader makes the groups, the jail (``grader.confinement.jail``) moves the confined program into them,
and when the submission is done the grader ends every process still inside and removes them.
cgroup v1 (``/sys/fs/cgroup/pids``, ``/sys/fs/cgroup/memory``) and v2 (one unified tree) are
both understood; where neither accepts a new group (no permission, no controller), the
submission runs without them and the grading report says so.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _own_path(controller: str) -> str | None:
    """This process's cgroup path for ``controller`` (v1) or the unified tree ("" for v2)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    return None


@dataclass
class SubmissionGroups:
    """The cgroup folders made for one submission; ``folders`` is what the jail joins."""

    name: str
    processes: int
    memory_bytes: int
    folders: list[Path] = field(default_factory=list)

    def create(self) -> SubmissionGroups:
        for controller, limits in (("pids", {"pids.max": self.processes}),
                                   ("memory", {"memory.limit_in_bytes": self.memory_bytes})):
            self._make(CGROUP_ROOT / controller, _own_path(controller), limits)
        if not self.folders:  # cgroup v2: one folder holds both limits
            self._make(CGROUP_ROOT, _own_path(""), {"pids.max": self.processes, "memory.max": self.memory_bytes})
        return self

    def _make(self, hierarchy: Path, own: str | None, limits: dict[str, int]) -> None:
        if own is None or not hierarchy.is_dir():
            return
        folder = hierarchy / own.lstrip("/") / self.name
        try:
            folder.mkdir(exist_ok=True)
            for name, value in limits.items():
                (folder / name).write_text(str(value))
        except OSError:
            _remove(folder)
            return
        self.folders.append(folder)

    def processes_inside(self) -> set[int]:
        pids = set()
        for folder in self.folders:
            try:
                pids.update(int(pid) for pid in (folder / "cgroup.procs").read_text().split())
            except OSError:
                continue
        return pids

    def end_every_process(self, attempts: int = 50) -> None:
        """SIGKILL whatever is still inside, again until nothing is (a fork racing the kill loses)."""
        for _ in range(attempts):
            inside = self.processes_inside()
            if not inside:
                return
            for pid in inside:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def remove(self) -> None:
        self.end_every_process()
        for folder in self.folders:
            _remove(folder)
        self.folders = []

    def __enter__(self) -> SubmissionGroups:
        return self.create()

    def __exit__(self, *exception) -> None:
        self.remove()


def _remove(folder: Path) -> None:
    for _ in range(50):  # a killed process leaves its group a moment later
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)
