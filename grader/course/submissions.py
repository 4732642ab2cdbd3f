"""The folder of submissions an instructor hands ``python -m grader autograde``, read with care.

Accepted: ``<id>.ipynb``, ``<id>/UNet_Assignment.ipynb`` (or ``<id>/<one notebook>``), and
nbgrader's own layout ``<id>/<assignment>/UNet_Assignment.ipynb`` (``submitted/`` of a course).
The usual mistakes get one line each before any grading starts (``FolderMistake``): a single
student's folder, a course directory, a gradebook folder that does not exist. Per student: a
file name that is not a valid id says how to rename it; a folder with several notebooks is
graded by the one with answers (a browser's ``UNet_Assignment (1).ipynb`` beside the blank
one), with a note, or refused when more than one has answers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.report import SubmissionReport
from unet_kit.assignment import NOTEBOOK_NAME, TASKS, nbgrader_metadata

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
#: Larger notebooks are not opened to look for answers here (normalising reports them later).
LOOK_FOR_ANSWERS_BYTES = 64 * 2**20
STUB = "raise NotImplementedError()"


class FolderMistake(ValueError):
    """The folder given is not a folder of submissions; the message says what it is and what to pass."""


@dataclass
class Submission:
    student_id: str
    notebook: Path
    notes: list[str] = field(default_factory=list)

    @property
    def timestamp(self) -> str | None:
        """nbgrader's ``timestamp.txt`` beside the notebook (``collect`` and ``submit`` write it), if any."""
        try:
            return (self.notebook.parent / "timestamp.txt").read_text(encoding="utf-8").strip()[:100] or None
        except (OSError, UnicodeDecodeError):
            return None


def check_folder(folder: Path) -> None:
    """One clear line for a folder that is one student's, or an nbgrader course directory."""
    if not folder.is_dir():
        raise FolderMistake(f"{folder} is not a folder of submissions")
    if (folder / NOTEBOOK_NAME).is_file():
        raise FolderMistake(f"{folder} holds {NOTEBOOK_NAME} itself, so it looks like one student's folder: "
                            f"pass the folder that holds one folder or notebook per student (its parent, "
                            f"{folder.resolve().parent}, names that student after this folder)")
    if (folder / "nbgrader_config.py").is_file() or {"source", "release"} <= {p.name for p in folder.iterdir()}:
        raise FolderMistake(f"{folder} is an nbgrader course directory: run `nbgrader autograde ASSIGNMENT` in it "
                            f"(`python -m grader course {folder}` makes it grade with the kit), or pass "
                            f"{folder / 'submitted'} to grade its submissions here")


def gradebook_url(value: str) -> str:
    """``--gradebook``: an SQLAlchemy URL, or a plain path to an SQLite file, whose folder must exist."""
    url = value if "://" in value else f"sqlite:///{Path(value).expanduser().resolve()}"
    if url.startswith("sqlite:///"):
        folder = Path(url.removeprefix("sqlite:///")).parent
        if not folder.is_dir():
            raise FolderMistake(f"the folder of the gradebook {value} does not exist: make {folder} first, "
                                f"or pass another path")
    return url


def has_answers(notebook: Path) -> bool | None:
    """Whether any task's answer cell holds more than the stub; None when the file cannot be read here."""
    try:
        if notebook.stat().st_size > LOOK_FOR_ANSWERS_BYTES:
            return None
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
        answers = [cell for cell in cells if isinstance(cell, dict)
                   and nbgrader_metadata(cell).get("grade_id") in TASKS]
    except (OSError, ValueError, AttributeError, RecursionError):
        return None
    return any(STUB not in "".join(cell.get("source", "")) for cell in answers)


def _one_notebook(folder: Path, student_id: str, assignment: str | None = None) -> Submission | SubmissionReport:
    """The notebook to grade in one student's folder (nbgrader's ``<assignment>/`` below it included)."""
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        nested = sorted(folder.glob(f"{assignment or '*'}/{NOTEBOOK_NAME}"))
        if len(nested) == 1:  # nbgrader's submitted/<student>/<assignment>/
            return Submission(student_id, nested[0])
        if len(nested) > 1:
            return SubmissionReport(student_id, problem=f"{folder.name}/ holds several assignments "
                                    f"({', '.join(path.parent.name for path in nested)}): pass one at a time")
        return SubmissionReport(student_id, problem=f"no {NOTEBOOK_NAME} in {folder.name}/")
    if len(notebooks) == 1:
        return Submission(student_id, notebooks[0])
    answered = [path for path in notebooks if has_answers(path) is not False]
    names = ", ".join(path.name for path in notebooks)
    if len(answered) == 1:
        return Submission(student_id, answered[0], notes=[
            f"{folder.name}/ holds {len(notebooks)} notebooks ({names}): graded {answered[0].name}, the one with answers"])
    return SubmissionReport(student_id, problem=f"{folder.name}/ holds {len(notebooks)} notebooks ({names}) and "
                            f"{'each' if answered else 'none'} has answers: leave the one to grade")


def find_submissions(folder: Path, assignment: str | None = None) -> tuple[list[Submission], list[SubmissionReport]]:
    """Every submission in ``folder``, plus a report for each entry that cannot be graded.

    In nbgrader's layout, ``assignment`` picks ``<student>/<assignment>/`` where a student has several.
    """
    check_folder(folder)
    submissions, unusable = [], []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            student_id = entry.name
        elif entry.suffix == ".ipynb":
            student_id = entry.stem
        else:
            continue
        if not STUDENT_ID.match(student_id):
            suggestion = re.sub(r"[^A-Za-z0-9_.-]+", "_", student_id).strip("_.-") or "student_id"
            unusable.append(SubmissionReport(student_id, problem=(
                f"the {'folder' if entry.is_dir() else 'file'} name is the student id, which may hold only "
                f"letters, digits, '.', '_' and '-': rename {entry.name!r} to "
                f"{suggestion + ('' if entry.is_dir() else '.ipynb')!r}, say")))
            continue
        found = _one_notebook(entry, student_id, assignment) if entry.is_dir() else Submission(student_id, entry)
        (submissions if isinstance(found, Submission) else unusable).append(found)
    return submissions, unusable


def course_submissions(course: Path, assignment: str) -> Path:
    """``--course DIR``: the course's ``submitted/`` folder, checked to be an nbgrader course's."""
    from unet_kit.assignment import ASSIGNMENT

    if assignment != ASSIGNMENT:
        raise FolderMistake(f"`python -m grader autograde --course` grades the kit's assignment {ASSIGNMENT!r}; "
                            f"for {assignment!r} run `nbgrader autograde {assignment}` in {course}")
    submitted = course / "submitted"
    if not submitted.is_dir():
        raise FolderMistake(f"{course} has no submitted/ folder: is it an nbgrader course where "
                            f"`nbgrader collect {assignment}` ran?")
    return submitted


def folders_beside(submissions: Path) -> list[Path]:
    """What confined code may not read besides the submissions: when they are an nbgrader course's
    ``submitted/``, the whole course (its source holds the solution and the hidden tests, its
    gradebook every grade) and the exchange its config names."""
    course = submissions.resolve().parent
    if not ((course / "nbgrader_config.py").is_file() or (course / "source").is_dir()):
        return []
    hidden = [course]
    try:
        from traitlets.config.loader import PyFileConfigLoader

        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        if "root" in config.get("Exchange", {}):
            hidden.append(Path(config.Exchange.root).resolve())
    except Exception:  # noqa: BLE001 - an unreadable config hides the course all the same
        pass
    return [folder for folder in hidden if folder.is_dir()]
