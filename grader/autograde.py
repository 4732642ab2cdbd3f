"""Grade a folder of submissions with real nbgrader: here, one per core, or on a Dask cluster.

Each submission is graded by ``grader.submission`` in its own course copy and cgroups; this
module runs them, then writes what the class needs from all of them together: grades.csv, the
batch report, the class report and the class gradebook.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from grader.cluster import grade_on_cluster
from grader.confinement.policy import prepare_kit
from grader.confinement.probe_forkserver import ProbeForkServer
from grader.confinement.scratch import (
    make_scratch,
    remove_stale_scratch,
    remove_tree,
)
from grader.course.course_directory import (
    prepare_course,
)
from grader.course.submissions import Submission, find_submissions, folders_beside, gradebook_url
from grader.limits import DEFAULT_LIMITS, GradingLimits
from grader.report import BATCH_REPORT_NAME, SubmissionReport
from grader.reporting.batch_files import write_batch_report, write_grades
from grader.reporting.class_report import write_class_files
from grader.reporting.gradebook import default_gradebook_url, record_class_gradebook
from grader.submission import grade_safely, last_error_line
from grader.warm_process import warm_up


class ClassGradebookError(RuntimeError):
    """Grading finished but the class gradebook could not be written."""


@dataclass(frozen=True)
class LocalBatch:
    """What grading on this machine shares: a scratch folder (the kit, each submission's writable
    folders) and the fork server every probe of the batch is forked from."""

    scratch_root: Path
    kit: Path
    forkserver: ProbeForkServer


@contextlib.contextmanager
def local_batch() -> Iterator[LocalBatch]:
    """The batch's scratch folder and probe fork server, deleted and ended afterwards. Entered before
    the course is prepared, so that the fork server's imports run meanwhile."""
    remove_stale_scratch()
    scratch_root = make_scratch("batch")
    try:
        kit = prepare_kit(scratch_root)
        with ProbeForkServer(scratch_root / "forkserver", kit) as forkserver:
            yield LocalBatch(scratch_root, kit, forkserver)
    finally:
        remove_tree(scratch_root)


def grade_here(batch: LocalBatch, template: Path, output: Path, submissions: list[Submission], hide: list[Path],
               limits: GradingLimits, progress=None) -> list[SubmissionReport]:
    """Grade on this machine, ``limits.worker_count`` submissions at once."""
    reports = []
    with ThreadPoolExecutor(max_workers=limits.worker_count) as pool:
        futures = [pool.submit(grade_safely, template, output, submission, batch.kit, [*hide, batch.scratch_root],
                               limits, batch.scratch_root, batch.forkserver) for submission in submissions]
        finished = as_completed(futures)
        for future in progress(finished, total=len(futures)) if progress else finished:
            reports.append(future.result())
    return reports


def autograde_folder(submissions_folder: Path, output: Path, limits: GradingLimits = DEFAULT_LIMITS,
                     progress=None, scheduler: str | None = None, gradebook: str | None = None,
                     assignment: str | None = None) -> list[SubmissionReport]:
    """Grade every submission in ``submissions_folder``, here or on the Dask cluster at ``scheduler``;
    into ``output`` write grades.csv, the grading report, checks.csv, the class report and the
    feedback, and every score into the class gradebook at ``gradebook`` (SQLite in ``output`` by default)."""
    submissions, reports = find_submissions(submissions_folder, assignment)  # an instructor's mistake stops here
    url = gradebook_url(gradebook) if gradebook else default_gradebook_url(output)
    output.mkdir(parents=True, exist_ok=True)
    for stale in ("feedback", "students"):
        shutil.rmtree(output / stale, ignore_errors=True)
    if not scheduler:
        warm_up()  # the warm processes' imports run while nbgrader prepares the course
    with contextlib.nullcontext() if scheduler else local_batch() as batch:
        template = prepare_course(output / "course")
        if scheduler:
            reports += grade_on_cluster(submissions, output, scheduler, limits, progress)
            by_id = {submission.student_id: submission for submission in submissions}
            for report in reports:
                if report.student_id in by_id:  # what the folder says, which the workers never saw
                    report.notes[:0] = by_id[report.student_id].notes
                    report.timestamp = by_id[report.student_id].timestamp
        else:
            reports += grade_here(batch, template, output, submissions, [submissions_folder.resolve(), output.resolve(),
                                                                         *folders_beside(submissions_folder)],
                                  limits, progress)
    write_grades(reports, output / "grades.csv")
    write_batch_report(reports, output / BATCH_REPORT_NAME)
    write_class_files(reports, output)
    try:
        record_class_gradebook(url, template, reports)
    except Exception as error:  # noqa: BLE001 - every other result is written; say what this one lacks
        raise ClassGradebookError(f"the class gradebook at {url} could not be written "
                                  f"({type(error).__name__}: {last_error_line(str(error))}); every other "
                                  f"result is in {output}") from error
    return reports
