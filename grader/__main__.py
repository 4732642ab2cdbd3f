"""Command line of the grader.

``python -m grader generate`` regenerates the student notebook and its visible tests' fingerprints;
``python -m grader autograde SUBMISSIONS --out OUT`` grades a class with real nbgrader;
``python -m grader report OUT [OUT ...]`` rebuilds the class report from grading runs;
``python -m grader release OUT --repository URL`` writes the student copy;
``python -m grader course DIR`` makes an nbgrader course directory that grades with the kit.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from grader.limits import GradingLimits
from grader.skipped_imports import skip_optional_imports
from unet_kit.assignment import STUDENT_NOTEBOOK


def generate(arguments: argparse.Namespace) -> None:
    """Regenerate from the solution notebook everything the student copy ships that the grader computes:
    the student notebook, the visible tests' fingerprints and the architecture figure's trace."""
    from grader.course.course_directory import create_course, generate_assignment
    from grader.course.known_mistake_fingerprints import write_known_mistake_fingerprints
    from grader.course.reference_trace import write_reference_trace

    with tempfile.TemporaryDirectory(prefix="unet-course-") as scratch:
        released = generate_assignment(create_course(Path(scratch)))
        shutil.copyfile(released, arguments.output)
    print(f"wrote {arguments.output}")
    print(f"wrote {write_known_mistake_fingerprints()}")
    print(f"wrote {write_reference_trace()}")


def autograde(arguments: argparse.Namespace) -> int:
    """Autograde a folder of submissions; write grades.csv, grading-report.json and feedback/ to --out.

    Exits with status 1 when not one submission could be graded: a batch of nothing is an
    error an instructor's script should notice.
    """
    if not arguments.scheduler:
        from grader.warm_process import warm_up

        warm_up()  # first: the warm processes import torch and nbgrader while this one imports the rest

    from tqdm import tqdm

    from grader.autograde import ClassGradebookError, autograde_folder
    from grader.course.submissions import FolderMistake, course_submissions
    from grader.report import BATCH_REPORT_NAME
    from grader.reporting.batch_files import summary_table
    from grader.reporting.class_report import CHECKS_CSV, CLASS_REPORT
    from grader.reporting.gradebook import default_gradebook_url

    started = time.perf_counter()
    try:
        if (arguments.submissions is None) == (arguments.course is None):
            raise FolderMistake("give either a folder of submissions or --course DIR (an nbgrader course)")
        if arguments.course:
            arguments.submissions = course_submissions(arguments.course, arguments.assignment)
            arguments.out = arguments.out or arguments.course / "unet-grading"
            arguments.gradebook = arguments.gradebook or f"sqlite:///{arguments.course.resolve() / 'gradebook.db'}"
        elif arguments.out is None:
            raise FolderMistake("say where results go: --out FOLDER")
        reports = autograde_folder(
            arguments.submissions, arguments.out, GradingLimits.from_arguments(arguments),
            progress=lambda items, total: tqdm(items, total=total, desc="grading", unit="submission"),
            scheduler=arguments.scheduler, gradebook=arguments.gradebook,
            assignment=arguments.assignment if arguments.course else None,
        )
        if arguments.course:
            from grader.course.results import write_into_course

            write_into_course(arguments.course, arguments.out, reports, arguments.assignment)
    except FolderMistake as mistake:
        print(f"error: {mistake}", file=sys.stderr)
        return 2
    except ClassGradebookError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    print(summary_table(reports))
    graded = sum(1 for report in reports if report.graded)
    print(f"\n{graded} of {len(reports)} submissions graded in {elapsed:.0f} s. In {arguments.out}: grades.csv, "
          f"feedback/, {BATCH_REPORT_NAME} (everything, confinement included), {CHECKS_CSV} and {CLASS_REPORT} "
          f"(the class report); the class gradebook is {arguments.gradebook or default_gradebook_url(arguments.out)}")
    if not graded:
        print("error: no submission could be graded (see the reasons above)", file=sys.stderr)
        return 1
    return 0


def release(arguments: argparse.Namespace) -> int:
    """Write the student copy (notebook, unet_kit, data, requirements, README) to publish at --repository."""
    from grader.course.release import release as write_release

    try:
        out = write_release(arguments.out, arguments.repository)
    except ValueError as problem:
        raise SystemExit(f"error: {problem}") from None
    print(f"wrote the student copy to {out}: publish it at {arguments.repository}")
    return 0


def report(arguments: argparse.Namespace) -> int:
    """Rebuild the class report from the checks.csv of one or more grading runs (later runs win)."""
    from grader.reporting.class_report import CHECKS_CSV, CLASS_REPORT, write_class_report

    missing = [str(run) for run in arguments.runs if not (run / CHECKS_CSV).is_file()]
    if missing:
        raise SystemExit(f"no {CHECKS_CSV} in {', '.join(missing)}: pass folders written by `python -m grader autograde`")
    out = write_class_report(arguments.runs, arguments.out or arguments.runs[-1] / CLASS_REPORT)
    print(f"wrote {out}")
    return 0


def course(arguments: argparse.Namespace) -> int:
    """Make or update an nbgrader course directory whose own commands grade with the kit."""
    from grader.course.setup import NEXT_STEPS, make_course

    try:
        made = make_course(arguments.directory, arguments.course_id, arguments.exchange, arguments.assignment)
    except ValueError as problem:
        raise SystemExit(f"error: {problem}") from None
    print("\n".join(made.notes))
    print(NEXT_STEPS.format(root=made.root, assignment=made.assignment))
    return 0


def main(argv: list[str] | None = None) -> int:
    skip_optional_imports()  # before anything imports nbformat
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    generate_command = commands.add_parser("generate", help=generate.__doc__)
    generate_command.add_argument("--output", type=Path, default=STUDENT_NOTEBOOK)
    generate_command.set_defaults(handler=generate)
    autograde_command = commands.add_parser("autograde", help=autograde.__doc__)
    autograde_command.add_argument("submissions", type=Path, nargs="?", default=None,
                                   help="folder of <student_id>.ipynb, <student_id>/UNet_Assignment.ipynb or "
                                        "nbgrader's <student_id>/<assignment>/UNet_Assignment.ipynb")
    autograde_command.add_argument("--course", type=Path, default=None,
                                   help="an nbgrader course: grade its submitted/ folder and write autograded/, "
                                        "feedback/ and its gradebook, as nbgrader autograde would")
    autograde_command.add_argument("--assignment", default="unet", help="with --course: the assignment's name")
    autograde_command.add_argument("--out", type=Path, default=None,
                                   help="where results go (with --course: DIR/unet-grading by default)")
    autograde_command.add_argument("--scheduler", default=None,
                                   help="a dask.distributed scheduler (tcp://HOST:PORT) to grade on; default: this machine")
    autograde_command.add_argument("--gradebook", default=None,
                                   help="the class gradebook's SQLAlchemy URL, as nbgrader's db_url "
                                        "or a path to an SQLite file (default: OUT/gradebook.db; postgresql://... for a server)")
    GradingLimits.add_arguments(autograde_command)
    autograde_command.set_defaults(handler=autograde)
    course_command = commands.add_parser("course", help=course.__doc__)
    course_command.add_argument("directory", type=Path, help="the course directory (made if absent)")
    course_command.add_argument("--course-id", default="unet-isbi2012", help="nbgrader's course id")
    course_command.add_argument("--exchange", type=Path, default=None,
                                help="the exchange root students and instructors share (default: nbgrader's)")
    course_command.add_argument("--assignment", default="unet", help="the assignment's name in nbgrader")
    course_command.set_defaults(handler=course)
    release_command = commands.add_parser("release", help=release.__doc__)
    release_command.add_argument("out", type=Path, help="a new folder outside this repository")
    release_command.add_argument("--repository", required=True,
                                 help="where students will clone it from, e.g. https://github.com/COURSE/unet")
    release_command.set_defaults(handler=release)
    report_command = commands.add_parser("report", help=report.__doc__)
    report_command.add_argument("runs", type=Path, nargs="+", help="output folders of grading runs")
    report_command.add_argument("--out", type=Path, default=None,
                                help="where the page goes (default: class-report.html in the last run)")
    report_command.set_defaults(handler=report)
    arguments = parser.parse_args(argv)
    return arguments.handler(arguments)


if __name__ == "__main__":
    sys.exit(main())
