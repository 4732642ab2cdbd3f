"""Figures the slow tests measure, kept here so that conftest can print them after the run.

The test modules fill these registries; ``conftest.pytest_terminal_summary`` reads them. A
helper module of its own, so that conftest never imports a test module.
"""

from __future__ import annotations

from pathlib import Path

#: Figure name -> value, from the smoke-mode execution of the solution notebook.
SMOKE_FIGURES: dict[str, str] = {}
#: Mutant name -> (task, score, maximum), from the graded batch.
MUTATION_REPORT: dict[str, tuple[str, float, float]] = {}
#: Browser test name -> the screenshot it saved.
SCREENSHOTS: dict[str, Path] = {}
