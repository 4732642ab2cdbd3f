"""Command line of the grader.

``python -m grader generate`` regenerates the student notebook from the solution notebook;
``python -m grader autograde SUBMISSIONS --out OUT`` grades a class with real nbgrader;
``python -m grader report OUT [OUT ...]`` rebuilds the class report from grading runs.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from grader.course import STUDENT_NOTEBOOK, create_course, generate_assignment
from grader.limits import GradingLimits


def generate(arguments: argparse.Namespace) -> None:
    """Regenerate the student notebook at the repository root from the solution notebook."""
    with tempfile.TemporaryDirectory(prefix="unet-course-") as scratch:
        released = generate_assignment(create_course(Path(scratch)))
        shutil.copyfile(released, arguments.output)
    print(f"wrote {arguments.output}")


def autograde(arguments: argparse.Namespace) -> int:
    """Autograde a folder of submissions; write grades.csv, grading-report.json and feedback/ to --out.

    Exits with status 1 when not one submission could be graded: a batch of nothing is an
    error an instructor's script should notice.
    """
    from tqdm import tqdm

    from grader.autograde import autograde_folder, summary_table
    from grader.report import BATCH_REPORT_NAME

    if not arguments.submissions.is_dir():
        raise SystemExit(f"{arguments.submissions} is not a folder of submissions")
    started = time.perf_counter()
    reports = autograde_folder(
        arguments.submissions, arguments.out, GradingLimits.from_arguments(arguments),
        progress=lambda items, total: tqdm(items, total=total, desc="grading", unit="submission"),
    )
    elapsed = time.perf_counter() - started
    print(summary_table(reports))
    graded = sum(1 for report in reports if report.graded)
    print(f"\n{graded} of {len(reports)} submissions graded in {elapsed:.0f} s; "
          f"grades in {arguments.out / 'grades.csv'}, feedback in {arguments.out / 'feedback'}, "
          f"the full report in {arguments.out / BATCH_REPORT_NAME}")
    if not graded:
        print("error: no submission could be graded (see the reasons above)", file=sys.stderr)
        return 1
    return 0


def report(arguments: argparse.Namespace) -> int:
    """Rebuild the class report from the checks.csv of one or more grading runs (later runs win)."""
    from grader.class_report import CHECKS_CSV, CLASS_REPORT, write_class_report

    missing = [str(run) for run in arguments.runs if not (run / CHECKS_CSV).is_file()]
    if missing:
        raise SystemExit(f"no {CHECKS_CSV} in {', '.join(missing)}: pass folders written by `python -m grader autograde`")
    out = write_class_report(arguments.runs, arguments.out or arguments.runs[-1] / CLASS_REPORT)
    print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    generate_command = commands.add_parser("generate", help=generate.__doc__)
    generate_command.add_argument("--output", type=Path, default=STUDENT_NOTEBOOK)
    generate_command.set_defaults(handler=generate)
    autograde_command = commands.add_parser("autograde", help=autograde.__doc__)
    autograde_command.add_argument("submissions", type=Path,
                                   help="folder of <student_id>/UNet_Assignment.ipynb or <student_id>.ipynb")
    autograde_command.add_argument("--out", type=Path, required=True, help="where results go")
    GradingLimits.add_arguments(autograde_command)
    autograde_command.set_defaults(handler=autograde)
    report_command = commands.add_parser("report", help=report.__doc__)
    report_command.add_argument("runs", type=Path, nargs="+", help="output folders of grading runs")
    report_command.add_argument("--out", type=Path, default=None,
                                help="where the page goes (default: class-report.html in the last run)")
    report_command.set_defaults(handler=report)
    arguments = parser.parse_args(argv)
    return arguments.handler(arguments)


if __name__ == "__main__":
    sys.exit(main())
