"""Confine a process that runs student code: namespaces, cgroups, Landlock, resource limits.

Student code runs in one place, the probe (``grader.checking.probe``), which runs each notebook
once. It starts through this module, which confines itself and then runs the real program, so
everything the student's code starts inherits the confinement:

* **cgroups**: it joins the submission's pids and memory cgroups (``grader.confinement.cgroups``), so a
  fork bomb stops at the submission's process cap and all its processes together share one
  memory limit;
* **namespaces**: a new network namespace (no interface but a loopback that is down: no
  socket reaches anything, loopback included), a new PID namespace whose first process is a
  small init here (when the program ends, the kernel ends every process it left behind,
  ``setsid`` or not), and a new mount namespace with a fresh ``/proc`` (processes outside are
  invisible, so neither their ``environ`` nor their ``cmdline`` can be read) and an empty
  ``/run`` (no daemon's socket);
* **scratch on a tmpfs**: the folders student code writes (its home and working folder) get a
  tmpfs of the policy's size and file count in that mount namespace, so its files live in
  memory (charged to its memory cgroup), never reach the grader's folders, and vanish with
  the jail; the supervisor outside notes when the tmpfs fills up;
* **Landlock** (Linux 5.13+, unprivileged): the process may read the whole filesystem except
  the folders that hold the repository, the submissions and the grading output, with the
  exceptions it needs (the helper package, the data, the virtual environment); it may write
  only to its own folders; (ABI 4+) it may neither bind nor connect a TCP socket; (ABI 6+) it
  may not signal processes or reach abstract Unix sockets outside the jail;
* **resource limits** per process: address space, file size, no core dumps;
* **environment**: exactly the variables of the policy, none of the grader's own.

Each layer is applied where the kernel allows it; the jail records which held in the policy's
``layers_file`` (``grader.report.Confinement``), which student code cannot write.
``python -m grader.confinement.jail POLICY.json -- PROGRAM ARGS...`` confines itself, then runs PROGRAM.
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import resource
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader.entry_points import JAIL_MODULE
from grader.limits import DEFAULT_LIMITS
from grader.report import Confinement

# Landlock system calls have the same numbers on every architecture that has them.
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS, _PR_SET_PDEATHSIG = 38, 1
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1
_BIND_TCP, _CONNECT_TCP = 1 << 0, 1 << 1

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_WRITE_DIRECTORY = sum(1 << bit for bit in range(4, 13))  # remove, make dir/file/socket/fifo/device/link
_REFER, _TRUNCATE = 1 << 13, 1 << 14  # ABI 2 and ABI 3
READ = EXECUTE | READ_FILE | READ_DIR
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | _TRUNCATE

_CLONE_NEWNS, _CLONE_NEWUSER, _CLONE_NEWPID, _CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18
#: Signals a supervisor passes on to the program it runs (jupyter_client interrupts with SIGINT).
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


@dataclass
class Policy:
    """What a confined process may touch. Paths are absolute; sizes in bytes."""

    hidden: list[str]                                  # unreadable folders (repository, submissions, output)
    readable: list[str] = field(default_factory=list)  # exceptions inside the hidden folders
    writable: list[str] = field(default_factory=list)  # read and write, e.g. the scratch folder
    scratch: list[str] = field(default_factory=list)  # writable folders that get a tmpfs of their own
    workdir: str | None = None  # the program starts here (after the tmpfs is mounted over it)
    disk_bytes: int = DEFAULT_LIMITS.disk_bytes  # size of each scratch tmpfs
    disk_files: int = DEFAULT_LIMITS.disk_files  # files (inodes) in each scratch tmpfs
    memory_bytes: int = DEFAULT_LIMITS.memory_bytes
    file_size_bytes: int = DEFAULT_LIMITS.file_size_bytes
    environment: dict[str, str] = field(default_factory=dict)  # the program's whole environment
    cgroups: list[str] = field(default_factory=list)  # cgroup folders of the submission, to join
    masked: list[str] = field(default_factory=lambda: ["/run"])  # shown empty in the mount namespace
    stage: str = ""
    layers_file: str | None = None

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps(asdict(self), indent=1))
        return path

    @classmethod
    def load(cls, path: Path) -> Policy:
        return cls(**json.loads(Path(path).read_text()))


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        raise OSError(ctypes.get_errno(), f"{what} failed")


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
        roots.extend(child for child in children if child not in on_the_way
                     and not _leads_into(child, hidden, on_the_way))
    return roots


def _leads_into(child: Path, hidden: list[Path], on_the_way: set[Path]) -> bool:
    """A link beside the way down whose target is a hidden folder, inside one or above one:
    a rule on it would open the hidden folder by another name."""
    if not child.is_symlink():
        return False
    target = child.resolve()
    return target in on_the_way or any(target.is_relative_to(folder) for folder in hidden)


def _add_rule(ruleset: int, path: Path, rights: int, handled: int) -> None:
    try:
        descriptor = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # vanished or unreadable: nothing to allow
    try:
        if not Path(f"/proc/self/fd/{descriptor}").is_dir():
            rights &= FILE_RIGHTS
        rule = _PathBeneath(rights & handled, descriptor)
        _check(_libc().syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0),
               f"landlock_add_rule for {path}")
    finally:
        os.close(descriptor)


def restrict_with_landlock(policy: Policy, layers: Confinement) -> None:
    """Apply the Landlock part of ``policy``: files, TCP (ABI 4+), signals and abstract sockets (ABI 6+)."""
    abi = landlock_abi()
    if abi == 0:
        return
    handled = _handled_rights(abi)
    network = _BIND_TCP | _CONNECT_TCP if abi >= 4 else 0  # handled with no rule: always refused
    scopes = _SCOPE_SIGNAL | _SCOPE_ABSTRACT_UNIX_SOCKET if abi >= 6 else 0
    attributes = _RulesetAttributes(handled, network, scopes)
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
        _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
        _check(libc.syscall(_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    layers.landlock_abi, layers.landlock_tcp = abi, bool(network)


def limit_resources(policy: Policy) -> None:
    """Memory and file size limits per process; a core dump of a huge process is never written.

    No CPU-time limit: the probe and nbgrader stop cells by wall-clock time (``grader.limits``).
    """
    resource.setrlimit(resource.RLIMIT_AS, (policy.memory_bytes, policy.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (policy.file_size_bytes, policy.file_size_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def join_cgroups(policy: Policy, layers: Confinement) -> None:
    """Move this process into the submission's cgroups (made by ``grader.confinement.cgroups``) and note their caps."""
    for folder in map(Path, policy.cgroups):
        try:
            (folder / "cgroup.procs").write_text(str(os.getpid()))
        except OSError:
            continue  # the group is gone or not ours: its layer is reported missing
        for cap_file in ("pids.max",):
            if (folder / cap_file).is_file():
                value = (folder / cap_file).read_text().strip()
                layers.process_cap = int(value) if value.isdigit() else 0
        for cap_file in ("memory.limit_in_bytes", "memory.max"):
            if (folder / cap_file).is_file():
                value = (folder / cap_file).read_text().strip()
                layers.memory_cgroup_bytes = int(value) if value.isdigit() else 0


