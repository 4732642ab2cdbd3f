"""A warm, clean parent for probes: Python, torch and IPython imported once, each probe forked from it.

A probe started cold spends seconds before the student's first cell: three Python starts (the
jail launcher, its clean restart, the probe) and torch imported, then torch's compiler the
first time a cell makes an optimizer. The batch starts one ``ProbeForkServer`` instead: a
process that imports all that once, then forks a child per probe. The child confines itself
exactly as the jail launcher does (``grader.confinement.jail.confine``: the submission's
cgroups, namespaces, scratch tmpfs, Landlock, limits, the policy's environment) and only then
runs the probe, as ``__main__``, as a cold probe would run.

What makes forking safe here:

* the fork server never runs student code, nor anything of the grader but the jail: it is
  started with an environment of the policy's constant variables only, so no grader secret is
  in its memory or in ``/proc/<pid>/environ``, and every probe is forked from it, never from
  another probe, so no student's state reaches the next one;
* it runs no torch operation (no thread pool to break in a fork), and has no thread;
* a child closes every descriptor but its probe's channel before it confines itself;
* the batch reaches the fork server through socket pairs only, never a name in the filesystem
  or an abstract socket, so a probe has nothing to connect to; the fork server kills a child
  only while it has not reaped it, so a recycled process id is never hit.

Protocol on each connection (``SOCK_SEQPACKET``, one JSON object a message): the checker sends
``{"policy": file, "probe": file}`` with the probe's stdin and stdout as descriptors and gets
``{"pid": n}``; ``{"kill": true}`` ends that probe; ``{"exit": code}`` follows when it ends.
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from grader.confinement.jail import Policy, confine
from grader.entry_points import PROBE_FORKSERVER_MODULE

#: What every probe imports, imported once here (the notebook's set-up cell: torch, matplotlib,
#: the kit's readers and filters). None of them keeps the per-student environment (home,
#: temporary folder) but matplotlib, whose configuration and cache folder stay the fork server's:
#: it reads no file there after import (its font list is built here, once, instead of in every
#: probe). ``tempfile``'s cached folder is forgotten in each child.
WARM_IMPORTS = ("numpy", "torch", "torch.optim", "torch._dynamo", "IPython.core.interactiveshell",
                "IPython.core.displaypub", "matplotlib.pyplot", "scipy.ndimage", "tifffile")
#: Seconds between looks for ended children when no message arrives.
REAP_INTERVAL_SECONDS = 0.05
MESSAGE_BYTES = 1 << 16


def _send(connection: socket.socket, message: dict, descriptors: list[int] = ()) -> None:
    socket.send_fds(connection, [json.dumps(message).encode()], list(descriptors))


def _receive(connection: socket.socket, descriptors: int = 0, flags: int = 0) -> tuple[dict | None, list[int]]:
    """One message and the descriptors that came with it; None at the end of the connection."""
    size = array.array("i").itemsize
    data, ancillary, _, _ = connection.recvmsg(MESSAGE_BYTES, socket.CMSG_LEN(max(descriptors, 1) * size), flags)
    fds = array.array("i")  # socket.recv_fds would do, but drops ``flags`` before Python 3.12
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % size])
    fds = list(fds)
    if not data:
        for fd in fds:
            os.close(fd)
        return None, []
    try:
        return json.loads(data), fds
    except ValueError:
        for fd in fds:
            os.close(fd)
        return {}, []


# -- the batch's side --------------------------------------------------------------------------------
class ProbeForkServer:
    """The fork server of one batch, at home in ``home`` (a hidden folder) with ``kit`` on its path;
    closed when the batch ends."""

    def __init__(self, home: Path, kit: Path):
        # Imported here, in the batch: the fork server itself must not hold the kit's modules.
        from grader.confinement.policy import probe_forkserver_environment

        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        home.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen([sys.executable, "-m", PROBE_FORKSERVER_MODULE, str(theirs.fileno())],
                                        env=probe_forkserver_environment(home, kit), cwd=home,
                                        pass_fds=[theirs.fileno()],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        self._lock = threading.Lock()

    def connect(self) -> socket.socket:
        """A private connection for one submission's checker (it may start several probes, one at a time)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            with self._lock:
                _send(self._control, {"connection": True}, [theirs.fileno()])
        finally:
            theirs.close()
        return ours

    def close(self) -> None:
        """End the fork server and every probe it still has."""
        self._control.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> ProbeForkServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# -- the checker's side -----------------------------------------------------------------------------
class ForkedProbe:
    """A probe forked by the fork server, seen as ``subprocess.Popen`` shows a process: stdin, stdout, pid, poll, wait.

    OSError when the fork server cannot start it: the caller starts the probe cold instead.
    """

    def __init__(self, connection: socket.socket, policy_file: Path, probe_file: Path, timeout: float):
        self.connection, self.returncode = connection, None
        to_probe, to_us = os.pipe()
        from_probe, from_us = os.pipe()
        try:
            connection.settimeout(timeout)
            _send(connection, {"policy": str(policy_file), "probe": str(probe_file)}, [to_probe, from_us])
            reply, _ = _receive(connection)
            connection.settimeout(None)  # blocking again: poll() asks with MSG_DONTWAIT, never waits
        except OSError:
            for fd in (to_us, from_probe):
                os.close(fd)
            raise
        finally:
            os.close(to_probe)
            os.close(from_us)
        if not reply or not isinstance(reply.get("pid"), int):
            os.close(to_us)
            os.close(from_probe)
            raise OSError("the probe fork server did not start a probe")
        self.pid = reply["pid"]
        self.stdin, self.stdout = os.fdopen(to_us, "wb"), os.fdopen(from_probe, "rb")

    def _take_exit(self, flags: int) -> int | None:
        try:
            message, _ = _receive(self.connection, flags=flags)
        except (BlockingIOError, TimeoutError):
            return None
        except OSError:
            message = None
        self.returncode = message.get("exit", -signal.SIGKILL) if message else -signal.SIGKILL
        return self.returncode

    def poll(self) -> int | None:
        if self.returncode is None:
            self._take_exit(socket.MSG_DONTWAIT)
        return self.returncode

    def kill(self) -> None:
        """End the probe and everything in its process group; the fork server does it, as only it knows
        whether the process id is still the probe's."""
        if self.returncode is None:
            with contextlib.suppress(OSError):
                _send(self.connection, {"kill": True})

    def wait(self) -> int:
        while self.returncode is None:
            self._take_exit(0)
        return self.returncode


