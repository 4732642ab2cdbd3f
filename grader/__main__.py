"""Command line of the grader.

``python -m grader generate`` regenerates the student notebook from the solution notebook;
``python -m grader autograde SUBMISSIONS --out OUT`` grades a class with real nbgrader.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from grader.course import STUDENT_NOTEBOOK, create_course, generate_assignment


def generate(arguments: argparse.Namespace) -> None:
    """Regenerate the student notebook at the repository root from the solution notebook."""
    with tempfile.TemporaryDirectory(prefix="unet-course-") as scratch:
        released = generate_assignment(create_course(Path(scratch)))
        shutil.copyfile(released, arguments.output)
    print(f"wrote {arguments.output}")


def autograde(arguments: argparse.Namespace) -> int:
    """Autograde a folder of submissions; write grades.csv and feedback/ to --out."""
    from tqdm import tqdm

    from grader.autograde import autograde_folder, summary_table

    if not arguments.submissions.is_dir():
        raise SystemExit(f"{arguments.submissions} is not a folder of submissions")
    started = time.perf_counter()
    results = autograde_folder(
        arguments.submissions, arguments.out, workers=arguments.workers,
        progress=lambda items, total: tqdm(items, total=total, desc="grading", unit="submission"),
    )
    elapsed = time.perf_counter() - started
    print(summary_table(results))
    graded = sum(1 for r in results if not r.problem)
    print(f"\n{graded} of {len(results)} submissions graded in {elapsed:.0f} s; "
          f"grades in {arguments.out / 'grades.csv'}, feedback in {arguments.out / 'feedback'}")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    generate_command = commands.add_parser("generate", help=generate.__doc__)
    generate_command.add_argument("--output", type=Path, default=STUDENT_NOTEBOOK)
    generate_command.set_defaults(handler=generate)
    autograde_command = commands.add_parser("autograde", help=autograde.__doc__)
    autograde_command.add_argument("submissions", type=Path,
                                   help="folder of <student_id>/UNet_Assignment.ipynb or <student_id>.ipynb")
    autograde_command.add_argument("--out", type=Path, required=True, help="where results go")
    autograde_command.add_argument("--workers", type=int, default=None,
                                   help="submissions graded at once (default: one per core)")
    autograde_command.set_defaults(handler=autograde)
    arguments = parser.parse_args(argv)
    return arguments.handler(arguments)


if __name__ == "__main__":
    sys.exit(main())
