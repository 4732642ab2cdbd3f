"""Real servers on loopback for benchmarks and tests: a Dask cluster of processes, a PostgreSQL server.

Each starts fresh in folders of its own and stops with its context, so a run leaves nothing
behind. PostgreSQL refuses to run as root, so it runs as the ``postgres`` user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CLUSTER_START_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class DaskCluster:
    """``dask scheduler`` and single-threaded ``dask worker`` processes (no nanny), by name ``worker-N``."""

    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)


@contextlib.contextmanager
def dask_cluster(folder: Path, workers: int) -> Iterator[DaskCluster]:
    from distributed import Client

    port = free_port()
    # As the README's recipe: the `dask` command, in a folder outside the repository, no PYTHONPATH
    # (the kit is installed into the environment).
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    dask = str(Path(sys.executable).parent / "dask")
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--dashboard-address", ":0"], cwd=folder, env=environment, stdout=subprocess.DEVNULL,
        stderr=(folder / "scheduler.log").open("w"))
    cluster = DaskCluster(f"tcp://127.0.0.1:{port}", scheduler)
    try:
        cluster.workers = [subprocess.Popen(
            [dask, "worker", cluster.address, "--nthreads", "1", "--no-nanny",
             "--name", f"worker-{index}", "--dashboard-address", ":0", "--local-directory", str(folder / f"w{index}")],
            cwd=folder, env=environment, stdout=subprocess.DEVNULL, stderr=(folder / f"worker-{index}.log").open("w"),
            start_new_session=True) for index in range(workers)]
        with Client(cluster.address, timeout=f"{CLUSTER_START_TIMEOUT_S}s") as client:
            client.wait_for_workers(workers, timeout=CLUSTER_START_TIMEOUT_S)
        yield cluster
    finally:
        # The workers first: one whose scheduler is gone waits out a connection timeout (30 s) to say goodbye.
        for group in (cluster.workers, [scheduler]):
            for process in group:
                if process.poll() is None:
                    process.terminate()
            for process in group:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def postgresql_available() -> bool:
    return bool(shutil.which("initdb") and shutil.which("pg_ctl"))


@contextlib.contextmanager
def postgresql_server() -> Iterator[str]:
    """A server of its own (data folder, port, socket folder) with an empty database; its SQLAlchemy URL."""
    folder = Path(tempfile.mkdtemp(prefix="unet-postgres-"))  # /tmp itself: postgres cannot enter root's folders
    shutil.chown(folder, "postgres")
    data, port = folder / "data", free_port()

    def as_postgres(*command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, timeout=120)

    try:
        as_postgres("initdb", "-D", str(data), "-A", "trust", "-U", "postgres")
        as_postgres("pg_ctl", "-D", str(data), "-l", str(folder / "server.log"), "-w", "-o",
                    f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start")
        try:
            as_postgres("createdb", "-h", "127.0.0.1", "-p", str(port), "gradebook")
            yield f"postgresql://postgres@127.0.0.1:{port}/gradebook"
        finally:
            as_postgres("pg_ctl", "-D", str(data), "-m", "immediate", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