def enter_namespaces(layers: Confinement) -> bool:
    """New network, PID and mount namespaces (a user namespace too when not root).

    Returns whether a PID namespace was made: then the caller must fork, as only the
    children of this process live in it.
    """
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    wanted = _CLONE_NEWNET | _CLONE_NEWPID | _CLONE_NEWNS
    for flags in (wanted, wanted | _CLONE_NEWUSER, _CLONE_NEWNET, _CLONE_NEWNET | _CLONE_NEWUSER):
        if libc.unshare(flags) == 0:
            if flags & _CLONE_NEWUSER:  # stay the same user, seen as root inside
                Path("/proc/self/setgroups").write_text("deny")
                Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
                Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
            layers.network_namespace = True
            layers.pid_namespace = bool(flags & _CLONE_NEWPID)
            return layers.pid_namespace
    return False


def private_mounts(policy: Policy, layers: Confinement) -> None:
    """In the new mount namespace: this PID namespace's own ``/proc``, empty masked folders, scratch tmpfs."""
    libc = _libc()
    try:
        _check(libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "making mounts private")
        _check(libc.mount(b"proc", b"/proc", b"proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, None), "mounting /proc")
        layers.private_proc = True
        for folder in policy.masked:
            if Path(folder).is_dir():
                _check(libc.mount(b"tmpfs", folder.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, b"size=64k"),
                       f"masking {folder}")
    except OSError:
        return  # reported: private_proc stays False, or the mask is missing
    mount_scratch(policy, layers)


def mount_scratch(policy: Policy, layers: Confinement) -> None:
    """A tmpfs of ``disk_bytes`` and ``disk_files`` over each scratch folder; the layer holds if all mount."""
    options = f"size={policy.disk_bytes},nr_inodes={policy.disk_files},mode=0700".encode()
    for folder in policy.scratch:
        Path(folder).mkdir(parents=True, exist_ok=True)
        if _libc().mount(b"tmpfs", folder.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, options) != 0:
            return  # reported: disk_limit_bytes stays 0, and the grader's watchdog stands in
    layers.disk_limit_bytes = policy.disk_bytes if policy.scratch else 0


def scratch_is_full(policy: Policy) -> bool:
    """Whether a scratch tmpfs has (almost) no block or no inode left: its code hit the disk limit."""
    for folder in policy.scratch:
        try:
            usage = os.statvfs(folder)
        except OSError:
            continue
        if usage.f_blocks * usage.f_frsize > policy.disk_bytes:
            continue  # not (yet) the tmpfs: the folder underneath
        if usage.f_bavail * usage.f_frsize < 2**20 or usage.f_favail < 2:
            return True
    return False


class DiskLimitRecorder:
    """Run by the supervisor outside the jail: marks ``disk_limit_reached`` in the layers file once.

    The supervisor shares the jail's mount namespace, so it sees the scratch tmpfs; it writes
    the mark as soon as the tmpfs fills, so a later SIGKILL of the whole jail loses nothing.
    """

    def __init__(self, policy: Policy, layers_file: int | None):
        self.policy, self.layers_file, self.recorded = policy, layers_file, False

    def check(self) -> None:
        if self.recorded or self.layers_file is None or not self.policy.scratch or not scratch_is_full(self.policy):
            return
        try:
            layers = json.loads(os.pread(self.layers_file, 1 << 16, 0) or b"{}")
        except ValueError:
            return  # the jail has not written its layers yet
        if not layers.get("disk_limit_bytes"):
            return
        layers["disk_limit_reached"] = True
        os.ftruncate(self.layers_file, 0)
        os.pwrite(self.layers_file, json.dumps(layers).encode(), 0)
        self.recorded = True


def _forward_signals(pid: int) -> None:
    def forward(signum, frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, forward)


def _exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def supervise(program: int, reap_all: bool, disk: DiskLimitRecorder | None = None) -> None:
    """Pass signals on to ``program``, wait for it, exit as it did. As init, reap every orphan too.

    With ``disk``, look at the scratch tmpfs four times a second while waiting.
    """
    _forward_signals(program)
    while True:
        if disk is None:
            pid, status = os.waitpid(-1 if reap_all else program, 0)
        else:
            pid, status = os.waitpid(program, os.WNOHANG)
            if pid == 0:
                disk.check()
                time.sleep(0.25)
                continue
        if pid == program:
            if disk is not None:
                disk.check()  # the tmpfs outlives the program while this process holds the namespace
            os._exit(_exit_code(status))  # as PID 1, this ends every process left in the namespace


def confine(policy: Policy) -> None:
    """Confine this process as ``policy`` says; in a PID namespace, return as its init's child."""
    layers = Confinement(stage=policy.stage, environment_variables=len(policy.environment))
    layers_file = (os.open(policy.layers_file, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
                   if policy.layers_file else None)  # opened now: the folder is hidden once confined
    join_cgroups(policy, layers)
    if enter_namespaces(layers):
        init = os.fork()
        if init:
            supervise(init, reap_all=False, disk=DiskLimitRecorder(policy, layers_file))  # never returns
        _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the supervisor killed: all end
        private_mounts(policy, layers)
    if policy.workdir:
        os.chdir(policy.workdir)  # after the mount: the working folder is the tmpfs, not what it covers
    os.environ.clear()
    os.environ.update(policy.environment)
    restrict_with_landlock(policy, layers)
    limit_resources(policy)
    if layers_file is not None:
        os.write(layers_file, json.dumps(asdict(layers)).encode())
        os.close(layers_file)
    if layers.pid_namespace:
        program = os.fork()
        if program:
            supervise(program, reap_all=True)  # never returns


#: The only variables the jail itself starts with (Python adds LC_CTYPE under a C locale).
LAUNCHER_VARIABLES = ("PYTHONPATH", "LC_CTYPE")


def start_afresh_without_environment(argv: list[str]) -> None:
    """Re-run the jail with nothing but ``PYTHONPATH`` if it was started with more.

    ``/proc/<pid>/environ`` shows the environment a process was *started* with, whatever it
    cleared since: the supervisor and init live beside the student's code in the PID
    namespace, so they must never have held the grader's variables.
    """
    if set(os.environ) - set(LAUNCHER_VARIABLES):
        os.execve(sys.executable, [sys.executable, "-m", JAIL_MODULE, *argv],
                  {"PYTHONPATH": os.environ.get("PYTHONPATH", "")})


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        raise SystemExit(f"usage: python -m {JAIL_MODULE} POLICY.json -- PROGRAM [ARGS...]")
    start_afresh_without_environment(argv)
    policy = Policy.load(Path(argv[0]))
    confine(policy)
    os.execvpe(argv[2], argv[2:], policy.environment)


if __name__ == "__main__":
    main(sys.argv[1:])
