"""Confine a process that runs student code: resource limits and a Landlock filesystem policy.

Student code runs in two places, the probe (``grader.probe``) and nbgrader's kernel. Both
start through this module, which applies the limits to itself and then runs the real
program, so everything the student's code does inherits them:

* memory (address space), file size and CPU time limits (``resource.setrlimit``);
* Landlock (Linux 5.13+, unprivileged): the process may read the whole filesystem except the
  folders that hold the repository, the submissions and the grading output, with the
  exceptions it needs (the helper package, the data, the virtual environment); it may write
  only to its own scratch folder, and (kernel ABI 6+) may not signal processes outside it.

Where Landlock is missing, only the resource limits apply; ``landlock_abi()`` tells which.
``python -m grader.jail POLICY.json -- PROGRAM ARGS...`` confines itself, then execs PROGRAM.
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import resource
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Landlock system calls have the same numbers on every architecture that has them.
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_SCOPE_SIGNAL = 1 << 1

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_WRITE_DIRECTORY = sum(1 << bit for bit in range(4, 13))  # remove, make dir/file/socket/fifo/device/link
_REFER, _TRUNCATE = 1 << 13, 1 << 14  # ABI 2 and ABI 3
READ = EXECUTE | READ_FILE | READ_DIR
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | _TRUNCATE


@dataclass
class Policy:
    """What a confined process may touch. Paths are absolute; sizes in bytes."""

    hidden: list[str]                                  # unreadable folders (repository, submissions, output)
    readable: list[str] = field(default_factory=list)  # exceptions inside the hidden folders
    writable: list[str] = field(default_factory=list)  # read and write, e.g. the scratch folder
    memory_bytes: int = 6 * 2**30
    file_size_bytes: int = 256 * 2**20
    cpu_seconds: int | None = None
    environment: dict[str, str] = field(default_factory=dict)

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps(asdict(self), indent=1))
        return path

    @classmethod
    def load(cls, path: Path) -> Policy:
        return cls(**json.loads(Path(path).read_text()))


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 where Landlock is unavailable."""
    if platform.system() != "Linux":
        return 0
    version = _libc().syscall(_CREATE_RULESET, None, ctypes.c_size_t(0),
                              ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(int(version), 0)


class _RulesetAttributes(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _handled_rights(abi: int) -> int:
    rights = READ | WRITE_FILE | _WRITE_DIRECTORY
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= _TRUNCATE
    return rights


def readable_roots(hidden: list[Path]) -> list[Path]:
    """Every path of the filesystem outside ``hidden``, as few roots as possible.

    Landlock only allows, so "all but these folders" becomes the siblings of every folder on
    the way from ``/`` down to each hidden one.
    """
    hidden = [Path(p).resolve() for p in hidden]
    on_the_way = {ancestor for path in hidden for ancestor in (path, *path.parents)}
    roots = []
    for folder in sorted(on_the_way):
        if folder in hidden:
            continue
        try:
            children = sorted(folder.iterdir())
        except OSError:
            continue
        roots.extend(child for child in children if child not in on_the_way)
    return roots


def _add_rule(ruleset: int, path: Path, rights: int, handled: int) -> None:
    try:
        descriptor = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # vanished or unreadable: nothing to allow
    try:
        if not Path(f"/proc/self/fd/{descriptor}").is_dir():
            rights &= FILE_RIGHTS
        rule = _PathBeneath(rights & handled, descriptor)
        if _libc().syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
    finally:
        os.close(descriptor)


def restrict_filesystem(policy: Policy) -> int:
    """Apply the Landlock part of ``policy`` to this process; return the ABI used (0: none)."""
    abi = landlock_abi()
    if abi == 0:
        return 0
    handled = _handled_rights(abi)
    attributes = _RulesetAttributes(handled, 0, _SCOPE_SIGNAL if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    libc = _libc()
    ruleset = libc.syscall(_CREATE_RULESET, ctypes.byref(attributes), ctypes.c_size_t(size), 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for root in readable_roots([Path(p) for p in policy.hidden]):
            _add_rule(ruleset, root, READ, handled)
        for path in policy.readable:
            _add_rule(ruleset, Path(path), READ, handled)
        for path in policy.writable:
            _add_rule(ruleset, Path(path), handled, handled)
        _add_rule(ruleset, Path("/dev/null"), READ_FILE | WRITE_FILE, handled)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(_RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return abi


def limit_resources(policy: Policy) -> None:
    """Memory, file size and CPU limits; a core dump of a huge process is never written."""
    resource.setrlimit(resource.RLIMIT_AS, (policy.memory_bytes, policy.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (policy.file_size_bytes, policy.file_size_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if policy.cpu_seconds:
        resource.setrlimit(resource.RLIMIT_CPU, (policy.cpu_seconds, policy.cpu_seconds + 5))


def confine(policy: Policy) -> int:
    """Apply every limit of ``policy`` to this process; return the Landlock ABI used."""
    os.environ.update(policy.environment)
    abi = restrict_filesystem(policy)
    limit_resources(policy)
    return abi


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        raise SystemExit("usage: python -m grader.jail POLICY.json -- PROGRAM [ARGS...]")
    confine(Policy.load(Path(argv[0])))
    os.execvp(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
