"""Progress bars that show wherever the notebook runs.

In Jupyter and Colab a bar is a widget. ``make run`` executes the notebook with papermill,
which logs what cells print line by line but shows a widget only as its first frozen text
(``training: 0/3000`` for fifteen minutes); there ``UNET_PROGRESS=text`` turns every bar into
plain text lines on stdout, one every ``TEXT_INTERVAL_S`` seconds, with steps and time left.
"""

from __future__ import annotations

import os
import sys

from tqdm.auto import tqdm as _widget_or_text
from tqdm.std import tqdm as _text

PROGRESS_VARIABLE = "UNET_PROGRESS"
TEXT_INTERVAL_S = 15.0


def progress_bar(*arguments, **options):
    """``tqdm`` as a widget in a notebook front end, or as logged text lines when ``$UNET_PROGRESS`` is ``text``."""
    if os.environ.get(PROGRESS_VARIABLE) == "text":
        options = {"file": sys.stdout, "mininterval": TEXT_INTERVAL_S, "ascii": True, **options}
        return _text(*arguments, **options)
    return _widget_or_text(*arguments, **options)
