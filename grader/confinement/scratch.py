"""Scratch folders: where student code writes, what the grader keeps, and the clean-up after a crash.

Student code writes only to its submission's scratch folder (its home and working folder, in
the probe). The jail mounts a tmpfs of ``--disk-mb`` over it, so the
files live in memory and vanish with the jail; where the kernel refuses the mount, a watchdog
here measures the folder and stops the submission at the limit. Nothing in a scratch folder
is ever copied into the results: the grader deletes the whole folder when the submission is
done, and a grading process that was killed leaves a folder named after its PID, which the
next run removes.

Whatever the grader itself handles in a folder that student code could have written is looked
at with ``lstat`` and opened with ``O_NOFOLLOW``: links, FIFOs, sockets and device nodes are
never followed, read or copied.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: Every scratch folder of the grader starts so, then its kind and the PID of the process that owns it.
SCRATCH_PREFIX = "unet-grading-"
_SCRATCH_NAME = re.compile(rf"^{SCRATCH_PREFIX}[a-z]+-(\d+)-")


def make_scratch(kind: str, parent: Path | None = None) -> Path:
    """A new private folder named for this process (``unet-grading-<kind>-<pid>-...``)."""
    return Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{kind}-{os.getpid()}-", dir=parent))


def submission_scratch(root: Path) -> Path:
    """One submission's scratch folder inside a scratch root, named short: paths inside stay short."""
    return Path(tempfile.mkdtemp(prefix="s-", dir=root))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: not ours to judge
    return True


def remove_stale_scratch(parent: Path | None = None) -> list[Path]:
    """Remove the scratch folders of grading processes that no longer run (a SIGKILLed worker's)."""
    parent = Path(parent or tempfile.gettempdir())
    removed = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        match = _SCRATCH_NAME.match(entry.name)
        if not match or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_uid != os.getuid() or _running(int(match.group(1))):
                continue
        except OSError:
            continue
        remove_tree(Path(entry.path))
        removed.append(Path(entry.path))
    return removed


def remove_tree(folder: Path) -> None:
    """Delete ``folder`` and everything in it; links inside are removed, never followed."""
    if folder.is_symlink():
        folder.unlink()
        return
    shutil.rmtree(folder, ignore_errors=True)  # fd-based: a link is unlinked, not descended into


@dataclass(frozen=True)
class Usage:
    bytes: int
    files: int


def _entries(folder: Path):
    """Every entry under ``folder`` with its ``lstat``, depth first; links are never followed."""
    pending = [str(folder)]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                pending.append(entry.path)
            yield entry.path, info


def folder_usage(folder: Path) -> Usage:
    """Disk blocks and entries under ``folder``, links counted but never followed."""
    total = files = 0
    for _, info in _entries(folder):
        total, files = total + info.st_blocks * 512, files + 1
    return Usage(total, files)


def special_kind(mode: int) -> str | None:
    """What a file that is not a plain file or folder is, in words; None for plain ones."""
    for test, name in ((stat.S_ISLNK, "symbolic link"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISCHR, "device node"), (stat.S_ISBLK, "device node")):
        if test(mode):
            return name
    return None


def remove_special_files(folder: Path) -> list[str]:
    """Delete every link, hard link, FIFO, socket and device node under ``folder``; one note each.

    Run on the folders nbgrader copies (autograded, feedback): only plain files it wrote stay.
    """
    notes = []
    for path, info in list(_entries(folder)):
        if stat.S_ISDIR(info.st_mode):
            continue
        kind = special_kind(info.st_mode) or ("hard link" if info.st_nlink > 1 else None)
        if kind:
            os.unlink(path)
            notes.append(f"{Path(path).relative_to(folder)} ({kind}) was left out of the results")
    return notes


def copy_plain_file(source: Path, target: Path) -> None:
    """Copy ``source`` only if it is a plain file with one name: a link or FIFO raises OSError."""
    descriptor = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            raise OSError(f"{source} is not a plain file")
        os.set_blocking(descriptor, True)
        with open(descriptor, "rb", closefd=False) as reader, open(target, "wb") as writer:
            shutil.copyfileobj(reader, writer)
    finally:
        os.close(descriptor)


class DiskWatchdog(threading.Thread):
    """Measures a scratch folder while student code runs; past a limit, calls ``stop`` once.

    The stand-in for the jail's tmpfs where the kernel refused the mount: there, files land in
    the real folder, and this is what keeps a disk filler from filling the machine.
    """

    def __init__(self, folder: Path, limit_bytes: int, limit_files: int, stop: Callable[[], None],
                 every_seconds: float = 0.5):
        super().__init__(daemon=True)
        self.folder, self.limit_bytes, self.limit_files = folder, limit_bytes, limit_files
        self.stop_submission, self.every_seconds = stop, every_seconds
        self.exceeded: Usage | None = None
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.every_seconds):
            usage = folder_usage(self.folder)
            if usage.bytes > self.limit_bytes or usage.files > self.limit_files:
                self.exceeded = usage
                self.stop_submission()
                return

    def __enter__(self) -> DiskWatchdog:
        self.start()
        return self

    def __exit__(self, *exception) -> None:
        self._done.set()
        self.join()
