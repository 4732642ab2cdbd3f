"""Command line of the grader: ``python -m grader generate`` (more commands below)."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from grader.course import STUDENT_NOTEBOOK, create_course, generate_assignment


def generate(arguments: argparse.Namespace) -> None:
    """Regenerate the student notebook at the repository root from the solution notebook."""
    with tempfile.TemporaryDirectory(prefix="unet-course-") as scratch:
        released = generate_assignment(create_course(Path(scratch)))
        shutil.copyfile(released, arguments.output)
    print(f"wrote {arguments.output}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    generate_command = commands.add_parser("generate", help=generate.__doc__)
    generate_command.add_argument("--output", type=Path, default=STUDENT_NOTEBOOK)
    generate_command.set_defaults(handler=generate)
    arguments = parser.parse_args(argv)
    arguments.handler(arguments)


if __name__ == "__main__":
    main()
