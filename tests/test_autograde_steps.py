"""The batch's plain parts, fed directly: finding submissions, the summary, grades.csv, the CLI's refusals."""

from __future__ import annotations

import csv
import json

import pytest

from grader.__main__ import main
from grader.course.submissions import find_submissions
from grader.report import CheckResult, Confinement, SubmissionReport, TaskResult
from grader.reporting.batch_files import summary_table, write_batch_report, write_grades
from grader.reporting.class_report import CHECKS_CSV, CLASS_REPORT, CheckRow, write_checks_csv
from unet_kit.assignment import NOTEBOOK_NAME

EVERY_LAYER = Confinement(stage="probe", landlock_abi=7, landlock_tcp=True, network_namespace=True,
                          pid_namespace=True, private_proc=True, process_cap=128, memory_cgroup_bytes=2**30,
                          disk_limit_bytes=2**29)


def test_submissions_are_found_as_files_or_folders_and_bad_names_are_reported(tmp_path):
    (tmp_path / "ada.ipynb").write_text("{}")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / NOTEBOOK_NAME).write_text("{}")
    (tmp_path / "cy").mkdir()
    (tmp_path / "cy" / "renamed.ipynb").write_text("{}")
    (tmp_path / "dee").mkdir()
    (tmp_path / "bad name.ipynb").write_text("{}")
    (tmp_path / ".hidden.ipynb").write_text("{}")
    (tmp_path / "notes.txt").write_text("")
    submissions, unusable = find_submissions(tmp_path)
    assert [(s.student_id, s.notebook.name) for s in submissions] == [
        ("ada", "ada.ipynb"), ("bob", NOTEBOOK_NAME), ("cy", "renamed.ipynb")]
    assert {(r.student_id, r.problem.split(":")[0]) for r in unusable} == {
        ("bad name", "the file name is the student id, which may hold only letters, digits, '.', '_' and '-'"),
        ("dee", f"no {NOTEBOOK_NAME} in dee/")}


def report(student: str, score: float, layers: Confinement = EVERY_LAYER, **fields) -> SubmissionReport:
    return SubmissionReport(student, tasks=[TaskResult("crop", 2.0, score, [CheckResult("a", score == 2.0)])],
                            confinement=[layers], **fields)


def test_summary_lists_scores_problems_and_notes_and_warns_once_when_a_layer_is_missing():
    weak = Confinement(stage="kernel", landlock_abi=0)
    reports = [report("ada", 2.0), report("bob", 1.0, weak, notes=["cell 3 raised NameError"]),
               SubmissionReport("cy", problem="the file is empty")]
    lines = summary_table(reports).splitlines()
    assert lines[2].startswith("ada ") and "2/2" in lines[2] and lines[2].endswith("2/2")
    assert lines[4].startswith("cy ") and lines[4].endswith("not graded: the file is empty")
    assert "  bob: cell 3 raised NameError" in lines
    (warning,) = [line for line in lines if line.startswith("WARNING")]
    assert "file confinement (Landlock)" in warning and "process cap (pids cgroup)" in warning
    assert not any(line.startswith("WARNING") for line in summary_table([report("ada", 2.0)]).splitlines())


def test_grades_csv_has_a_row_per_task_of_each_graded_student_and_the_report_has_everyone(tmp_path):
    reports = [report("bob", 1.0), report("ada", 2.0), SubmissionReport("cy", problem="empty")]
    write_grades(reports, tmp_path / "grades.csv")
    with (tmp_path / "grades.csv").open() as handle:
        assert list(csv.reader(handle)) == [["student_id", "task", "score", "max_score"],
                                            ["ada", "crop", "2", "2"], ["bob", "crop", "1", "2"]]
    write_batch_report(reports, tmp_path / "grading-report.json")
    saved = [SubmissionReport.from_dict(data) for data in json.loads((tmp_path / "grading-report.json").read_text())]
    assert saved == sorted(reports, key=lambda r: r.student_id)


def test_the_class_report_command_rebuilds_the_page_from_checks_csv(tmp_path):
    write_checks_csv([CheckRow("ada", "crop", "a", True), CheckRow("bob", "crop", "a", False, "crop.top_left_window")],
                     tmp_path / CHECKS_CSV)
    assert main(["report", str(tmp_path)]) == 0
    page = (tmp_path / CLASS_REPORT).read_text()
    assert "crop.top_left_window" in page and "2 students graded" in page


def test_the_commands_refuse_what_they_cannot_use_with_a_reason(tmp_path, capsys):
    with pytest.raises(SystemExit, match="no checks.csv in"):
        main(["report", str(tmp_path)])
    assert main(["autograde", str(tmp_path / "absent"), "--out", str(tmp_path / "out")]) == 2
    assert "is not a folder of submissions" in capsys.readouterr().err
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("")
    with pytest.raises(SystemExit, match="not empty"):
        main(["release", str(tmp_path / "used"), "--repository", "https://github.com/a/b"])


@pytest.mark.slow  # the whole command: both fork servers start and import torch
def test_a_batch_in_which_nothing_could_be_graded_exits_with_an_error(tmp_path, capsys):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    (submissions / "ada.ipynb").write_text('{"cells": [')
    (submissions / "bob.ipynb").write_text("")
    assert main(["autograde", str(submissions), "--out", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    assert "error: no submission could be graded" in captured.err
    assert "not graded: the file is empty" in captured.out
    assert (tmp_path / "out" / "grades.csv").read_text().strip() == "student_id,task,score,max_score"


def test_on_a_cluster_the_notebook_travels_as_bytes_and_the_report_comes_back(tmp_path):
    from distributed import LocalCluster

    from grader.cluster import grade_on_cluster
    from grader.course.submissions import Submission
    from grader.limits import DEFAULT_LIMITS

    broken = tmp_path / "ada.ipynb"
    broken.write_text('{"cells": [')
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        broken_reports = grade_on_cluster([Submission("ada", broken)], tmp_path / "out", cluster.scheduler_address,
                                          DEFAULT_LIMITS)
    assert [(r.student_id, r.problem) for r in broken_reports] == [
        ("ada", "the file is not a readable notebook (broken JSON at line 1, column 12)")]
    assert not (tmp_path / "out" / "feedback").exists()  # nothing to show, nothing written
