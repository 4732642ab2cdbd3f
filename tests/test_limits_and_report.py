"""The limits' one home and the typed report that crosses process boundaries."""

from __future__ import annotations

import argparse

from grader.limits import DEFAULT_LIMITS, GradingLimits, limits_table
from grader.report import CellOutcome, CheckReport, CheckResult, Confinement, SubmissionReport, TaskResult
from unet_kit.assignment import REPOSITORY_ROOT


def test_readme_lists_the_limits_as_the_code_defines_them():
    assert limits_table() in (REPOSITORY_ROOT / "README.md").read_text()


def test_every_limit_is_an_option_and_survives_the_trip_to_a_child_process():
    parser = argparse.ArgumentParser()
    GradingLimits.add_arguments(parser)
    changed = GradingLimits(cell_seconds=5.0, memory_gb=2.5, processes=16)
    assert GradingLimits.from_arguments(parser.parse_args(changed.to_arguments())) == changed
    assert GradingLimits.from_arguments(parser.parse_args([])) == DEFAULT_LIMITS


def test_memory_limit_in_bytes_follows_gigabytes():
    assert GradingLimits(memory_gb=1.5).memory_bytes == 3 * 2**29


def _task(score: float, passed: int, failed: int) -> TaskResult:
    checks = [CheckResult(f"check_{i}", True) for i in range(passed)]
    checks += [CheckResult(f"wrong_{i}", False, reason=f"reason {i}") for i in range(failed)]
    return TaskResult("crop", points=2.0, score=score, checks=checks)


def test_task_summary_counts_checks_and_names_each_failure():
    assert _task(1.0, passed=1, failed=1).summary() == (
        "1 of 2 hidden checks passed: 1 of 2 points\n  failed wrong_0: reason 0")


def test_check_report_round_trips_through_json():
    report = CheckReport(tasks=[_task(1.0, 1, 1)], cells=[CellOutcome(3, error="NameError: x"), CellOutcome(4)],
                         confinement=Confinement(stage="probe", landlock_abi=7, pid_namespace=True))
    assert CheckReport.from_json(report.to_json()) == report


def test_submission_report_round_trips_and_totals_its_tasks():
    report = SubmissionReport("ada", tasks=[_task(1.5, 3, 1)], notes=["a note"],
                              confinement=[Confinement(stage="kernel", process_cap=128)])
    again = SubmissionReport.from_json(report.to_json())
    assert again == report and (again.total, again.maximum) == (1.5, 2.0)


def test_missing_layers_name_what_did_not_hold():
    complete = Confinement(landlock_abi=7, landlock_tcp=True, network_namespace=True, pid_namespace=True,
                           process_cap=128, memory_cgroup_bytes=2**30, disk_limit_bytes=2**29)
    assert complete.missing() == []
    assert Confinement(landlock_abi=0, landlock_tcp=False).missing() == [
        "file confinement (Landlock)", "network isolation", "process clean-up (PID namespace)",
        "process cap (pids cgroup)", "memory per submission (memory cgroup)", "disk limit (scratch tmpfs)"]


def test_disk_limit_reaches_the_jail_as_a_tmpfs_over_the_only_writable_folder(tmp_path):
    from grader.confinement.policy import grading_policy

    limits = GradingLimits(disk_mb=64, disk_files=99)
    policy = grading_policy(tmp_path / "home", tmp_path / "kit", hidden=[], limits=limits, stage="probe",
                            layers_file=tmp_path / "layers.json")
    home = str(tmp_path / "home")
    assert (policy.disk_bytes, policy.disk_files) == (64 * 2**20, 99)
    assert policy.writable == policy.scratch == [home] and policy.workdir == home


def test_unreadable_layers_file_means_unknown_layers(tmp_path):
    (tmp_path / "layers.json").write_text("{not json")
    assert Confinement.load(tmp_path / "layers.json") is None
    assert Confinement.load(tmp_path / "absent.json") is None
