"""Grade a folder of submissions with real nbgrader: autograde, feedback, export.

Each submission goes through four steps, in its own copy of the course directory (its own
gradebook) and its own cgroups (``grader.cgroups``), so one broken notebook cannot stop the
batch or touch another student's results:

1. ``normalise``: the notebook is read as JSON and rebuilt on the release's skeleton (repairs noted);
2. ``check``: every task is scored in a clean process against a confined probe that runs
   the student's cells; cells that hang or end the process are noted and taken out;
3. ``autograde``: nbgrader runs the notebook in a confined kernel (``grader.jail``) for the
   visible tests' output, then the gradebook receives the checker's scores;
4. ``feedback``: nbgrader writes the feedback, with the hidden checks' results and the notes.

Each step adds to the submission's ``SubmissionReport`` or says why grading stops there.
Course directories live inside the output folder and are rebuilt on every run, which makes
re-runs idempotent. Student code writes only to the submission's scratch folder
(``grader.scratch``), deleted when its grading ends: nothing it wrote reaches the results.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from grader.cgroups import SubmissionGroups
from grader.class_report import write_class_files
from grader.course import (
    ASSIGNMENT,
    GRADING_KERNEL_NAME,
    NOTEBOOK_NAME,
    TASKS,
    NbgraderError,
    create_course,
    generate_assignment,
    run_nbgrader,
)
from grader.gradebook import GRADEBOOK_NAME, default_gradebook_url, record_class_gradebook, set_task_scores
from grader.limits import DEFAULT_LIMITS, GradingLimits
from grader.normalise import describe_cell, normalise, read_json, take_out_cells
from grader.report import BATCH_REPORT_NAME, CheckReport, Confinement, SubmissionReport
from grader.sandbox import grading_policy, launcher_environment, prepare_kit
from grader.scratch import (
    DiskWatchdog,
    copy_plain_file,
    make_scratch,
    remove_special_files,
    remove_stale_scratch,
    remove_tree,
    submission_scratch,
)
from grader.submissions_folder import Submission, find_submissions, folders_beside, gradebook_url

#: Per student: the report the feedback reads.
STUDENT_REPORT_NAME = "submission-report.json"


class ClassGradebookError(RuntimeError):
    """Grading finished but the class gradebook could not be written."""


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
    scratch: Path  # everything student code may write lives here (probe/, kernel/, runtime/)
    notebook: nbformat.NotebookNode | None = None
    disk_limit_hit: bool = False
    release: Path | None = None  # the release notebook, when not in ``course_root``'s release folder

    @property
    def student_id(self) -> str:
        return self.submission.student_id

    @property
    def release_notebook(self) -> Path:
        return self.release or self.course_root / "release" / ASSIGNMENT / NOTEBOOK_NAME


def prepare_course(course_root: Path) -> Path:
    """A fresh course directory whose gradebook knows the assignment and its hidden tests."""
    if course_root.exists():
        shutil.rmtree(course_root)
    generate_assignment(create_course(course_root))
    return course_root


def student_course(template: Path, output: Path, student_id: str) -> Path:
    """This student's private copy of the prepared course."""
    course_root = output / "students" / student_id
    if course_root.exists():
        shutil.rmtree(course_root)
    shutil.copytree(template, course_root)
    return course_root


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
    """Score every task with ``python -m grader.check`` in its own process; note how each cell ran."""
    workdir = grading.course_root / "check"
    workdir.mkdir(parents=True, exist_ok=True)
    notebook, report_file = workdir / NOTEBOOK_NAME, workdir / "check-report.json"
    nbformat.write(grading.notebook, notebook)
    scratch = grading.scratch / "probe"
    command = [sys.executable, "-m", "grader.check", str(notebook), "--workdir", str(workdir),
               "--report", str(report_file), "--kit", str(grading.kit), f"--scratch={scratch}",
               *[f"--hide={path}" for path in grading.hide],
               *[f"--cgroup={folder}" for folder in grading.groups.folders], *grading.limits.to_arguments()]
    try:
        with watch_disk(grading, scratch):
            completed = subprocess.run(command, env=launcher_environment(), capture_output=True, text=True,
                                       timeout=grading.limits.submission_seconds)
    except subprocess.TimeoutExpired as timeout:
        raise StopGrading(f"checking took longer than {grading.limits.submission_seconds:g} s "
                          "and was stopped") from timeout
    finally:
        grading.groups.end_every_process()  # nothing the probe started outlives the check
        remove_tree(scratch)
    if completed.returncode != 0 or not report_file.is_file():
        raise StopGrading("the checker failed: " + _last_error_line(completed.stdout + completed.stderr))
    checked = CheckReport.from_json(report_file.read_text())
    grading.report.tasks = checked.tasks
    grading.report.confinement = [checked.confinement or Confinement(stage="probe")]
    for cell in checked.cells:
        where = describe_cell(grading.notebook, cell.index)
        if cell.stopped:
            grading.report.notes.append(f"{where} was not run: {cell.stopped}")
        elif cell.error:
            grading.report.notes.append(f"{where} raised {cell.error}")
    return checked


