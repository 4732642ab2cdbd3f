"""A term at scale: submissions per minute here and through Dask, and the class gradebook's cost per student.

Grading runs are ``python -m grader autograde`` as an instructor types it, on copies of a
perfect submission: the local pool, then a real Dask cluster on loopback with one and with two
workers. The gradebook cost is the time to record one student into the class gradebook
(SQLite, and PostgreSQL where a server can be started), the assignment's own set-up excluded.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from bench.grading_cost import perfect_submission
from bench.servers import dask_cluster, postgresql_available, postgresql_server
from grader.course.course_directory import prepare_course
from grader.report import SubmissionReport, TaskResult
from grader.reporting.gradebook import default_gradebook_url, prepare_class_gradebook, record_students
from unet_kit.assignment import REPOSITORY_ROOT, TASKS


def _autograde_seconds(submissions: Path, output: Path, options: list[str], timeout: float) -> float:
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-m", "grader", "autograde", str(submissions), "--out", str(output),
                                *options], cwd=REPOSITORY_ROOT, capture_output=True, text=True, timeout=timeout)
    if completed.returncode != 0:
        raise RuntimeError(f"autograde {' '.join(options)} failed: {(completed.stdout + completed.stderr)[-1500:]}")
    return time.perf_counter() - started


def grading_throughput(count: int, timeout: float) -> list[dict]:
    """Seconds and submissions per minute for the local pool (2 workers) and Dask with 1 and 2 workers."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as scratch:
        root = Path(scratch)
        submissions = root / "submissions"
        submissions.mkdir()
        notebook = perfect_submission()
        for index in range(count):
            nbformat.write(notebook, submissions / f"student{index:03d}.ipynb")
        runs = [("local pool", 2, None), ("Dask", 1, 1), ("Dask", 2, 2)]
        for mode, workers, cluster_workers in runs:
            output = root / f"out-{mode}-{workers}".replace(" ", "-")
            if cluster_workers is None:
                seconds = _autograde_seconds(submissions, output, ["--workers", str(workers)], timeout)
            else:
                folder = root / f"cluster-{workers}"
                folder.mkdir()
                with dask_cluster(folder, cluster_workers) as cluster:
                    seconds = _autograde_seconds(submissions, output, ["--scheduler", cluster.address], timeout)
            rows.append({"mode": mode, "workers": workers, "submissions": count, "seconds": seconds,
                         "per_minute": 60 * count / seconds})
    return rows


def _full_marks(student_id: str) -> SubmissionReport:
    return SubmissionReport(student_id, tasks=[TaskResult(task, points=1.0, score=1.0) for task in TASKS])


def gradebook_cost(students: int) -> dict[str, float]:
    """Seconds per student recorded into the class gradebook, by database."""
    costs = {}
    with tempfile.TemporaryDirectory(prefix="gradebook-bench-") as scratch:
        course = prepare_course(Path(scratch) / "course")
        reports = [_full_marks(f"student{index:03d}") for index in range(students)]

        def per_student(url: str) -> float:
            prepare_class_gradebook(url, course)  # the assignment: set up once a term, not per student
            started = time.perf_counter()
            record_students(url, reports)
            return (time.perf_counter() - started) / students

        costs["SQLite"] = per_student(default_gradebook_url(Path(scratch)))
        if postgresql_available():
            with postgresql_server() as url:
                costs["PostgreSQL"] = per_student(url)
    return costs


def throughput_table(rows: list[dict]) -> str:
    lines = ["| grading on | workers | submissions | seconds | submissions per minute |", "|---|---|---|---|---|"]
    lines += [f"| {row['mode']} | {row['workers']} | {row['submissions']} | {row['seconds']:.1f} | {row['per_minute']:.2f} |"
              for row in rows]
    return "\n".join(lines)


def gradebook_table(costs: dict[str, float], students: int) -> str:
    lines = [f"| class gradebook | ms per student ({students} students) |", "|---|---|"]
    lines += [f"| {database} | {1000 * seconds:.1f} |" for database, seconds in costs.items()]
    return "\n".join(lines)
