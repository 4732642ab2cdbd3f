"""The warm processes' forkserver ends without Python's teardown; any other process is left alone."""

from __future__ import annotations

import os
import subprocess
import sys

from grader.entry_points import FORKSERVER_EXIT_MODULE, WARM_PRELOAD_MODULES
from unet_kit.assignment import REPOSITORY_ROOT

#: Preloaded before the module under test: it leaves a file when the process's exit work runs.
TEARDOWN_WITNESS = """
import atexit, os, pathlib
atexit.register(pathlib.Path(os.environ["TEARDOWN_WITNESS_FILE"]).write_text, "torn down")
"""
#: A batch in miniature: a forkserver with the preloads on the command line, one child, then the end.
FORKSERVER_BATCH = """
import multiprocessing, sys
context = multiprocessing.get_context("forkserver")
context.set_forkserver_preload(sys.argv[1:])
child = context.Process(target=sys.getrecursionlimit)
child.start()
child.join()
"""


def forkserver_tears_down(tmp_path, *preload: str) -> bool:
    (tmp_path / "teardown_witness.py").write_text(TEARDOWN_WITNESS)
    witness = tmp_path / "witness.txt"
    witness.unlink(missing_ok=True)
    environment = os.environ | {"PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPOSITORY_ROOT)]),
                                "TEARDOWN_WITNESS_FILE": str(witness)}
    # The forkserver holds the pipes it inherited: reading them to the end waits for it to exit.
    subprocess.run([sys.executable, "-c", FORKSERVER_BATCH, *preload], env=environment, capture_output=True,
                   check=True, timeout=120)
    return witness.exists()


def test_the_warm_processes_forkserver_preloads_it():
    assert FORKSERVER_EXIT_MODULE in WARM_PRELOAD_MODULES


def test_the_forkserver_ends_before_its_exit_work(tmp_path):
    assert forkserver_tears_down(tmp_path, "teardown_witness")  # the witness works
    assert not forkserver_tears_down(tmp_path, "teardown_witness", FORKSERVER_EXIT_MODULE)


def test_another_process_that_imports_it_keeps_its_exit_status_and_exit_work(tmp_path):
    witness = tmp_path / "witness.txt"
    (tmp_path / "teardown_witness.py").write_text(TEARDOWN_WITNESS)
    finished = subprocess.run(
        [sys.executable, "-c", f"import teardown_witness, {FORKSERVER_EXIT_MODULE}\nraise SystemExit(3)"],
        env=os.environ | {"PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPOSITORY_ROOT)]),
                          "TEARDOWN_WITNESS_FILE": str(witness)}, timeout=60)
    assert finished.returncode == 3 and witness.read_text() == "torn down"
