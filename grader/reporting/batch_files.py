"""The batch's files for people and tools: grades.csv, the batch report, the summary table."""


from __future__ import annotations

import csv
import json
from pathlib import Path

from grader.report import BATCH_REPORT_NAME, SubmissionReport
from unet_kit.assignment import TASKS


def write_grades(reports: list[SubmissionReport], path: Path) -> None:
    """One row per task per graded student: student_id, task, score, max_score."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "task", "score", "max_score"])
        for report in sorted(reports, key=lambda r: r.student_id):
            for task in filter(None, map(report.task, TASKS)):
                writer.writerow([report.student_id, task.task, f"{task.score:g}", f"{task.points:g}"])


def write_batch_report(reports: list[SubmissionReport], path: Path) -> None:
    """Every submission's report, confinement layers included, for tools and for the record."""
    path.write_text(json.dumps([json.loads(report.to_json()) for report in sorted(reports, key=lambda r: r.student_id)],
                               indent=1))


def summary_table(reports: list[SubmissionReport]) -> str:
    """A plain-text table: one line per student, a column per task, then the total or the problem;
    then the notes, and one warning line if a confinement layer did not hold."""
    reports = sorted(reports, key=lambda r: r.student_id)
    header = ["student", *TASKS, "total"]
    rows = []
    for report in reports:
        if report.problem:
            rows.append([report.student_id, *["-"] * len(TASKS), f"not graded: {report.problem}"])
        else:
            cells = [f"{t.score:g}/{t.points:g}" if (t := report.task(name)) else "?" for name in TASKS]
            rows.append([report.student_id, *cells, f"{report.total:g}/{report.maximum:g}"])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row[:-1], widths)) + "  " + row[-1]
             for row in [header, *rows]]
    notes = [f"  {report.student_id}: {note}" for report in reports for note in report.notes]
    missing = sorted({gap for report in reports for gap in report.missing_layers()})
    warning = [f"WARNING: confinement incomplete on this machine, missing: {', '.join(missing)} "
               f"(see {BATCH_REPORT_NAME} and the README's 'What the grader protects against')"] if missing else []
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:], *(["", "notes:", *notes] if notes else []),
                      *([""] + warning if warning else [])])
