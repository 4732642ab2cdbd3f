"""A term at any size: grading on a real Dask cluster and into one class gradebook.

The cluster is a real ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1; the
gradebooks are the SQLite default and a real PostgreSQL server started for the test (as the
``postgres`` user, which PostgreSQL requires), read back with ``nbgrader export``.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from bench.servers import dask_cluster, postgresql_available, postgresql_server
from grader.reporting.gradebook import default_gradebook_url
from tests.bad_submissions import BAD_SUBMISSIONS
from tests.submissions import MUTANTS, filled_in
from unet_kit.assignment import REPOSITORY_ROOT, STUDENT_NOTEBOOK

pytestmark = pytest.mark.slow

MUTANT = {mutant.name: mutant for mutant in MUTANTS}
CASE = {case.name: case for case in BAD_SUBMISSIONS}


def write_batch(folder: Path, names: list[str]) -> Path:
    """Corpus submissions under the names they have in the test batch, so their grades can be compared."""
    folder.mkdir(parents=True)
    for name in names:
        if name == "solution":
            nbformat.write(filled_in(), folder / "solution.ipynb")
        elif name == "blank":
            shutil.copyfile(STUDENT_NOTEBOOK, folder / "blank.ipynb")
        elif name in MUTANT:
            nbformat.write(MUTANT[name].notebook(), folder / f"{name}.ipynb")
        else:
            CASE[name].write(folder / f"{name}.ipynb", None)
    return folder


def read_grades(output: Path) -> dict[str, dict[str, tuple[float, float]]]:
    grades: dict[str, dict[str, tuple[float, float]]] = {}
    with (output / "grades.csv").open() as handle:
        for row in csv.DictReader(handle):
            student = grades.setdefault(row["student_id"], {})
            assert row["task"] not in student, f"{row['student_id']} {row['task']} written twice"
            student[row["task"]] = (float(row["score"]), float(row["max_score"]))
    return grades


def autograde(submissions: Path, output: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "autograde", str(submissions), "--out", str(output), *options],
                          cwd=REPOSITORY_ROOT, capture_output=True, text=True, timeout=1800)


@pytest.fixture
def cluster(tmp_path):
    with dask_cluster(tmp_path, workers=2) as running:
        yield running


#: One of each kind: full marks, nothing, two mistakes and a cell that hangs (one time-out, on a worker).
MIXED_BATCH = ["solution", "blank", "crop_not_centred", "expanding_nearest_upsampling", "infinite_loop"]


@pytest.mark.compares_with_the_corpus
def test_a_dask_cluster_grades_exactly_as_this_machine_does(request, cluster, tmp_path):
    """A real scheduler and two workers grade one submission of each kind, a hanging one included.

    Over 60 s: each worker prepares its own course and starts its own warm processes, and the
    hanging cell costs its full 30 s time limit on a worker, as it would in a class. It grades
    while the corpus batch still runs, and only then waits for the batch's grades.
    """
    submissions = write_batch(tmp_path / "submissions", MIXED_BATCH)
    completed = autograde(submissions, tmp_path / "out", "--scheduler", cluster.address)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    graded_batch = request.getfixturevalue("graded_batch")
    assert read_grades(tmp_path / "out") == {name: graded_batch.grades[name] for name in MIXED_BATCH}
    assert sorted(path.stem for path in (tmp_path / "out" / "feedback").glob("*.html")) == sorted(MIXED_BATCH)


def wait_until_busy(address: str, worker_name: str, timeout_s: float = 300) -> None:
    """Until the scheduler says ``worker_name`` is running a task."""
    from distributed import Client

    with Client(address, timeout="60s") as client:
        names = {info["name"]: worker for worker, info in client.scheduler_info()["workers"].items()}
        deadline = time.monotonic() + timeout_s
        while not client.processing().get(names[worker_name]) and time.monotonic() < deadline:
            time.sleep(0.5)


def test_a_worker_killed_mid_batch_costs_a_rerun_not_a_submission(cluster, tmp_path):
    """About 60 s: a worker is killed 3 s into its first submission, and the survivor grades all four."""
    names = ["solution", "crop_not_centred", "contracting_average_pool", "feature_map_with_relu"]
    submissions = write_batch(tmp_path / "submissions", names)
    grading = subprocess.Popen([sys.executable, "-m", "grader", "autograde", str(submissions), "--out",
                                str(tmp_path / "out"), "--scheduler", cluster.address], cwd=REPOSITORY_ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    victim = cluster.workers[0]
    wait_until_busy(cluster.address, "worker-0")
    time.sleep(3)  # mid-submission: a worker's first one takes longer (it prepares its course and fork server too)
    os.killpg(victim.pid, signal.SIGKILL)
    output, _ = grading.communicate(timeout=1800)
    assert grading.returncode == 0, output[-3000:]
    grades = read_grades(tmp_path / "out")
    assert sorted(grades) == sorted(names)
    assert all(len(tasks) == 5 for tasks in grades.values())
    assert "not graded" not in output


# -- one class gradebook ---------------------------------------------------------------------------
def exported_totals(course: Path, url: str, tmp_path: Path) -> dict[str, tuple[float, float]]:
    target = tmp_path / f"export-{time.monotonic_ns()}.csv"
    subprocess.run([sys.executable, "-m", "nbgrader", "export", "--db", url, "--to", str(target)], cwd=course,
                   check=True, capture_output=True, timeout=300,
                   env={**os.environ, "PYTHONPATH": str(REPOSITORY_ROOT),
                        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"})
    with target.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len({row["student_id"] for row in rows}) == len(rows), "a student is listed twice"
    return {row["student_id"]: (round(float(row["score"]), 3), float(row["max_score"])) for row in rows}


def totals(grades: dict[str, dict[str, tuple[float, float]]]) -> dict[str, tuple[float, float]]:
    return {student: (round(sum(s for s, _ in tasks.values()), 3), sum(m for _, m in tasks.values()))
            for student, tasks in grades.items()}


def test_nbgrader_export_reads_the_default_sqlite_gradebook(graded_batch, tmp_path):
    output = graded_batch.output
    assert exported_totals(output / "course", default_gradebook_url(output), tmp_path) == totals(graded_batch.grades)


@pytest.fixture
def postgresql() -> str:
    if not postgresql_available():
        pytest.skip("PostgreSQL's initdb and pg_ctl are not on PATH (.ci/run installs them)")
    with postgresql_server() as url:
        yield url


def test_grades_go_into_one_postgresql_gradebook_and_regrading_replaces_them(postgresql, tmp_path):
    submissions = write_batch(tmp_path / "submissions", ["solution", "crop_not_centred"])
    for run in ("first", "again"):  # the second run re-grades both students into the same gradebook
        completed = autograde(submissions, tmp_path / run, "--gradebook", postgresql)
        assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    grades = read_grades(tmp_path / "again")
    assert exported_totals(tmp_path / "again" / "course", postgresql, tmp_path) == totals(grades)
    assert not (tmp_path / "again" / "gradebook.db").exists()