# -- the fork server itself --------------------------------------------------------------------------
class _Server:
    def __init__(self, control: socket.socket):
        self.control = control
        self.selector = selectors.DefaultSelector()
        self.selector.register(control, selectors.EVENT_READ)
        self.clients: set[socket.socket] = set()
        self.child_of: dict[socket.socket, int] = {}  # a connection's probe, until it is reaped
        self.running = True

    def serve(self) -> None:
        while self.running or self.child_of:
            for key, _ in self.selector.select(REAP_INTERVAL_SECONDS):
                if key.fileobj is self.control:
                    self._accept()
                else:
                    self._answer(key.fileobj)
            self._reap()

    def _accept(self) -> None:
        message, fds = _receive(self.control, descriptors=1)
        if message is None:  # the batch is over
            self.running = False
            self.selector.unregister(self.control)
            for client in list(self.clients):
                self._drop(client)
            return
        for fd in fds:
            client = socket.socket(fileno=fd)
            self.clients.add(client)
            self.selector.register(client, selectors.EVENT_READ)

    def _answer(self, client: socket.socket) -> None:
        try:
            message, fds = _receive(client, descriptors=2)
        except OSError:
            message, fds = None, []
        if message is None:
            self._drop(client)
        elif message.get("kill"):
            self._kill(client)
        elif len(fds) == 2 and client not in self.child_of:
            self.child_of[client] = self._fork(message, fds)
            for fd in fds:
                os.close(fd)
            with contextlib.suppress(OSError):
                _send(client, {"pid": self.child_of[client]})
        else:
            for fd in fds:
                os.close(fd)
            self._drop(client)

    def _kill(self, client: socket.socket) -> None:
        if client in self.child_of:  # not reaped yet: the id is still this probe's
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.child_of[client], signal.SIGKILL)

    def _drop(self, client: socket.socket) -> None:
        """The connection ended: its probe goes too; the socket is closed once the probe is reaped."""
        self._kill(client)
        self.clients.discard(client)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(client)
        if client not in self.child_of:
            client.close()

    def _reap(self) -> None:
        while self.child_of:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for client, child in list(self.child_of.items()):
                if child == pid:
                    del self.child_of[client]
                    if client in self.clients:
                        with contextlib.suppress(OSError):
                            _send(client, {"exit": os.waitstatus_to_exitcode(status)})
                    else:
                        client.close()

    def _fork(self, message: dict, fds: list[int]) -> int:
        pid = os.fork()
        if pid:
            return pid
        try:  # the child: it never returns to the loop
            os.setsid()
            self._forget_connections()
            _become_probe(Path(message["policy"]), Path(message["probe"]), *fds)
        finally:
            os._exit(70)

    def _forget_connections(self) -> None:
        """Close every connection of the fork server in this child: the batch's, other submissions'."""
        self.selector.close()
        for connection in (self.control, *self.clients):
            with contextlib.suppress(OSError):
                os.close(connection.detach())


def _become_probe(policy_file: Path, probe_file: Path, stdin: int, stdout: int) -> None:
    """In the child: the probe's channel on 0 and 1, nothing else open, confined, then the probe as ``__main__``."""
    import runpy

    os.dup2(stdin, 0)
    os.dup2(stdout, 1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    policy = Policy.load(policy_file)
    kit = policy.environment.get("PYTHONPATH", "")
    confine(policy)  # in a PID namespace this returns in the program, under the namespace's init
    sys.argv = [str(probe_file)]
    sys.path[:] = [str(probe_file.parent), *kit.split(os.pathsep), *_interpreter_paths]
    for name in [name for name in sys.modules if name == "grader" or name.startswith("grader.")]:
        del sys.modules[name]
    tempfile.tempdir = None  # the policy's TMPDIR, not the fork server's
    runpy.run_path(str(probe_file), run_name="__main__")
    sys.stdout.flush()
    os._exit(0)


#: This interpreter's own import paths (standard library, site-packages), as a cold start has them:
#: ``sys.path`` without the fork server's working folder and ``PYTHONPATH``. Set by ``main``.
_interpreter_paths: list[str] = []


def main(argv: list[str]) -> None:
    ours = {os.path.abspath(entry) for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry}
    _interpreter_paths[:] = [entry for entry in sys.path[1:] if entry and os.path.abspath(entry) not in ours]
    control = socket.socket(fileno=int(argv[0]))
    for name in WARM_IMPORTS:
        with contextlib.suppress(ImportError):  # one a torch version lacks is imported by the probes that need it
            __import__(name)
    _Server(control).serve()
    os._exit(0)  # every child is reaped and nothing is buffered: torch's teardown would only delay the batch


if __name__ == "__main__":
    main(sys.argv[1:])
