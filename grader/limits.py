"""Every limit the grader puts on a submission, in one place, with its default and its reason.

``python -m grader autograde`` builds one ``GradingLimits`` from its command line and hands it
down: the jail takes the memory, file-size and process caps, the probe the per-cell and
per-check times, each submission's warm process its total time, the batch its worker count. The README's
figures are these defaults.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict, dataclass, field, fields

GIB, MIB = 2**30, 2**20


def _limit(default: float, help: str):
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class GradingLimits:
    memory_gb: float = _limit(6.0, "Memory of one submission: every process it runs, together (a memory cgroup), and each alone.")
    file_size_mb: int = _limit(256, "Largest file a submission's code may write.")
    disk_mb: int = _limit(512, "Disk a submission's code may fill at once, in its scratch folder (a tmpfs in the jail, "
                               "else a watchdog); deleted when its grading ends.")
    disk_files: int = _limit(10000, "Files and folders a submission's code may make in its scratch folder.")
    processes: int = _limit(128, "Processes and threads one submission may run at once (a pids cgroup): a fork bomb stops here.")
    cell_seconds: float = _limit(30.0, "One notebook cell in the probe; a cell that runs longer is taken out and noted.")
    check_seconds: float = _limit(20.0, "One request of a hidden check; after one timeout the task's other checks are skipped.")
    after_timeout_seconds: float = _limit(5.0, "Each cell after the last task once one ran out of time (they earn nothing).")
    submission_seconds: float = _limit(900.0, "One submission's whole grading (its run, checks, autograde, feedback).")
    notebook_mb: int = _limit(512, "Largest notebook file read; larger files are reported, never loaded.")
    notebook_cells: int = _limit(2000, "Most cells in a notebook; the assignment has about 60.")
    cell_source_mb: float = _limit(1.0, "Largest source of one cell; a longer cell is left out with a note.")
    workers: int = _limit(0, "Submissions graded at once; 0 means one per core this process may use.")

    @property
    def memory_bytes(self) -> int:
        return int(self.memory_gb * GIB)

    @property
    def file_size_bytes(self) -> int:
        return self.file_size_mb * MIB

    @property
    def disk_bytes(self) -> int:
        return self.disk_mb * MIB

    @property
    def notebook_bytes(self) -> int:
        return self.notebook_mb * MIB

    @property
    def cell_source_bytes(self) -> int:
        return int(self.cell_source_mb * MIB)

    @property
    def worker_count(self) -> int:
        return self.workers or len(os.sched_getaffinity(0))

    def to_arguments(self) -> list[str]:
        """The command-line form, to hand the same limits to a child process."""
        return [f"--{name.replace('_', '-')}={value}" for name, value in asdict(self).items()]

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """One option per limit (``--cell-seconds``, ``--memory-gb``, ...), defaults and help from here."""
        group = parser.add_argument_group("limits on each submission")
        for limit in fields(cls):
            group.add_argument(f"--{limit.name.replace('_', '-')}", type=type(limit.default),
                               default=limit.default, dest=limit.name,
                               help=f"{limit.metadata['help']} (default: {limit.default})")

    @classmethod
    def from_arguments(cls, arguments: argparse.Namespace) -> GradingLimits:
        return cls(**{limit.name: getattr(arguments, limit.name) for limit in fields(cls)})



DEFAULT_LIMITS = GradingLimits()


def limits_table(limits: GradingLimits = DEFAULT_LIMITS) -> str:
    """The limits as the README's markdown table (a test keeps the README equal to it)."""
    rows = [f"| `--{limit.name.replace('_', '-')}` | {getattr(limits, limit.name):g} | {limit.metadata['help']} |"
            for limit in fields(limits)]
    return "\n".join(["| option | default | what it limits |", "|---|---|---|", *rows])
