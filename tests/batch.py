"""One real ``python -m grader autograde`` run over every kind of submission the tests know.

The catalogue (solution, blank, truncated file, mutants, correct variants) and the corpus of
bad submissions are graded together, in one batch of more than fifty, the way an instructor
would grade a class. It starts with the test session and runs beside the tests that do not
read it. Meanwhile a heartbeat measures how late a 0.1 s sleep on this machine wakes up: a
figure of how responsive the machine stayed, printed after the run.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader.report import BATCH_REPORT_NAME, SubmissionReport
from tests.bad_submissions import BAD_SUBMISSIONS, Batch, targets_outside
from tests.submissions import CORRECT_VARIANTS, MUTANTS, filled_in
from unet_kit.assignment import REPOSITORY_ROOT, STUDENT_NOTEBOOK

MAX_POINTS = {"crop": 2, "contracting_block": 3, "expanding_block": 4, "feature_map_block": 1, "unet": 5}
#: What a submission that earns every point gets, as grades.csv holds it: task -> (score, max_score).
FULL_MARKS = {task: (float(points), float(points)) for task, points in MAX_POINTS.items()}
#: A made-up credential in the grader's environment: it must appear nowhere in the output.
SECRET_VARIABLE, SECRET = "COURSE_API_TOKEN", f"secret-{secrets.token_hex(16)}"
#: The content of a file beside the batch that the grader (and so the jail) can read, as ~/.ssh could be.
PLANTED_SECRET = f"planted-{secrets.token_hex(16)}"
BATCH_FIGURES: dict[str, str] = {}  # printed after the run by conftest


@dataclass
class GradedBatch:
    grades: dict[str, dict[str, tuple[float, float]]]
    summary: str
    batch: Batch
    hashes_before: dict[Path, str] = field(default_factory=dict)
    reached_the_listener: list[str] = field(default_factory=list)
    reports: dict[str, SubmissionReport] = field(default_factory=dict)  # grading-report.json, by student
    grader_pid: int = 0  # the grading process: its scratch folders carry this number

    @property
    def output(self) -> Path:
        return self.batch.output

    def summary_lines(self, student: str) -> list[str]:
        """The student's row of the summary table and its notes."""
        return [line for line in self.summary.splitlines()
                if line.startswith(f"{student} ") or line.startswith(f"  {student}: ")]


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "absent"


def write_submissions(batch: Batch) -> int:
    folder = batch.submissions
    nbformat.write(filled_in(), folder / f"{batch.victim}.ipynb")
    (folder / "blank.ipynb").write_text(STUDENT_NOTEBOOK.read_text())
    (folder / "broken.ipynb").write_text('{"cells": [')  # a truncated save
    for mutant in MUTANTS:
        nbformat.write(mutant.notebook(), folder / f"{mutant.name}.ipynb")
    for name, (task, source) in CORRECT_VARIANTS.items():
        nbformat.write(filled_in({task: source}), folder / f"{name}.ipynb")
    for case in BAD_SUBMISSIONS:
        case.write(folder / f"{case.name}.ipynb", batch)
    return len(list(folder.glob("*.ipynb")))


class Listener:
    """TCP and UDP on one port of 127.0.0.1, recording whatever reaches them while the batch runs."""

    def __init__(self):
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.received: list[str] = []
        self.running = True
        for target in (self._accept, self._receive):
            threading.Thread(target=target, daemon=True).start()

    def _accept(self):
        self.tcp.settimeout(0.5)
        while self.running:
            try:
                connection, peer = self.tcp.accept()
            except TimeoutError:
                continue
            self.received.append(f"TCP connection from {peer}")
            connection.close()

    def _receive(self):
        self.udp.settimeout(0.5)
        while self.running:
            try:
                data, peer = self.udp.recvfrom(4096)
            except TimeoutError:
                continue
            self.received.append(f"UDP {data!r} from {peer}")

    def close(self):
        self.running = False
        time.sleep(0.6)
        self.tcp.close()
        self.udp.close()


class Heartbeat(threading.Thread):
    """Wakes every 0.1 s and records how late it woke: the machine's responsiveness."""

    def __init__(self):
        super().__init__(daemon=True)
        self.delays: list[float] = []
        self.running = True

    def run(self):
        while self.running:
            started = time.perf_counter()
            time.sleep(0.1)
            self.delays.append(time.perf_counter() - started - 0.1)


class CorpusGrading:
    """The batch, started at once in the background and read when a test first needs it.

    The grader runs as its own process, so the tests that do not read the batch run meanwhile
    on whatever the batch leaves of the machine (it waits out hangs and time limits).
    """

    def __init__(self, root: Path):
        self.listener = Listener()
        self.batch = Batch(root / "submissions", root / "graded", listener_port=self.listener.port,
                           planted_secret=root / "instructor-only.txt")
        self.batch.planted_secret.write_text(PLANTED_SECRET)
        self.batch.submissions.mkdir()
        self.count = write_submissions(self.batch)
        watched = {path for case in BAD_SUBMISSIONS for path in targets_outside(self.batch, case.name)}
        self.hashes_before = {path: file_hash(path) for path in watched if path.is_relative_to(REPOSITORY_ROOT)
                              or path.is_relative_to(self.batch.submissions)}
        self.heartbeat = Heartbeat()
        self.heartbeat.start()
        self.started = time.perf_counter()
        self.grader = subprocess.Popen(
            [sys.executable, "-m", "grader", "autograde", str(self.batch.submissions), "--out", str(self.batch.output)],
            cwd=REPOSITORY_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=os.environ | {SECRET_VARIABLE: SECRET},  # as an instructor's token would be
        )
        self._result: GradedBatch | None = None

    def result(self) -> GradedBatch:
        """The graded batch, once the grader has finished (waiting for it the first time)."""
        if self._result is None:
            self._result = self._finish()
        return self._result

    def stop(self) -> None:
        """Kill the grader if nobody waited for it (a run cut short)."""
        if self.grader.poll() is None:
            self.grader.kill()
            self.grader.communicate()
        self.heartbeat.running = False
        if self.listener.running:
            self.listener.close()

    def _finish(self) -> GradedBatch:
        stdout, stderr = self.grader.communicate(timeout=3600)
        waited = time.perf_counter() - self.started
        self.heartbeat.running = False
        self.listener.close()
        assert self.grader.returncode == 0, stdout[-5000:] + stderr[-5000:]
        delays = sorted(self.heartbeat.delays)
        graded_in = re.search(r"submissions graded in (\d+) s", stdout)
        elapsed = float(graded_in.group(1)) if graded_in else waited  # the grader's own figure, not our wait
        BATCH_FIGURES["batch"] = (f"{self.count} submissions graded in {elapsed:.0f} s ({elapsed / self.count:.1f} s "
                                  f"each, 2 workers, beside the tests that do not read it); read after {waited:.0f} s")
        BATCH_FIGURES["heartbeat lateness"] = (f"median {1000 * delays[len(delays) // 2]:.0f} ms, "
                                               f"worst {1000 * delays[-1]:.0f} ms over {len(delays)} beats")
        output = self.batch.output
        grades = defaultdict(dict)
        with (output / "grades.csv").open() as handle:
            for row in csv.DictReader(handle):
                grades[row["student_id"]][row["task"]] = (float(row["score"]), float(row["max_score"]))
        reports = {report.student_id: report for report in
                   map(SubmissionReport.from_dict, json.loads((output / BATCH_REPORT_NAME).read_text()))}
        return GradedBatch(dict(grades), stdout, self.batch, self.hashes_before, self.listener.received, reports,
                           self.grader.pid)