def autograde_step(grading: Grading, checked: CheckReport) -> None:
    """nbgrader autograde in the confined kernel, cells the probe took out replaced by a note;
    then the gradebook gets the checker's scores."""
    stopped = {cell.index: cell.stopped for cell in checked.cells if cell.stopped}
    submitted = grading.course_root / "submitted" / grading.student_id / ASSIGNMENT
    submitted.mkdir(parents=True, exist_ok=True)
    nbformat.write(take_out_cells(grading.notebook, stopped), submitted / NOTEBOOK_NAME)
    home, runtime, layers_file = prepare_kernel(grading)
    try:
        with watch_disk(grading, home):
            run_nbgrader(grading.course_root, "autograde", ASSIGNMENT, "--student", grading.student_id,
                         "--create", "--force", f"--Execute.timeout={grading.limits.kernel_cell_seconds:g}",
                         f"--KernelManager.ip={runtime}/kernel", timeout=grading.limits.submission_seconds,
                         environment={"JUPYTER_PATH": str(grading.course_root / "jupyter"),
                                      "JUPYTER_RUNTIME_DIR": str(runtime), "TMPDIR": str(runtime)})
    except subprocess.TimeoutExpired as timeout:
        raise StopGrading(f"no feedback: running the notebook took longer than "
                          f"{grading.limits.submission_seconds:g} s") from timeout
    except NbgraderError as error:
        (grading.course_root / "autograde.log").write_text(str(error))
        raise StopGrading(f"no feedback: nbgrader could not run the notebook "
                          f"({_last_error_line(str(error))})") from error
    finally:
        grading.groups.end_every_process()
        remove_tree(home)
        remove_tree(runtime)
        grading.report.notes.extend(remove_special_files(grading.course_root / "autograded"))
    grading.report.confinement.append(kernel_layers(layers_file))
    record_scores(grading.course_root, grading.report)


def feedback_step(grading: Grading) -> None:
    """This student's HTML feedback, with the hidden checks' results and the notes, into ``output``."""
    report_file = grading.course_root / STUDENT_REPORT_NAME
    report_file.write_text(grading.report.to_json())
    try:
        run_nbgrader(grading.course_root, "generate_feedback", ASSIGNMENT, "--student", grading.student_id,
                     "--force", f"--AddGradingReport.report={report_file}",
                     f"--ShowStudentContentAsText.release={grading.release_notebook}")
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


def grade_one(grading: Grading) -> SubmissionReport:
    """Normalise, check, autograde, feedback; see the module docstring.

    A stop before the checker's scores leaves the submission ungraded with the reason; a stop
    after them keeps the scores and notes why there is no feedback.
    """
    try:
        normalise_step(grading)
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
    """One note when the code filled its scratch folder, in the probe or the kernel."""
    if grading.disk_limit_hit or any(layers.disk_limit_reached for layers in grading.report.confinement):
        note = (f"your code hit the disk limit: it may keep {grading.limits.disk_mb:g} MB "
                f"(and {grading.limits.disk_files:g} files) in its working folder; what it wrote was deleted "
                f"after grading, and your answers were graded for what they earned")
        if note not in grading.report.notes:
            grading.report.notes.append(note)


