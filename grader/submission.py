"""One submission's grading, step by step: normalise, check, autograde, feedback.

Each submission goes through four steps, in its own copy of the course directory (its own
gradebook) and its own cgroups (``grader.confinement.cgroups``), so one broken notebook cannot stop the
batch or touch another student's results:

1. ``normalise``: the notebook is read as JSON and rebuilt on the release's skeleton (repairs
   noted), in the batch's own process: it runs no code, and a file that is no notebook stops here;
2. ``check``: the notebook is executed once, in a confined probe that records every cell's
   outputs, and every task is scored against it; cells that hang or end the probe are noted and
   taken out;
3. ``autograde``: nbgrader grades the notebook as the probe ran it (it executes nothing), then
   the gradebook receives the checker's scores;
4. ``feedback``: nbgrader writes the feedback, with the hidden checks' results and the notes.

Steps 2 to 4 run in one warm process per submission (``grader.warm_process``), killed with
everything it started when the submission runs past ``--submission-seconds``. Each step adds
to the submission's ``SubmissionReport`` or says why grading stops there. Course directories
live inside the output folder and are rebuilt on every run, which makes re-runs idempotent.
Student code writes only to the submission's scratch folder (``grader.confinement.scratch``),
deleted when its grading ends: nothing it wrote reaches the results.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from grader.confinement.cgroups import SubmissionGroups
from grader.confinement.probe_forkserver import ProbeForkServer
from grader.confinement.scratch import (
    DiskWatchdog,
    copy_plain_file,
    remove_special_files,
    remove_tree,
    submission_scratch,
)
from grader.course.course_directory import NbgraderError, nbgrader_here
from grader.course.normalise import describe_cell, normalise, read_json
from grader.course.probe_outputs import with_probe_outputs
from grader.course.submissions import Submission
from grader.limits import GradingLimits
from grader.report import CheckReport, Confinement, SubmissionReport
from grader.reporting.gradebook import GRADEBOOK_NAME, set_task_scores
from grader.warm_process import WorkFailed, WorkTimedOut, run_in_warm_process
from unet_kit.assignment import ASSIGNMENT, NOTEBOOK_NAME, nbgrader_metadata

STUDENT_REPORT_NAME = "submission-report.json"


class StopGrading(Exception):
    """A step found that this submission cannot be graded further; the message says why."""


@dataclass
class Grading:
    """One submission on its way through the four steps, with what each step needs."""

    submission: Submission
    course_root: Path
    output: Path
    kit: Path
    hide: list[Path]
    limits: GradingLimits
    groups: SubmissionGroups
    report: SubmissionReport
    scratch: Path  # everything student code may write lives here (probe/)
    notebook: nbformat.NotebookNode | None = None
    disk_limit_hit: bool = False
    release: Path | None = None  # the release notebook, when not in ``course_root``'s release folder
    probe_forkserver: socket.socket | None = None  # this submission's connection to the batch's probe fork server

    @property
    def student_id(self) -> str:
        return self.submission.student_id

    @property
    def release_notebook(self) -> Path:
        return self.release or self.course_root / "release" / ASSIGNMENT / NOTEBOOK_NAME


def student_course(template: Path, course_root: Path) -> None:
    """This student's private copy of the prepared course, in ``course_root`` (``Grading.course_root``)."""
    if course_root.exists():
        shutil.rmtree(course_root)
    shutil.copytree(template, course_root)


# -- the four steps ------------------------------------------------------------------------------
def normalise_step(grading: Grading) -> None:
    """Read the file as JSON (never run it) and rebuild it on the release's skeleton."""
    submitted = read_json(grading.submission.notebook, grading.limits)
    if submitted.problem:
        raise StopGrading(submitted.problem)
    release = nbformat.read(grading.release_notebook, as_version=4)
    normalised = normalise(submitted.raw, release, grading.limits)
    if normalised.problem:
        raise StopGrading(normalised.problem)
    grading.notebook = normalised.notebook
    grading.report.notes.extend([*submitted.notes, *normalised.notes])


