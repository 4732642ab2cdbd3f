"""Work for one submission in a process of its own, forked from a warm one that imported the heavy parts once.

Starting Python and importing torch, pytest and nbgrader costs seconds; doing it for every
submission was most of a small batch's time. A forkserver imports them once
(``grader.entry_points.WARM_PRELOAD_MODULES``: one submission's steps) and forks a fresh child
per call: the child is warm, shares nothing with the submission before it, can be killed when
it runs past its time, and may run pytest and nbgrader in-process without other threads in the
way. The forkserver is single-threaded (nothing in it has run a torch operation), so forking it
is safe.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from typing import Any

from grader.entry_points import WARM_PRELOAD_MODULES

#: A daemonic process (a Dask nanny's worker) may not have children: it runs the work itself, one at a time.
_in_process_lock = threading.Lock()


class WorkTimedOut(Exception):
    """The work ran past its time; its process was killed."""


class WorkFailed(Exception):
    """The work raised, or its process ended without an answer; the message says which."""


def _context():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(WARM_PRELOAD_MODULES))
    return context


def warm_up() -> None:
    """Start the forkserver now: its imports then run while the caller prepares the course."""
    if not multiprocessing.current_process().daemon:
        from multiprocessing import forkserver

        _context()
        forkserver.ensure_running()


def _answer(connection, function: Callable, arguments: tuple) -> None:
    """In the child: run the work and send back its result, or the error it raised."""
    import torch

    torch.set_num_threads(1)  # one core per submission: the batch runs one child per core
    try:
        result = ("ok", function(*arguments))
    except BaseException as error:  # noqa: BLE001 - sent to the parent, which reports it
        result = ("error", f"{type(error).__name__}: {str(error)[:300]}")
    connection.send(result)
    connection.close()


def run_in_warm_process(function: Callable, arguments: tuple, timeout: float) -> Any:
    """``function(*arguments)`` in a fresh child of the forkserver; its result, pickled back.

    WorkTimedOut after ``timeout`` seconds (the child is killed first); WorkFailed when it raised
    or died. ``function`` and its arguments must pickle: module-level functions and dataclasses.
    """
    if multiprocessing.current_process().daemon:
        with _in_process_lock:
            try:
                return function(*arguments)
            except Exception as error:
                raise WorkFailed(f"{type(error).__name__}: {str(error)[:300]}") from error
    context = _context()
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_answer, args=(sending, function, arguments), name="grading-work")
    child.start()
    sending.close()
    answered = False
    try:
        if not receiving.poll(timeout):
            raise WorkTimedOut(f"it ran longer than {timeout:g} s")
        try:
            answer, answered = receiving.recv(), True
        except EOFError:
            answer = ("error", "the grading process ended without an answer")
    finally:
        child.join(5 if answered else 0)
        if child.is_alive():
            child.kill()
        child.join()
        receiving.close()
    if answer[0] == "error":
        raise WorkFailed(answer[1])
    return answer[1]
