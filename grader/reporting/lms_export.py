"""Grades into a learning management system, through nbgrader's own ``export`` seam.

``nbgrader export --exporter grader.reporting.lms_export.CanvasExport --to canvas.csv`` writes Canvas's
gradebook import file; ``--exporter grader.reporting.lms_export.MoodleExport`` writes Moodle's grade
import file. Both read a roster (``--Roster.path roster.csv``; ``c.Roster.path`` in the
course config) that maps nbgrader's student ids to the LMS's identities:

    student_id,name,lms_id,sis_user_id,sis_login_id,section,email
    alice,"Smith, Alice",1021,S1021,asmith,Section A,alice@uni.example

A student on the roster without a submission gets an empty cell (not graded, not zero); a
submission of a student who is not on the roster stops the export before anything is written.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Unicode
from traitlets.config import Configurable

ROSTER_COLUMNS = ("student_id", "name", "lms_id", "sis_user_id", "sis_login_id", "section", "email")


class Roster(Configurable):
    path = Unicode("roster.csv", help="CSV with columns " + ", ".join(ROSTER_COLUMNS)).tag(config=True)


class ExportError(ValueError):
    """The export would be wrong; nothing was written."""


@dataclass(frozen=True)
class Enrolled:
    student_id: str
    name: str
    lms_id: str
    sis_user_id: str
    sis_login_id: str
    section: str
    email: str


def read_roster(path: Path) -> list[Enrolled]:
    if not path.is_file():
        raise ExportError(f"no roster at {path}: write one with the columns {', '.join(ROSTER_COLUMNS)}")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in ROSTER_COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise ExportError(f"the roster {path} lacks the columns {', '.join(missing)}")
        return [Enrolled(**{column: row[column].strip() for column in ROSTER_COLUMNS}) for row in reader]


def final_scores(gradebook: Gradebook, assignment: str) -> dict[str, float]:
    """Each submitting student's score after the late penalty, as nbgrader's own CSV export computes it."""
    scores = {}
    for student in gradebook.students:
        try:
            submission = gradebook.find_submission(assignment, student.id)
        except MissingEntry:
            continue
        scores[student.id] = max(0.0, submission.score - (submission.late_submission_penalty or 0.0))
    return scores


def _number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


class _LmsExport(ExportPlugin):
    """One assignment's final scores, one row per rostered student; subclasses lay out the file."""

    def export(self, gradebook: Gradebook) -> None:
        assignments = [str(name) for name in self.assignment] or [a.name for a in gradebook.assignments]
        if len(assignments) != 1:
            raise ExportError(f"export one assignment at a time (--assignment NAME); the gradebook holds "
                              f"{', '.join(assignments) or 'none'}")
        (assignment,) = assignments
        roster = read_roster(Path(Roster(parent=self).path))
        scores = final_scores(gradebook, assignment)
        unknown = sorted(set(scores) - {student.student_id for student in roster})
        if unknown:
            raise ExportError(f"submissions of students who are not on the roster: {', '.join(unknown)}; "
                              f"add them to {Roster(parent=self).path} (nothing was written)")
        points = gradebook.find_assignment(assignment).max_score
        text = self.layout(assignment, points, roster, scores)
        target = Path(self.to or self.default_file)
        target.write_text(text, encoding="utf-8")
        self.log.info("Wrote %s for %d students", target, len(roster))

    default_file = "lms.csv"

    def layout(self, assignment: str, points: float, roster: list[Enrolled], scores: dict[str, float]) -> str:
        raise NotImplementedError


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


class CanvasExport(_LmsExport):
    """Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then the assignment;
    a "Points Possible" row under the header gives the assignment's points."""

    column = Unicode("", help="the assignment's column header in Canvas (default: the nbgrader name); "
                     "'Name (1234)' updates Canvas assignment 1234").tag(config=True)
    default_file = "canvas-grades.csv"

    def layout(self, assignment, points, roster, scores):
        rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", self.column or assignment],
                ["    Points Possible", "", "", "", "", _number(points)]]
        rows += [[student.name, student.lms_id, student.sis_user_id, student.sis_login_id, student.section,
                  _number(scores[student.student_id]) if student.student_id in scores else ""]
                 for student in roster]
        return _csv(rows)


class MoodleExport(_LmsExport):
    """Moodle's grade import: an identifier column (mapped to a user field on import) and the grade."""

    identifier = Unicode("email", help="the roster column Moodle matches users by: email, lms_id, "
                         "sis_user_id or sis_login_id").tag(config=True)
    column = Unicode("", help="the grade column's header (default: the nbgrader name)").tag(config=True)
    default_file = "moodle-grades.csv"

    HEADERS = {"email": "Email address", "lms_id": "ID number", "sis_user_id": "ID number", "sis_login_id": "Username"}

    def layout(self, assignment, points, roster, scores):
        if self.identifier not in self.HEADERS:
            raise ExportError(f"MoodleExport.identifier must be one of {', '.join(self.HEADERS)}")
        rows = [[self.HEADERS[self.identifier], self.column or assignment]]
        rows += [[getattr(student, self.identifier),
                  _number(scores[student.student_id]) if student.student_id in scores else ""]
                 for student in roster]
        return _csv(rows)
