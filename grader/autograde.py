"""Grade a folder of submissions with real nbgrader: autograde, feedback, export.

Each submission goes through four steps, in its own copy of the course directory (its own
gradebook), so one broken notebook cannot stop the batch or touch another student's results:

1. ``grader.normalise`` rebuilds the notebook on the release's skeleton (repairs noted);
2. ``grader.check`` scores every task in a clean process against a confined probe that runs
   the student's cells; cells that hang or end the process are noted and taken out;
3. nbgrader autogrades the notebook in a confined kernel (``grader.jail``) for the visible
   tests' output, then the gradebook receives the checker's scores;
4. nbgrader writes the feedback, with the hidden checks' results and the notes added.

Course directories live inside the output folder and are rebuilt on every run, which makes
re-runs idempotent.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from grader.course import (
    ASSIGNMENT,
    NOTEBOOK_NAME,
    REPOSITORY_ROOT,
    TASKS,
    TEST_CELL_PREFIX,
    NbgraderError,
    create_course,
    generate_assignment,
    run_nbgrader,
)
from grader.normalise import describe_cell, normalise, read_json, take_out_cells
from grader.sandbox import grading_policy, launcher_environment, prepare_kit

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
#: Wall-clock limits of one student's checker run and nbgrader run, on top of per-cell limits.
CHECK_TIMEOUT_SECONDS = 900
AUTOGRADE_TIMEOUT_SECONDS = 900
KERNEL_NAME = "unet-grading"
REPORT_NAME = "grading-report.json"


@dataclass
class Submission:
    student_id: str
    notebook: Path


@dataclass
class Result:
    """What happened to one submission: per-task scores and notes, or why it was not graded."""

    student_id: str
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)  # task -> (score, max)
    notes: list[str] = field(default_factory=list)
    problem: str | None = None

    @property
    def total(self) -> float:
        return sum(score for score, _ in self.scores.values())


def find_submissions(folder: Path) -> tuple[list[Submission], list[Result]]:
    """``<id>/UNet_Assignment.ipynb`` and ``<id>.ipynb`` entries, plus results for unusable ones."""
    submissions, unusable = [], []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            student_id, notebook = entry.name, entry / NOTEBOOK_NAME
            if not notebook.is_file():
                notebooks = sorted(entry.glob("*.ipynb"))
                if len(notebooks) != 1:
                    unusable.append(Result(student_id, problem=f"no {NOTEBOOK_NAME} in {entry.name}/"))
                    continue
                notebook = notebooks[0]
        elif entry.suffix == ".ipynb":
            student_id, notebook = entry.stem, entry
        else:
            continue
        if not STUDENT_ID.match(student_id):
            unusable.append(Result(student_id, problem="the student id may hold only letters, "
                                   "digits, '.', '_' and '-'"))
            continue
        submissions.append(Submission(student_id, notebook))
    return submissions, unusable


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


def grade_one(course_root: Path, output: Path, submission: Submission, kit: Path, hide: list[Path]) -> Result:
    """Normalise, check, autograde and record one submission; see the module docstring."""
    raw, problem = read_json(submission.notebook)
    if problem:
        return Result(submission.student_id, problem=problem)
    release = nbformat.read(course_root / "release" / ASSIGNMENT / NOTEBOOK_NAME, as_version=4)
    normalised = normalise(raw, release)
    if normalised.problem:
        return Result(submission.student_id, problem=normalised.problem)
    notes = list(normalised.notes)

    workdir = course_root / "check"
    workdir.mkdir(parents=True, exist_ok=True)
    checked = workdir / NOTEBOOK_NAME
    nbformat.write(normalised.notebook, checked)
    report = run_checker(checked, workdir, kit, hide)
    if "error" in report:
        return Result(submission.student_id, notes=notes, problem=report["error"])
    scores = {task: (float(r["score"]), float(r["points"])) for task, r in report["tasks"].items()}
    stopped = {cell["index"]: cell["stopped"] for cell in report["cells"] if cell["stopped"]}
    for cell in report["cells"]:
        where = describe_cell(normalised.notebook, cell["index"])
        if cell["stopped"]:
            notes.append(f"{where} was not run: {cell['stopped']}")
        elif cell["error"]:
            notes.append(f"{where} raised {cell['error']}")

    submitted = course_root / "submitted" / submission.student_id / ASSIGNMENT
    submitted.mkdir(parents=True, exist_ok=True)
    nbformat.write(take_out_cells(normalised.notebook, stopped), submitted / NOTEBOOK_NAME)
    write_kernel(course_root, submission.student_id, kit, hide)
    try:
        run_nbgrader(course_root, "autograde", ASSIGNMENT, "--student", submission.student_id,
                     "--create", "--force", timeout=AUTOGRADE_TIMEOUT_SECONDS,
                     environment={"JUPYTER_PATH": str(course_root / "jupyter")})
        record_scores(course_root, submission.student_id, scores)
        (course_root / REPORT_NAME).write_text(json.dumps({"tasks": report["tasks"], "notes": notes}, indent=1))
        if write_feedback(course_root, output, submission.student_id) is None:
            notes.append("no feedback: nbgrader could not write it")
    except subprocess.TimeoutExpired:
        notes.append(f"no feedback: running the notebook took longer than {AUTOGRADE_TIMEOUT_SECONDS} s")
    except NbgraderError as error:
        (course_root / "autograde.log").write_text(str(error))
        notes.append(f"no feedback: nbgrader could not run the notebook ({_last_error_line(str(error))})")
    return Result(submission.student_id, scores=scores, notes=notes)


def run_checker(notebook: Path, workdir: Path, kit: Path, hide: list[Path]) -> dict:
    """``python -m grader.check`` in its own process; its report, or ``{"error": why}``."""
    report = workdir / "check-report.json"
    command = [sys.executable, "-m", "grader.check", str(notebook), "--workdir", str(workdir),
               "--report", str(report), "--kit", str(kit), *[f"--hide={path}" for path in hide]]
    try:
        completed = subprocess.run(command, env=launcher_environment(), capture_output=True, text=True,
                                   timeout=CHECK_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return {"error": f"checking took longer than {CHECK_TIMEOUT_SECONDS} s and was stopped"}
    if completed.returncode != 0 or not report.is_file():
        return {"error": "the checker failed: " + _last_error_line(completed.stdout + completed.stderr)}
    return json.loads(report.read_text())


def write_kernel(course_root: Path, student_id: str, kit: Path, hide: list[Path]) -> None:
    """A kernelspec that starts nbgrader's kernel inside the jail, for this student only."""
    home = course_root / "kernel-home"
    autograded = course_root / "autograded" / student_id / ASSIGNMENT
    autograded.mkdir(parents=True, exist_ok=True)
    policy = grading_policy(home, kit, hidden=hide, writable=[autograded]).save(course_root / "kernel-policy.json")
    spec = course_root / "jupyter" / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "grader.jail", str(policy), "--", sys.executable, "-m",
                 "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "U-Net grading (confined)", "language": "python",
        "env": {"PYTHONPATH": str(REPOSITORY_ROOT)},
    }, indent=1))


