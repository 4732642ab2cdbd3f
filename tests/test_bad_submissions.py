"""Bad submissions are graded for what their code earned, explained, and harm nobody else.

The cases live in ``tests/bad_submissions.py``; they are graded in the shared batch of
``tests/batch.py`` (with the mutants they are compared against).
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader.confinement.jail import landlock_abi
from grader.confinement.scratch import SCRATCH_PREFIX
from grader.report import BATCH_REPORT_NAME, Confinement, SubmissionReport
from grader.reporting.feedback import REMOVED_OUTPUT
from tests.bad_submissions import (
    BAD_SUBMISSIONS,
    FILLER_NAME,
    HIDDEN_TEST_MARKERS,
    SLEEPER_MARKS,
    XSS_MARK,
    targets_outside,
)
from tests.batch import FULL_MARKS, MAX_POINTS, PLANTED_SECRET, SECRET, file_hash

pytestmark = pytest.mark.slow  # every test here reads the graded batch

GRADED = [case for case in BAD_SUBMISSIONS if not case.not_graded]
needs_landlock = pytest.mark.skipif(landlock_abi() == 0, reason="this kernel has no Landlock: the grader "
                                    "cannot confine file access here (see the README)")


def expected_scores(case, grades) -> dict[str, tuple[float, float]]:
    expected = dict(FULL_MARKS)
    for task, score in case.scores.items():
        if isinstance(score, str):  # "as <mutant>": what the plain wrong answer earns
            expected[task] = grades[score.removeprefix("as ")][task]
        else:
            expected[task] = (score, float(MAX_POINTS[task]))
    return expected


@pytest.mark.parametrize("case", GRADED, ids=lambda case: case.name)
def test_bad_submission_gets_what_its_code_earned(graded_batch, case):
    if case.needs_signal_scoping and landlock_abi() < 6:
        pytest.skip("this kernel's Landlock cannot stop signals to the grader (needs ABI 6)")
    assert graded_batch.grades.get(case.name) == expected_scores(case, graded_batch.grades)


@pytest.mark.parametrize("case", [c for c in BAD_SUBMISSIONS if c.not_graded], ids=lambda case: case.name)
def test_unusable_file_is_reported_with_its_reason(graded_batch, case):
    assert case.name not in graded_batch.grades
    (line,) = graded_batch.summary_lines(case.name)
    assert "not graded" in line and case.not_graded in line


@pytest.mark.parametrize("case", [c for c in GRADED if c.note], ids=lambda case: case.name)
def test_repair_or_stop_is_explained_in_summary_and_feedback(graded_batch, case):
    assert any(case.note in line for line in graded_batch.summary_lines(case.name)), graded_batch.summary_lines(case.name)
    feedback = (graded_batch.output / "feedback" / f"{case.name}.html").read_text()
    assert "Notes from the grader" in feedback and case.note in feedback


@needs_landlock
def test_reading_the_hidden_tests_is_refused_and_nothing_leaks(graded_batch):
    feedback = (graded_batch.output / "feedback" / "reads_hidden_tests.html").read_text()
    assert "could not read" in feedback and "Permission denied" in feedback
    assert not any(marker in feedback for marker in HIDDEN_TEST_MARKERS)


@needs_landlock
def test_writing_outside_its_own_output_changes_nothing(graded_batch):
    feedback = (graded_batch.output / "feedback" / "writes_elsewhere.html").read_text()
    assert "could not write" in feedback and "wrote /" not in feedback
    for path, before in graded_batch.hashes_before.items():
        assert file_hash(path) == before, f"{path} was changed"
    for path in targets_outside(graded_batch.batch, "writes_elsewhere"):
        assert b"tampered" not in (path.read_bytes() if path.is_file() else b""), f"{path} was written"
    assert graded_batch.grades["solution"] == FULL_MARKS



# -- confinement: what a submission can reach beyond its files -------------------------------------
def layers_of(graded_batch, student: str) -> list[Confinement]:
    reports = json.loads((graded_batch.output / BATCH_REPORT_NAME).read_text())
    (report,) = [SubmissionReport.from_dict(r) for r in reports if r["student_id"] == student]
    return report.confinement


def test_grading_report_records_the_layers_of_the_one_confined_run(graded_batch):
    layers = layers_of(graded_batch, "solution")
    assert [layer.stage for layer in layers] == ["probe"]  # the notebook runs once: nbgrader executes nothing
    assert all(layer.landlock_abi == landlock_abi() for layer in layers)
    missing = sorted({gap for layer in layers for gap in layer.missing()})
    warning = [line for line in graded_batch.summary.splitlines() if line.startswith("WARNING: confinement")]
    assert warning == ([f"WARNING: confinement incomplete on this machine, missing: {', '.join(missing)} "
                        f"(see {BATCH_REPORT_NAME} and the README's 'What the grader protects against')"]
                       if missing else [])


def test_no_variable_of_the_graders_environment_reaches_the_output(graded_batch):
    feedback = (graded_batch.output / "feedback" / "dumps_environment.html").read_text()
    assert "my environment: {" in feedback  # the dump ran in the probe, and its output is there
    leaks = [path for path in graded_batch.output.rglob("*")
             if path.is_file() and SECRET.encode() in path.read_bytes()]
    assert leaks == []


def test_a_socket_to_the_graders_machine_reaches_nothing(graded_batch):
    if not any(layer.network_namespace or layer.landlock_tcp for layer in layers_of(graded_batch, "solution")):
        pytest.skip("neither a network namespace nor Landlock TCP rules are available here")
    feedback = (graded_batch.output / "feedback" / "connects_to_the_grader.html").read_text()
    assert feedback.count("could not connect: [Errno") == 2  # TCP and UDP, both refused
    assert "sent SocketKind" not in feedback
    assert graded_batch.reached_the_listener == []


def test_no_process_a_submission_started_outlives_the_batch(graded_batch):
    (row,) = graded_batch.summary_lines("leaves_sleepers")  # no note: the sleepers were started
    survivors = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            arguments = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if any(mark.encode() in arguments for mark in SLEEPER_MARKS):
            survivors.append(b" ".join(arguments).decode())
    assert survivors == []


def test_a_fork_bomb_stops_at_the_submissions_process_cap(graded_batch):
    caps = {layer.process_cap for layer in layers_of(graded_batch, "fork_bomb")}
    if caps == {0}:
        pytest.skip("no pids cgroup here: the fork bomb ran uncapped (bounded at 2000)")
    feedback = (graded_batch.output / "feedback" / "fork_bomb.html").read_text()
    assert re.search(r"fork stopped after \d+ processes: \[Errno 11\] Resource temporarily unavailable", feedback)


class _LiveContent(HTMLParser):
    """Collects every place where a page could run the mark: tags, attributes, script bodies."""

    def __init__(self):
        super().__init__()
        self.live: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attributes):
        self.in_script = tag == "script"
        for name, value in attributes:
            if name.startswith("on") or XSS_MARK in (value or ""):
                self.live.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        self.in_script = False

    def handle_data(self, data):
        if self.in_script and (XSS_MARK in data or "alert(" in data):
            self.live.append(f"<script>{data[:100]}")


def test_html_and_scripts_a_submission_displays_reach_the_feedback_as_text(graded_batch):
    page = (graded_batch.output / "feedback" / "html_and_scripts.html").read_text()
    parser = _LiveContent()
    parser.feed(page)
    assert parser.live == []
    assert REMOVED_OUTPUT in page  # the reader is told what was left out
    assert "A cell you wrote, shown as text" in page  # the markdown and raw cells, as text



# -- what a submission leaves behind ---------------------------------------------------------------
LEAVERS = ("leaves_links", "leaves_fifo_and_hard_link", "fills_the_disk")


def entries_under(folder: Path):
    """Every entry under ``folder`` with its lstat, links never followed."""
    for parent, folders, files in os.walk(folder):
        for name in folders + files:
            path = Path(parent) / name
            yield path, path.lstat()


def test_no_byte_of_a_file_a_link_points_at_reaches_the_output(graded_batch):
    assert "linked shadow" in (graded_batch.output / "feedback" / "leaves_links.html").read_text()  # the links were made
    leaks = [path for path, info in entries_under(graded_batch.output)
             if stat.S_ISREG(info.st_mode) and PLANTED_SECRET.encode() in path.read_bytes()]
    assert leaks == []


def test_the_output_holds_only_plain_files_and_folders(graded_batch):
    secret = graded_batch.batch.planted_secret.stat()
    special = [str(path) for path, info in entries_under(graded_batch.output)
               if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode))
               or (info.st_dev, info.st_ino) == (secret.st_dev, secret.st_ino)]
    assert special == []


def test_what_a_submission_wrote_is_gone_after_the_batch(graded_batch):
    report = graded_batch.reports["fills_the_disk"]
    if not any(layer.disk_limit_bytes for layer in report.confinement):
        pytest.skip("no scratch tmpfs here: the watchdog stopped the filler (its note is checked with the others)")
    feedback = (graded_batch.output / "feedback" / "fills_the_disk.html").read_text()
    assert re.search(r"the filler stopped after [12] files: \[Errno 28\] No space left on device", feedback)
    assert not [path for path, _ in entries_under(graded_batch.output.parent) if FILLER_NAME in path.name]
    leftovers = [path.name for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-{graded_batch.grader_pid}-*")]
    assert leftovers == []


@pytest.mark.parametrize("student", LEAVERS)
def test_a_submissions_results_folder_stays_small(graded_batch, student):
    size = sum(info.st_size for _, info in entries_under(graded_batch.output / "students" / student))
    assert size < 5 * 2**20, f"{student}: {size / 2**20:.1f} MB"
