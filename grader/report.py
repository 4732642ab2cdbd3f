"""What grading found, as typed records that cross process boundaries as JSON.

The checker (``grader.checking.check``) writes a ``CheckReport``; ``grader.autograde`` turns it into a
``SubmissionReport`` per student, which the gradebook, the feedback, ``grades.csv``, the
summary and ``grading-report.json`` all read. Each record has ``to_json``/``from_json``; no
module hands another a string-keyed dict.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: Beside grades.csv: every submission's report, confinement layers included.
BATCH_REPORT_NAME = "grading-report.json"


@dataclass
class CheckResult:
    """One hidden check of one task (one case of it): passed, or the check's own message (never test code)."""

    name: str
    passed: bool
    reason: str = ""
    case: str = ""  # the parametrised case, e.g. "case0"; its inputs are in the reason

    @property
    def label(self) -> str:
        return f"{self.name}[{self.case}]" if self.case else self.name


@dataclass
class Diagnosis:
    """A misconception the student's code shows (``grader.checking.misconceptions``), with its explanation."""

    id: str
    explanation: str


@dataclass(frozen=True)
class FailedCheck:
    """One hidden check that failed, shown once however many of its cases failed."""

    name: str
    failed_cases: int
    cases: int
    reason: str  # the first failed case's message

    def describe(self) -> str:
        count = f" ({self.failed_cases} of {self.cases} cases)" if self.cases > 1 else ""
        return f"failed {self.name}{count}: {self.reason}"


@dataclass
class TaskResult:
    task: str
    points: float
    score: float = 0.0
    checks: list[CheckResult] = field(default_factory=list)
    misconceptions: list[Diagnosis] = field(default_factory=list)

    @property
    def failed(self) -> list[CheckResult]:
        return [check for check in self.checks if not check.passed]

    def score_line(self) -> str:
        passed = len(self.checks) - len(self.failed)
        return f"{passed} of {len(self.checks)} hidden checks passed: {self.score:g} of {self.points:g} points"

    def failed_checks(self) -> list[FailedCheck]:
        """Each failed check once, in the order the checks ran, with the reason of its first failed case."""
        by_name: dict[str, list[CheckResult]] = {}
        for check in self.failed:
            by_name.setdefault(check.name, []).append(check)
        return [FailedCheck(name, len(failures), len([c for c in self.checks if c.name == name]), failures[0].reason)
                for name, failures in by_name.items()]

    def summary(self) -> str:
        """The score, each failed check once (with how many of its cases failed), then the diagnosis."""
        lines = [self.score_line(), *(f"  {failure.describe()}" for failure in self.failed_checks())]
        lines += [f"\nLikely misconception: {diagnosis.explanation}" for diagnosis in self.misconceptions]
        return "\n".join(lines)

    @classmethod
    def from_dict(cls, data: dict) -> TaskResult:
        return cls(**{**data, "checks": [CheckResult(**check) for check in data["checks"]],
                      "misconceptions": [Diagnosis(**diagnosis) for diagnosis in data.get("misconceptions", [])]})


@dataclass
class CellOutcome:
    """How one of the student's cells ran in the probe."""

    index: int
    error: str | None = None
    stopped: str | None = None  # why the cell was taken out: it hung or ended the process
    outputs: list[dict] = field(default_factory=list)  # as the probe recorded them: untrusted until sanitised
    execution_count: int | None = None


@dataclass
class Confinement:
    """The layers that held around one confined process (``grader.confinement.jail``), as it applied them."""

    stage: str = ""  # "probe": the one confined run of a notebook
    landlock_abi: int = 0
    landlock_tcp: bool = False
    network_namespace: bool = False
    pid_namespace: bool = False
    private_proc: bool = False
    process_cap: int = 0          # pids cgroup limit, 0: no cap
    memory_cgroup_bytes: int = 0  # the submission's memory cgroup limit, 0: per-process limit only
    environment_variables: int = 0
    disk_limit_bytes: int = 0     # size of the scratch tmpfs, 0: no tmpfs (the grader's watchdog stands in)
    disk_limit_reached: bool = False  # the submission's code filled its scratch tmpfs

    def missing(self) -> list[str]:
        """The layers that did not hold, in words an instructor can search the README for."""
        gaps = []
        if self.landlock_abi == 0:
            gaps.append("file confinement (Landlock)")
        if not (self.network_namespace or self.landlock_tcp):
            gaps.append("network isolation")
        if not self.pid_namespace:
            gaps.append("process clean-up (PID namespace)")
        if not self.process_cap:
            gaps.append("process cap (pids cgroup)")
        if not self.memory_cgroup_bytes:
            gaps.append("memory per submission (memory cgroup)")
        if not self.disk_limit_bytes:
            gaps.append("disk limit (scratch tmpfs)")
        return gaps

    def describe(self) -> str:
        network = " + ".join(name for name, held in (("network namespace", self.network_namespace),
                                                     ("Landlock TCP", self.landlock_tcp)) if held) or "none"
        return (f"{self.stage}: Landlock ABI {self.landlock_abi}, network: {network}, "
                f"PID namespace: {'yes' if self.pid_namespace else 'no'}, "
                f"process cap: {self.process_cap or 'none'}, "
                f"memory cgroup: {f'{self.memory_cgroup_bytes / 2**30:g} GiB' if self.memory_cgroup_bytes else 'none'}, "
                f"scratch tmpfs: {f'{self.disk_limit_bytes / 2**20:g} MiB' if self.disk_limit_bytes else 'none'}")

    @classmethod
    def load(cls, path: Path) -> Confinement | None:
        try:
            return cls(**json.loads(Path(path).read_text()))
        except (OSError, ValueError, TypeError):
            return None


@dataclass
class CheckReport:
    """The checker's findings for one notebook: scores by task, how each cell ran, the jail."""

    tasks: list[TaskResult]
    cells: list[CellOutcome]
    confinement: Confinement | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> CheckReport:
        data = json.loads(text)
        return cls(tasks=[TaskResult.from_dict(task) for task in data["tasks"]],
                   cells=[CellOutcome(**cell) for cell in data["cells"]],
                   confinement=Confinement(**data["confinement"]) if data.get("confinement") else None)


@dataclass
class SubmissionReport:
    """Everything grading says about one submission: its tasks, notes, or why it was not graded."""

    student_id: str
    tasks: list[TaskResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problem: str | None = None
    confinement: list[Confinement] = field(default_factory=list)
    timestamp: str | None = None  # when it was submitted, as nbgrader's timestamp.txt beside it says

    @property
    def graded(self) -> bool:
        return self.problem is None

    @property
    def total(self) -> float:
        return sum(task.score for task in self.tasks)

    @property
    def maximum(self) -> float:
        return sum(task.points for task in self.tasks)

    def task(self, name: str | None) -> TaskResult | None:
        return next((task for task in self.tasks if task.task == name), None)

    def missing_layers(self) -> list[str]:
        return sorted({gap for layers in self.confinement for gap in layers.missing()})

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_dict(cls, data: dict) -> SubmissionReport:
        return cls(student_id=data["student_id"], notes=list(data["notes"]), problem=data["problem"],
                   tasks=[TaskResult.from_dict(task) for task in data["tasks"]],
                   confinement=[Confinement(**layers) for layers in data["confinement"]],
                   timestamp=data.get("timestamp"))

    @classmethod
    def from_json(cls, text: str) -> SubmissionReport:
        return cls.from_dict(json.loads(text))