def check_step(grading: Grading) -> CheckReport:
    """Run the notebook once in the confined probe and score every task against it, in this process
    (a warm one: ``grader.warm_process``); note how each cell ran."""
    from grader.checking.check import check_notebook, probe_cells  # torch and pytest: the warm processes' imports

    workdir = grading.course_root / "check"
    workdir.mkdir(parents=True, exist_ok=True)
    scratch = grading.scratch / "probe"
    try:
        with watch_disk(grading, scratch):
            checked = check_notebook(grading.notebook, workdir, [*grading.hide], grading.kit, grading.limits,
                                     grading.groups.folders, scratch, grading.probe_forkserver)
    except Exception as error:  # noqa: BLE001 - the checker's own failure stops this submission, with why
        raise StopGrading(f"the checker failed: {type(error).__name__}: {str(error)[:200]}") from error
    finally:
        grading.groups.end_every_process()  # nothing the probe started outlives the check
        remove_tree(scratch)
    grading.report.tasks = checked.tasks
    grading.report.confinement = [checked.confinement or Confinement(stage="probe")]
    student_cells = {index for index, _ in probe_cells(grading.notebook)[0]
                     if not nbgrader_metadata(grading.notebook.cells[index]).get("grade")}
    for cell in checked.cells:
        where = describe_cell(grading.notebook, cell.index)
        if cell.stopped:
            grading.report.notes.append(f"{where} was not run: {cell.stopped}")
        elif cell.error and cell.index in student_cells:
            grading.report.notes.append(f"{where} raised {cell.error}")
    return checked


def check_in_warm_process(grading: Grading) -> CheckReport:
    """``check_step`` in a warm process of its own, for a caller that is not one (nbgrader's own
    ``autograde`` in an instructor's course): the check gets its time limit and a clean process."""
    try:
        report, disk_limit_hit, checked = run_in_warm_process(_check_and_return, (grading,),
                                                              grading.limits.submission_seconds)
    except WorkTimedOut as timeout:
        grading.groups.end_every_process()
        raise StopGrading(f"checking took longer than {grading.limits.submission_seconds:g} s "
                          "and was stopped") from timeout
    except WorkFailed as failure:
        raise StopGrading(f"the checker failed: {failure}") from failure
    vars(grading.report).update(vars(report))
    grading.disk_limit_hit = grading.disk_limit_hit or disk_limit_hit
    return checked


def _check_and_return(grading: Grading) -> tuple[SubmissionReport, bool, CheckReport]:
    checked = check_step(grading)
    return grading.report, grading.disk_limit_hit, checked


def autograde_step(grading: Grading, checked: CheckReport) -> None:
    """nbgrader autograde of the notebook as the probe ran it (nbgrader executes nothing);
    then the gradebook gets the checker's scores."""
    submitted = grading.course_root / "submitted" / grading.student_id / ASSIGNMENT
    submitted.mkdir(parents=True, exist_ok=True)
    nbformat.write(with_probe_outputs(grading.notebook, checked.cells), submitted / NOTEBOOK_NAME)
    try:
        nbgrader_here(grading.course_root, "autograde", grading.student_id)
    except NbgraderError as error:
        (grading.course_root / "autograde.log").write_text(str(error))
        raise StopGrading(f"no feedback: nbgrader could not grade the notebook "
                          f"({last_error_line(str(error))})") from error
    finally:
        grading.report.notes.extend(remove_special_files(grading.course_root / "autograded"))
    record_scores(grading.course_root, grading.report)


def feedback_step(grading: Grading) -> None:
    """This student's HTML feedback, with the hidden checks' results and the notes, into ``output``."""
    report_file = grading.course_root / STUDENT_REPORT_NAME
    report_file.write_text(grading.report.to_json())
    try:
        nbgrader_here(grading.course_root, "generate_feedback", grading.student_id,
                      {"AddGradingReport": {"report": str(report_file)},
                       "ShowStudentContentAsText": {"release": str(grading.release_notebook)}})
    except NbgraderError as error:
        raise StopGrading("no feedback: nbgrader could not write it") from error
    grading.report.notes.extend(remove_special_files(grading.course_root / "feedback"))
    html = grading.course_root / "feedback" / grading.student_id / ASSIGNMENT / NOTEBOOK_NAME.replace(".ipynb", ".html")
    target = grading.output / "feedback" / f"{grading.student_id}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        copy_plain_file(html, target)
    except OSError as error:
        raise StopGrading("no feedback: nbgrader could not write it") from error


def grade_normalised(grading: Grading) -> SubmissionReport:
    """Check, autograde, feedback, once ``normalise_step`` has read the notebook; see the module docstring.

    A stop before the checker's scores leaves the submission ungraded with the reason; a stop
    after them keeps the scores and notes why there is no feedback.
    """
    try:
        checked = check_step(grading)
    except StopGrading as stop:
        grading.report.tasks, grading.report.problem = [], str(stop)
        return grading.report
    try:
        autograde_step(grading, checked)
        note_disk_limit(grading)
        feedback_step(grading)
    except StopGrading as stop:
        note_disk_limit(grading)
        grading.report.notes.append(str(stop))
    return grading.report


