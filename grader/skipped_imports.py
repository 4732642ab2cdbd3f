"""An optional import the grader's own processes go without: a second and a half each, for nothing.

nbformat validates notebooks with jsonschema, which checks the ``iri`` string format with
``rfc3987_syntax`` wherever that is installed; importing it builds a parser. No nbformat schema
uses any string format, so the batch process and the warm processes' forkserver mark it absent
before anything imports jsonschema, and jsonschema leaves that one format unchecked.
"""

from __future__ import annotations

import sys

SKIPPED_MODULES = ("rfc3987_syntax",)


def skip_optional_imports() -> None:
    """Mark each of ``SKIPPED_MODULES`` absent, unless it is imported already."""
    for name in SKIPPED_MODULES:
        sys.modules.setdefault(name, None)


skip_optional_imports()  # on import: the forkserver's first preloaded module is this one