EXCEPTION_LINE = re.compile(r"^\s*(\w+\.)*\w*(Error|Exception|Exit)\b.*")


def _last_error_line(output: str) -> str:
    """The most telling line of a failed command's output: its last exception, else its last line."""
    lines = output.strip().splitlines() or ["no output"]
    errors = [line.strip() for line in lines if EXCEPTION_LINE.match(line)]
    return (errors[-1] if errors else lines[-1])[:300]


def record_scores(course_root: Path, student_id: str, scores: dict[str, tuple[float, float]]) -> None:
    """Put the checker's scores into the gradebook, over what the kernel's test cells earned."""
    database = f"sqlite:///{course_root / 'gradebook.db'}"
    with Gradebook(database) as gradebook:
        for task, (score, _) in scores.items():
            grade = gradebook.find_grade(f"{TEST_CELL_PREFIX}{task}", NOTEBOOK_NAME.removesuffix(".ipynb"),
                                         ASSIGNMENT, student_id)
            grade.auto_score = score
        gradebook.db.commit()


def write_feedback(course_root: Path, output: Path, student_id: str) -> Path | None:
    """Generate this student's HTML feedback (with the hidden checks' results) into ``output``."""
    try:
        run_nbgrader(course_root, "generate_feedback", ASSIGNMENT, "--student", student_id, "--force",
                     f"--AddGradingReport.report={course_root / REPORT_NAME}")
    except NbgraderError:
        return None
    html = course_root / "feedback" / student_id / ASSIGNMENT / NOTEBOOK_NAME.replace(".ipynb", ".html")
    if not html.is_file():
        return None
    target = output / "feedback" / f"{student_id}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(html, target)
    return target


