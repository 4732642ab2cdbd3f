"""The jail itself, around tiny programs: each layer is seen from inside, and what it reports held.

These run ``python -m grader.confinement.jail`` for real (no nbgrader, no torch); a layer this machine
cannot give (no Landlock, no namespaces, no cgroups) is skipped with the reason, as the
grading report would record it missing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.confinement.cgroups import SubmissionGroups
from grader.confinement.jail import Policy, landlock_abi
from grader.report import Confinement
from tests.bad_submissions import FORK_BOMB
from unet_kit.assignment import REPOSITORY_ROOT

SECRET = "jail-test-secret-5b8e"
PROGRAM_TIMEOUT_S = 60


def run_jailed(tmp_path: Path, source: str, **policy_fields) -> tuple[subprocess.CompletedProcess, Confinement]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    policy = Policy(hidden=[str(REPOSITORY_ROOT), str(tmp_path / "hidden")], writable=[str(home)],
                    environment={"PATH": "/usr/bin:/bin", "HOME": str(home)}, stage="test",
                    layers_file=str(tmp_path / "layers.json"), **policy_fields).save(tmp_path / "policy.json")
    (tmp_path / "hidden").mkdir(exist_ok=True)
    program = tmp_path / "program.py"  # beside the home folder: a scratch tmpfs would cover it
    program.write_text(source)
    completed = subprocess.run([sys.executable, "-m", "grader.confinement.jail", str(policy), "--", "/usr/bin/python3", str(program)],
                               env={**os.environ, "PYTHONPATH": str(REPOSITORY_ROOT), "COURSE_TOKEN": SECRET},
                               capture_output=True, text=True, timeout=PROGRAM_TIMEOUT_S)
    return completed, Confinement.load(tmp_path / "layers.json")


def test_the_program_sees_only_the_policys_environment_and_its_own_processes(tmp_path):
    completed, layers = run_jailed(tmp_path, """\
import glob, os
print(sorted(set(os.environ) - {"LC_CTYPE"}))
for path in glob.glob("/proc/[0-9]*/environ"):
    print(open(path, "rb").read())
""")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[0] == "['HOME', 'PATH']"
    assert SECRET not in completed.stdout
    if not layers.private_proc:
        pytest.skip("no mount and PID namespace here: other processes stay visible (Landlock still hides their environ)")
    assert completed.stdout.count("/proc/") == 0 and completed.stdout.count("b'") == 2  # init and the program


def test_no_socket_reaches_the_loopback(tmp_path):
    completed, layers = run_jailed(tmp_path, """\
import socket
for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
    try:
        with socket.socket(socket.AF_INET, kind) as channel:
            channel.settimeout(2)
            channel.connect(("127.0.0.1", 9))
            channel.send(b"x")
        print("reached")
    except OSError as error:
        print("refused:", error.errno)
""")
    if not (layers.network_namespace or layers.landlock_tcp):
        pytest.skip("neither a network namespace nor Landlock TCP rules here")
    assert completed.stdout.count("refused:") == 2 and "reached" not in completed.stdout


def test_the_hidden_folders_cannot_be_read(tmp_path):
    if landlock_abi() == 0:
        pytest.skip("no Landlock on this kernel")
    completed, _ = run_jailed(tmp_path, f"""\
try:
    open({str(REPOSITORY_ROOT / 'README.md')!r}).read()
    print("read it")
except PermissionError:
    print("refused")
""")
    assert completed.stdout.strip() == "refused"


def test_a_process_left_behind_ends_with_the_program(tmp_path):
    mark = "4242.125"
    completed, layers = run_jailed(tmp_path, f"""\
import subprocess
subprocess.Popen(["sleep", "{mark}"], start_new_session=True)
print("left a sleeper")
""")
    assert completed.stdout.strip() == "left a sleeper"
    if not layers.pid_namespace:
        pytest.skip("no PID namespace here: the grader's cgroup clean-up is what ends such processes")
    time.sleep(0.5)
    survivors = [path for path in Path("/proc").glob("[0-9]*/cmdline")
                 if mark.encode() in path.read_bytes().split(b"\0")] if Path("/proc").is_dir() else []
    assert survivors == []


def test_a_fork_bomb_stops_at_the_groups_process_cap_and_the_layers_say_so(tmp_path):
    with SubmissionGroups(f"unet-jail-test-{os.getpid()}", processes=24, memory_bytes=2**30) as groups:
        if not groups.folders:
            pytest.skip("no cgroup accepts a new group here (needs root and a writable cgroup tree)")
        completed, layers = run_jailed(tmp_path, FORK_BOMB, cgroups=[str(folder) for folder in groups.folders])
        stopped = re.match(r"fork stopped after (\d+) processes: \[Errno 11\]", completed.stdout)
        assert stopped and int(stopped.group(1)) < 24, completed.stdout
        assert layers.process_cap == 24 and layers.memory_cgroup_bytes == 2**30
        groups.end_every_process()
        assert groups.processes_inside() == set()
        made = list(groups.folders)
    assert made and not any(folder.exists() for folder in made)


def test_the_layers_file_records_what_held(tmp_path):
    _, layers = run_jailed(tmp_path, "print('hello')")
    assert layers.stage == "test" and layers.landlock_abi == landlock_abi() and layers.environment_variables == 2
    assert json.loads((tmp_path / "layers.json").read_text())["stage"] == "test"


DISK_FILLER = """\
import os
written = 0
try:
    for index in range(1000):
        with open(f"fill-{index}", "wb") as handle:
            handle.write(b"x" * 2**20)
        written += 1
except OSError as error:
    print(f"stopped after {written} MiB: errno {error.errno}")
print("working folder:", os.getcwd())
"""


def test_a_disk_filler_stops_at_the_scratch_tmpfs_and_leaves_nothing_on_disk(tmp_path):
    home = tmp_path / "home"
    completed, layers = run_jailed(tmp_path, DISK_FILLER, scratch=[str(home)], workdir=str(home),
                                   disk_bytes=8 * 2**20, disk_files=100)
    if not layers.disk_limit_bytes:
        pytest.skip("no mount namespace here: the grader's watchdog stands in for the tmpfs")
    stopped = re.search(r"stopped after (\d+) MiB: errno 28", completed.stdout)
    assert stopped and int(stopped.group(1)) <= 8, completed.stdout + completed.stderr
    assert f"working folder: {home}" in completed.stdout
    assert layers.disk_limit_bytes == 8 * 2**20 and layers.disk_limit_reached
    assert list(home.iterdir()) == []  # the files lived in the jail's tmpfs and ended with it


def test_the_file_count_of_the_scratch_tmpfs_is_capped_too(tmp_path):
    home = tmp_path / "home"
    completed, layers = run_jailed(tmp_path, """\
made = 0
try:
    for index in range(10_000):
        open(f"empty-{index}", "w").close()
        made += 1
except OSError as error:
    print(f"made {made} files: errno {error.errno}")
""", scratch=[str(home)], workdir=str(home), disk_files=50)
    if not layers.disk_limit_bytes:
        pytest.skip("no mount namespace here: the grader's watchdog stands in for the tmpfs")
    made = re.search(r"made (\d+) files: errno 28", completed.stdout)
    assert made and int(made.group(1)) <= 50 and layers.disk_limit_reached, completed.stdout
    assert list(home.iterdir()) == []


