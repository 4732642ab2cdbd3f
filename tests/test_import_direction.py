"""Dependencies point one way: the student's package needs nothing else, production code never needs
the tests, and tests share code through helper modules, never through conftest or each other."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from unet_kit.assignment import REPOSITORY_ROOT

#: What each package may not import. ``tests`` may import helper modules of its own (batch, figures,
#: submissions, ...), but not test modules or conftest, which pytest imports in its own way.
FORBIDDEN = {
    "unet_kit": ("grader", "bench", "tests"),
    "grader": ("bench", "tests"),
    "bench": ("tests",),
}


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports by absolute name."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def sources_of(package: str) -> list[Path]:
    return sorted((REPOSITORY_ROOT / package).rglob("*.py"))


def belongs_to(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_never_imports_the_ones_that_depend_on_it(package):
    offences = [f"{path.relative_to(REPOSITORY_ROOT)} imports {module}"
                for path in sources_of(package) for module in sorted(imported_modules(path))
                if any(belongs_to(module, forbidden) for forbidden in FORBIDDEN[package])]
    assert offences == []


def is_conftest_or_a_test_module(module: str) -> bool:
    package, _, name = module.partition(".")
    top = name.split(".")[0]
    return package == "tests" and (top == "conftest" or top.startswith("test_"))


def test_tests_import_neither_conftest_nor_a_test_module():
    offences = [f"{path.relative_to(REPOSITORY_ROOT)} imports {module}"
                for path in sources_of("tests") for module in sorted(imported_modules(path))
                if is_conftest_or_a_test_module(module)]
    assert offences == []


def module_name(path: Path) -> str:
    parts = path.relative_to(REPOSITORY_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_circle_among_the_graders_modules_not_even_through_imports_inside_functions():
    modules = {module_name(path): path for path in sources_of("grader") if "hidden_tests" not in path.parts}
    imports = {name: imported_modules(path) for name, path in modules.items()}
    needs = {name: {other for other in modules if other != name and other in imports[name]} for name in modules}
    circles, done = [], set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            circles.append(" -> ".join(trail[trail.index(name):] + [name]))
            return
        if name in done:
            return
        for other in sorted(needs[name]):
            visit(other, [*trail, name])
        done.add(name)

    for name in sorted(modules):
        visit(name, [])
    assert circles == []


def test_the_batch_process_writes_a_class_report_without_importing_torch_or_pytest(tmp_path):
    """Torch and pytest belong to the warm processes: each import here would delay every batch by
    seconds (the batch process imports them once, then again as it exits)."""
    script = f"""
import sys
from pathlib import Path
import grader.__main__, grader.autograde
from grader.report import CheckResult, SubmissionReport, TaskResult
from grader.reporting.class_report import write_class_files
task = TaskResult("crop", 2.0, score=1.0, checks=[CheckResult("test_shape", passed=False, reason="no")])
write_class_files([SubmissionReport("ada", tasks=[task]), SubmissionReport("bob", problem="broken JSON")],
                  Path({str(tmp_path)!r}))
print(sorted(name for name in ("torch", "pytest") if name in sys.modules))
"""
    finished = subprocess.run([sys.executable, "-c", script], cwd=REPOSITORY_ROOT, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert (tmp_path / "class-report.html").is_file()
    assert finished.stdout.strip() == "[]"