def prepare_kernel(grading: Grading) -> tuple[Path, Path, Path]:
    """The confined kernel's spec, its home (scratch tmpfs) and its sockets' folder, and where its layers go.

    ZeroMQ runs over Unix sockets (the kernel has no network): their paths must stay short.
    """
    home, runtime = grading.scratch / "kernel", grading.scratch / "runtime"
    runtime.mkdir(mode=0o700)
    layers_file = grading.course_root / "kernel-layers.json"
    write_kernel(grading, home, runtime, layers_file)
    return home, runtime, layers_file


def kernel_layers(layers_file: Path) -> Confinement:
    """The layers the kernel's jail recorded; none held if it never wrote them."""
    return Confinement.load(layers_file) or Confinement(stage="kernel")


def write_kernel(grading: Grading, home: Path, runtime: Path, layers_file: Path) -> None:
    """A kernelspec that starts nbgrader's kernel inside the jail, for this student only.

    The kernel works in ``home`` (its scratch tmpfs), not in nbgrader's autograded folder, and
    may only bind its sockets in ``runtime``: nbgrader's folders hold nbgrader's files alone.
    """
    course_root = grading.course_root
    policy = grading_policy(home, grading.kit, hidden=grading.hide, limits=grading.limits,
                            stage="kernel", layers_file=layers_file, sockets_only=[runtime],
                            cgroups=grading.groups.folders).save(course_root / "kernel-policy.json")
    spec = course_root / "jupyter" / "kernels" / GRADING_KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "grader.jail", str(policy), "--", sys.executable, "-m",
                 "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "U-Net grading (confined)", "language": "python",
        "env": {"PYTHONPATH": launcher_environment()["PYTHONPATH"]},
    }, indent=1))


EXCEPTION_LINE = re.compile(r"^\s*(\w+\.)*\w*(Error|Exception|Exit)\b.*")


def _last_error_line(output: str) -> str:
    """The most telling line of a failed command's output: its last exception, else its last line."""
    lines = output.strip().splitlines() or ["no output"]
    errors = [line.strip() for line in lines if EXCEPTION_LINE.match(line)]
    return (errors[-1] if errors else lines[-1])[:300]


def record_scores(course_root: Path, report: SubmissionReport) -> None:
    """Put the checker's scores into this student's gradebook, over what the kernel's test cells earned."""
    with Gradebook(f"sqlite:///{course_root / GRADEBOOK_NAME}") as gradebook:
        set_task_scores(gradebook, report)


def write_grades(reports: list[SubmissionReport], path: Path) -> None:
    """One row per task per graded student: student_id, task, score, max_score."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "task", "score", "max_score"])
        for report in sorted(reports, key=lambda r: r.student_id):
            for task in filter(None, map(report.task, TASKS)):
                writer.writerow([report.student_id, task.task, f"{task.score:g}", f"{task.points:g}"])


def write_batch_report(reports: list[SubmissionReport], path: Path) -> None:
    """Every submission's report, confinement layers included, for tools and for the record."""
    path.write_text(json.dumps([json.loads(report.to_json()) for report in sorted(reports, key=lambda r: r.student_id)],
                               indent=1))


