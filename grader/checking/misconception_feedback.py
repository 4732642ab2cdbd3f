"""The paragraph a student reads for each misconception, from ``misconceptions.toml``.

Apart from the oracles in ``grader.checking.misconceptions`` (which need torch): the class
report shows these paragraphs too, and a batch process should not import torch to print text.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

#: The feedback paragraphs, kept as text an instructor can edit without touching the oracles. A
#: ``{name}`` in one is filled with what the diagnosis read from the student's answer (a slope,
#: the axes), or with the entry's ``defaults`` where nothing was read (the class report).
FEEDBACK: dict[str, dict] = tomllib.loads(Path(__file__).with_name("misconceptions.toml").read_text())


def explanation(id: str, specifics: dict[str, str]) -> str:
    """The paragraph of misconception ``id``, with what was read from one student's answer."""
    entry = FEEDBACK[id]
    return entry["explanation"].strip().format(**{**entry.get("defaults", {}), **specifics})


#: Every paragraph in its general words, as the class report shows it.
EXPLANATIONS: dict[str, str] = {id: explanation(id, {}) for id in FEEDBACK}
