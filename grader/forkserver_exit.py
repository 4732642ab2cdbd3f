"""Preloaded by the warm processes' forkserver: when the batch is over, it ends without Python's teardown.

The forkserver ends after the batch, with torch, pytest and nbgrader loaded; tearing them down
takes about a second, and whoever reads the batch's output waits for it, because the forkserver
holds the batch's stdout and stderr. It has nothing to flush or save, so it ends at once. Any
other process that imports this module is left alone.
"""

from __future__ import annotations

import atexit
import os
import sys

#: The command multiprocessing starts its forkserver with.
FORKSERVER_COMMAND = "from multiprocessing.forkserver import main"


def is_the_forkserver() -> bool:
    return any(FORKSERVER_COMMAND in argument for argument in sys.orig_argv)


if is_the_forkserver():
    atexit.register(os._exit, 0)
