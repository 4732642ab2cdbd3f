"""Grade on a dask.distributed cluster: notebooks go out as bytes, results come back, the client writes.

Workers need this repository and its environment (``pip install -r requirements-dev.txt``),
Linux for the jail, and nothing shared with the client: each worker process grades in a
scratch workspace of its own (a prepared course, the kit and a probe fork server, made once; a
killed worker's is removed by the next worker that starts), and returns the
submission's report and feedback page. Only the client writes the output folder and the
class gradebook. A worker that dies mid-batch costs a rerun of its submission on another
worker (the scheduler reschedules it); each submission's result is written once.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from grader.confinement.policy import prepare_kit
from grader.confinement.probe_forkserver import ProbeForkServer
from grader.confinement.scratch import make_scratch, remove_stale_scratch
from grader.course.course_directory import prepare_course
from grader.course.submissions import Submission
from grader.limits import GradingLimits
from grader.report import SubmissionReport
from grader.submission import grade_safely


@dataclass(frozen=True)
class Workspace:
    """A worker's scratch folder (the course template, the kit, the submissions and results) and the
    fork server its probes are forked from, which ends with the worker."""

    root: Path
    template: Path
    kit: Path
    forkserver: ProbeForkServer


_workspace: Workspace | None = None
_workspace_lock = threading.Lock()


def worker_workspace() -> Workspace:
    """This process's workspace, prepared on first use (nbgrader generates the course once)."""
    global _workspace

    with _workspace_lock:
        if _workspace is None:
            remove_stale_scratch()  # a killed worker's workspace, with whatever its submissions wrote
            root = make_scratch("worker")
            kit = prepare_kit(root)
            _workspace = Workspace(root, prepare_course(root / "course"), kit, ProbeForkServer(root / "forkserver", kit))
        return _workspace


def grade_on_worker(student_id: str, notebook: bytes, limits: GradingLimits) -> tuple[str, bytes | None]:
    """Grade one submission on this worker: its report (JSON) and its feedback page, if any."""
    workspace = worker_workspace()
    batch = workspace.root / f"batch-{uuid.uuid4().hex[:12]}"
    submissions, output = batch / "submissions", batch / "output"
    submissions.mkdir(parents=True)
    path = submissions / f"{student_id}.ipynb"
    path.write_bytes(notebook)
    try:
        report = grade_safely(workspace.template, output, Submission(student_id, path), workspace.kit,
                              hide=[workspace.root], limits=limits, scratch_root=workspace.root,
                              forkserver=workspace.forkserver)
        feedback = output / "feedback" / f"{student_id}.html"
        return report.to_json(), feedback.read_bytes() if feedback.is_file() else None
    finally:
        shutil.rmtree(batch, ignore_errors=True)


def grade_on_cluster(submissions: list, output: Path, scheduler: str, limits: GradingLimits,
                     progress=None) -> list[SubmissionReport]:
    """Send every submission to the cluster at ``scheduler``; write each feedback page as its result arrives."""
    from distributed import Client, as_completed

    reports = []
    with Client(scheduler, timeout="60s") as client:
        batch = uuid.uuid4().hex[:8]
        futures = {client.submit(grade_on_worker, submission.student_id, submission.notebook.read_bytes(), limits,
                                 key=f"grade-{batch}-{submission.student_id}", pure=False): submission
                   for submission in submissions}
        finished = as_completed(futures)
        for future in progress(finished, total=len(futures)) if progress else finished:
            student_id = futures[future].student_id
            try:
                report_json, feedback = future.result()
            except Exception as error:  # noqa: BLE001 - the cluster's failure is this submission's report
                reports.append(SubmissionReport(student_id, problem=f"the cluster could not grade it "
                                                f"({type(error).__name__}: {str(error)[:200]})"))
                continue
            if feedback is not None:
                target = output / "feedback" / f"{student_id}.html"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(feedback)
            reports.append(SubmissionReport.from_json(report_json))
    return reports