@contextlib.contextmanager
def watch_disk(grading: Grading, scratch: Path):
    """While student code runs: where the jail could not mount its tmpfs, stop the submission at the disk limit."""
    scratch.mkdir(parents=True, exist_ok=True)
    with DiskWatchdog(scratch, grading.limits.disk_bytes, grading.limits.disk_files,
                      stop=grading.groups.end_every_process) as watchdog:
        yield
    if watchdog.exceeded:
        grading.disk_limit_hit = True


def note_disk_limit(grading: Grading) -> None:
    """One note when the code filled its scratch folder, in the probe."""
    if grading.disk_limit_hit or any(layers.disk_limit_reached for layers in grading.report.confinement):
        note = (f"your code hit the disk limit: it may keep {grading.limits.disk_mb:g} MB "
                f"(and {grading.limits.disk_files:g} files) in its working folder; what it wrote was deleted "
                f"after grading, and your answers were graded for what they earned")
        if note not in grading.report.notes:
            grading.report.notes.append(note)


EXCEPTION_LINE = re.compile(r"^\s*(\w+\.)*\w*(Error|Exception|Exit)\b.*")


def last_error_line(output: str) -> str:
    """The most telling line of a failed command's output: its last exception, else its last line."""
    lines = output.strip().splitlines() or ["no output"]
    errors = [line.strip() for line in lines if EXCEPTION_LINE.match(line)]
    return (errors[-1] if errors else lines[-1])[:300]


def record_scores(course_root: Path, report: SubmissionReport) -> None:
    """Put the checker's scores into this student's gradebook, over what the visible tests earned."""
    with Gradebook(f"sqlite:///{course_root / GRADEBOOK_NAME}") as gradebook:
        set_task_scores(gradebook, report)


def grade_safely(template: Path, output: Path, submission: Submission, kit: Path, hide: list[Path],
                 limits: GradingLimits, scratch_root: Path, forkserver: ProbeForkServer | None = None) -> SubmissionReport:
    """Grade one submission in a warm process of its own; a failure of the grader itself is reported,
    never raised into the batch.

    ``scratch_root`` must be one of the ``hide`` folders: the submission's scratch folder inside
    it is writable by its own code only, and deleted when grading ends. The whole grading may take
    ``limits.submission_seconds``; then its process and everything in its cgroups are killed.
    With the batch's ``forkserver``, its probes are forked warm from it.
    """
    report = SubmissionReport(submission.student_id, notes=list(submission.notes), timestamp=submission.timestamp)
    groups = SubmissionGroups(f"unet-grading-{os.getpid()}-{submission.student_id}",
                              processes=limits.processes, memory_bytes=limits.memory_bytes)
    scratch = submission_scratch(scratch_root)
    grading = Grading(submission, output / "students" / submission.student_id, output, kit, hide, limits,
                      groups, report, scratch, release=template / "release" / ASSIGNMENT / NOTEBOOK_NAME)
    try:
        normalise_step(grading)  # never runs code: a file that is no notebook starts no process
        with groups, contextlib.closing(forkserver.connect()) if forkserver else contextlib.nullcontext() as probes:
            grading.probe_forkserver = probes
            return run_in_warm_process(grade_in_course_copy, (grading, template), limits.submission_seconds)
    except StopGrading as stop:  # from normalise: the steps after it report their own stops
        report.problem = str(stop)
        return report
    except WorkTimedOut:
        return SubmissionReport(submission.student_id, notes=report.notes, timestamp=report.timestamp,
                                problem=f"grading took longer than {limits.submission_seconds:g} s and was stopped")
    except Exception as error:  # noqa: BLE001 - reported in the summary with its type and message
        what = str(error) if isinstance(error, WorkFailed) else f"{type(error).__name__}: {error}"
        return SubmissionReport(submission.student_id, problem=f"the grader failed on this submission "
                                f"({what[:200]}); please report it")
    finally:
        remove_tree(scratch)


def grade_in_course_copy(grading: Grading, template: Path) -> SubmissionReport:
    """In the warm process: this student's copy of the prepared course, then the steps after normalise."""
    student_course(template, grading.course_root)
    return grade_normalised(grading)