def write_grades(results: list[Result], path: Path) -> None:
    """One row per task per graded student: student_id, task, score, max_score."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "task", "score", "max_score"])
        for result in sorted(results, key=lambda r: r.student_id):
            for task in TASKS:
                if task in result.scores:
                    score, max_score = result.scores[task]
                    writer.writerow([result.student_id, task, f"{score:g}", f"{max_score:g}"])


def summary_table(results: list[Result]) -> str:
    """A plain-text table: one line per student, a column per task, then the total or the problem."""
    header = ["student", *TASKS, "total"]
    rows = []
    for result in sorted(results, key=lambda r: r.student_id):
        if result.problem:
            rows.append([result.student_id, *["-"] * len(TASKS), f"not graded: {result.problem}"])
        else:
            cells = [f"{result.scores[t][0]:g}/{result.scores[t][1]:g}" if t in result.scores else "?"
                     for t in TASKS]
            maximum = sum(m for _, m in result.scores.values())
            rows.append([result.student_id, *cells, f"{result.total:g}/{maximum:g}"])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row[:-1], widths)) + "  " + row[-1]
             for row in [header, *rows]]
    notes = [f"  {result.student_id}: {note}" for result in sorted(results, key=lambda r: r.student_id)
             for note in result.notes]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:], *(["", "notes:", *notes] if notes else [])])


def grade_safely(template: Path, output: Path, submission: Submission, kit: Path, hide: list[Path]) -> Result:
    """Grade one submission; a failure of the grader itself is reported, never raised into the batch."""
    try:
        course_root = student_course(template, output, submission.student_id)
        return grade_one(course_root, output, submission, kit, hide)
    except Exception as error:  # noqa: BLE001 - reported in the summary with its type and message
        return Result(submission.student_id, problem=f"the grader failed on this submission "
                      f"({type(error).__name__}: {str(error)[:200]}); please report it")


def autograde_folder(submissions_folder: Path, output: Path, workers: int | None = None,
                     progress=None) -> list[Result]:
    """Grade every submission in ``submissions_folder``; write grades.csv and feedback to ``output``."""
    output.mkdir(parents=True, exist_ok=True)
    for stale in ("feedback", "students"):
        shutil.rmtree(output / stale, ignore_errors=True)
    template = prepare_course(output / "course")
    kit = prepare_kit(output)
    hide = [submissions_folder.resolve(), output.resolve()]
    submissions, results = find_submissions(submissions_folder)
    workers = workers or len(os.sched_getaffinity(0))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(grade_safely, template, output, submission, kit, hide)
                   for submission in submissions]
        finished = as_completed(futures)
        for future in progress(finished, total=len(futures)) if progress else finished:
            results.append(future.result())
    write_grades(results, output / "grades.csv")
    return results