def summary_table(reports: list[SubmissionReport]) -> str:
    """A plain-text table: one line per student, a column per task, then the total or the problem;
    then the notes, and one warning line if a confinement layer did not hold."""
    reports = sorted(reports, key=lambda r: r.student_id)
    header = ["student", *TASKS, "total"]
    rows = []
    for report in reports:
        if report.problem:
            rows.append([report.student_id, *["-"] * len(TASKS), f"not graded: {report.problem}"])
        else:
            cells = [f"{t.score:g}/{t.points:g}" if (t := report.task(name)) else "?" for name in TASKS]
            rows.append([report.student_id, *cells, f"{report.total:g}/{report.maximum:g}"])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row[:-1], widths)) + "  " + row[-1]
             for row in [header, *rows]]
    notes = [f"  {report.student_id}: {note}" for report in reports for note in report.notes]
    missing = sorted({gap for report in reports for gap in report.missing_layers()})
    warning = [f"WARNING: confinement incomplete on this machine, missing: {', '.join(missing)} "
               f"(see {BATCH_REPORT_NAME} and the README's 'What the grader protects against')"] if missing else []
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:], *(["", "notes:", *notes] if notes else []),
                      *([""] + warning if warning else [])])


def grade_safely(template: Path, output: Path, submission: Submission, kit: Path, hide: list[Path],
                 limits: GradingLimits, scratch_root: Path) -> SubmissionReport:
    """Grade one submission; a failure of the grader itself is reported, never raised into the batch.

    ``scratch_root`` must be one of the ``hide`` folders: the submission's scratch folder inside
    it is writable by its own code only, and deleted when grading ends.
    """
    report = SubmissionReport(submission.student_id, notes=list(submission.notes), timestamp=submission.timestamp)
    groups = SubmissionGroups(f"unet-grading-{os.getpid()}-{submission.student_id}",
                              processes=limits.processes, memory_bytes=limits.memory_bytes)
    scratch = submission_scratch(scratch_root)
    try:
        with groups:
            course_root = student_course(template, output, submission.student_id)
            return grade_one(Grading(submission, course_root, output, kit, hide, limits, groups, report, scratch))
    except Exception as error:  # noqa: BLE001 - reported in the summary with its type and message
        return SubmissionReport(submission.student_id, problem=f"the grader failed on this submission "
                                f"({type(error).__name__}: {str(error)[:200]}); please report it")
    finally:
        remove_tree(scratch)


def grade_here(template: Path, output: Path, submissions: list[Submission], hide: list[Path],
               limits: GradingLimits, progress=None) -> list[SubmissionReport]:
    """Grade on this machine, ``limits.worker_count`` submissions at once, in a scratch folder
    (the kit, each submission's writable folders) that is deleted afterwards."""
    remove_stale_scratch()
    scratch_root = make_scratch("batch")
    try:
        kit = prepare_kit(scratch_root)
        reports = []
        with ThreadPoolExecutor(max_workers=limits.worker_count) as pool:
            futures = [pool.submit(grade_safely, template, output, submission, kit, [*hide, scratch_root], limits,
                                   scratch_root) for submission in submissions]
            finished = as_completed(futures)
            for future in progress(finished, total=len(futures)) if progress else finished:
                reports.append(future.result())
        return reports
    finally:
        remove_tree(scratch_root)


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
    template = prepare_course(output / "course")
    if scheduler:
        from grader.cluster import grade_on_cluster

        reports += grade_on_cluster(submissions, output, scheduler, limits, progress)
        by_id = {submission.student_id: submission for submission in submissions}
        for report in reports:
            if report.student_id in by_id:  # what the folder says, which the workers never saw
                report.notes[:0] = by_id[report.student_id].notes
                report.timestamp = by_id[report.student_id].timestamp
    else:
        reports += grade_here(template, output, submissions, [submissions_folder.resolve(), output.resolve(),
                                                              *folders_beside(submissions_folder)], limits, progress)
    write_grades(reports, output / "grades.csv")
    write_batch_report(reports, output / BATCH_REPORT_NAME)
    write_class_files(reports, output)
    try:
        record_class_gradebook(url, template, reports)
    except Exception as error:  # noqa: BLE001 - every other result is written; say what this one lacks
        raise ClassGradebookError(f"the class gradebook at {url} could not be written "
                                  f"({type(error).__name__}: {_last_error_line(str(error))}); every other "
                                  f"result is in {output}") from error
    return reports
