"""Where confined student code lives: the kit it may import, its home folder, its policy.

The probe (``grader.checking.check``) sees the helper package and the data, a private writable
home, and nothing of the repository (hidden tests, oracles, solution), the other submissions
or the grades.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from grader.confinement.jail import Policy
from grader.entry_points import PROBE_FILE
from grader.limits import GradingLimits
from unet_kit.assignment import REPOSITORY_ROOT

PROBE_NAME = "unet_grading_probe.py"
#: What confined code may read inside the repository: the notebook's helper package and data.
READABLE_IN_REPOSITORY = ("unet_kit", "data")
#: Where confined code finds programs: this interpreter's folder, then the system's.
CONFINED_PATH = os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"])


def prepare_kit(folder: Path) -> Path:
    """A folder to put on confined code's ``sys.path``: ``unet_kit`` and the probe, nothing else.

    ``unet_kit`` is a link, so the import system never needs to list the repository itself.
    """
    kit = folder / "kit"
    kit.mkdir(parents=True, exist_ok=True)
    link = kit / "unet_kit"
    if not link.is_symlink():
        link.symlink_to(REPOSITORY_ROOT / "unet_kit", target_is_directory=True)
    shutil.copyfile(PROBE_FILE, kit / PROBE_NAME)
    return kit


def confined_environment(home: Path, kit: Path) -> dict[str, str]:
    """The whole environment of confined code: quiet, single-threaded, everything it writes in ``home``.

    Built from nothing: no variable of the grader's own environment (an instructor's tokens,
    cloud keys) reaches student code.
    """
    return {
        "PATH": CONFINED_PATH, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "PYTHONPATH": str(kit), "HOME": str(home), "TMPDIR": str(home),
        "MPLCONFIGDIR": str(home / ".matplotlib"), "IPYTHONDIR": str(home / ".ipython"),
        "XDG_CACHE_HOME": str(home / ".cache"), "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore",
        "TQDM_DISABLE": "1", "PYTHONDONTWRITEBYTECODE": "1", "NBGRADER_EXECUTION": "autograde",
        # one thread per confined process: parallel graders must not fight over the cores
        "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    }


def grading_policy(home: Path, kit: Path, hidden: list[Path], limits: GradingLimits, stage: str,
                   layers_file: Path, cgroups: list[Path] = ()) -> Policy:
    """Read everything but ``hidden`` and the repository (bar the kit); write only ``home``.

    ``home`` is the program's working folder, ``HOME`` and ``TMPDIR`` at once, and the jail
    mounts a tmpfs of ``limits.disk_mb`` over it: student code writes nowhere else, and its
    files end with the jail (``grader.confinement.scratch``). ``layers_file`` receives the layers that held
    (``grader.report.Confinement``); it must lie in a hidden folder, where the student's code
    cannot rewrite it.
    """
    home.mkdir(parents=True, exist_ok=True)
    readable = [REPOSITORY_ROOT / name for name in READABLE_IN_REPOSITORY] + [kit]
    environment_root = Path(sys.prefix).resolve()
    if environment_root.is_relative_to(REPOSITORY_ROOT):
        readable.append(environment_root)  # a .venv inside the checkout
    return Policy(
        hidden=[str(REPOSITORY_ROOT), *(str(Path(p).resolve()) for p in hidden)],
        readable=[str(p) for p in readable],
        writable=[str(home)],
        scratch=[str(home)],
        workdir=str(home),
        disk_bytes=limits.disk_bytes,
        disk_files=limits.disk_files,
        memory_bytes=limits.memory_bytes,
        file_size_bytes=limits.file_size_bytes,
        environment=confined_environment(home, kit),
        cgroups=[str(folder) for folder in cgroups],
        stage=stage,
        layers_file=str(layers_file),
    )


def probe_forkserver_environment(workdir: Path, kit: Path) -> dict[str, str]:
    """The probe fork server's whole environment: a confined process's, with ``workdir`` as its home and the
    grader importable. Its probes show it in ``/proc/<pid>/environ``: none of the grader's own variables."""
    return {**confined_environment(workdir, kit), "PYTHONPATH": os.pathsep.join([str(REPOSITORY_ROOT), str(kit)])}


def launcher_environment() -> dict[str, str]:
    """The environment the jail launcher itself starts in: it must import ``grader.confinement.jail``."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = str(REPOSITORY_ROOT)
    return environment
