"""The class report: what a class got right and wrong, check by check and misconception by misconception.

``checks.csv`` (one row per student, task and hidden check) is the report's only required
input, so ``python -m grader report RUN [RUN ...]`` can rebuild it from several grading runs
(a later run's rows replace a student's earlier ones); ``grading-report.json`` beside it adds
the submissions that could not be graded. The page is one self-contained HTML file: plots
are embedded PNGs with alt text, nothing is fetched from the network, and every name or
reason that came from a submission is escaped.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from grader.checking.misconception_feedback import EXPLANATIONS
from grader.report import BATCH_REPORT_NAME, SubmissionReport
from unet_kit.assignment import TASKS

CHECKS_CSV = "checks.csv"
CLASS_REPORT = "class-report.html"
COLUMNS = ("student_id", "task", "check", "passed", "misconception")
#: A check nearly everyone fails, or one that the weaker students pass more often than the
#: stronger, is flagged: the check may be wrong, or the teaching may have missed something.
RARELY_PASSED = 0.1


@dataclass(frozen=True)
class CheckRow:
    student_id: str
    task: str
    check: str
    passed: bool
    misconception: str = ""  # the task's diagnosed misconception ids, space-separated, on failed rows


def check_rows(reports: list[SubmissionReport]) -> list[CheckRow]:
    """One row per graded student, task and hidden check (each case of a parametrised check)."""
    rows = []
    for report in sorted(reports, key=lambda r: r.student_id):
        for task in report.tasks:
            diagnosed = " ".join(diagnosis.id for diagnosis in task.misconceptions)
            rows += [CheckRow(report.student_id, task.task, check.label, check.passed,
                              "" if check.passed else diagnosed) for check in task.checks]
    return rows


def write_checks_csv(rows: list[CheckRow], path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows([row.student_id, row.task, row.check, str(row.passed).lower(), row.misconception]
                         for row in rows)


def read_checks_csv(path: Path) -> list[CheckRow]:
    with path.open(newline="") as handle:
        return [CheckRow(row["student_id"], row["task"], row["check"], row["passed"] == "true", row["misconception"])
                for row in csv.DictReader(handle)]


def merge_runs(runs: list[list[CheckRow]]) -> list[CheckRow]:
    """The rows of several runs, a student's rows in a later run replacing their earlier ones."""
    latest: dict[str, list[CheckRow]] = {}
    for rows in runs:
        by_student: dict[str, list[CheckRow]] = defaultdict(list)
        for row in rows:
            by_student[row.student_id].append(row)
        latest.update(by_student)
    return [row for student in sorted(latest) for row in latest[student]]


# -- statistics ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckStatistics:
    task: str
    check: str
    passed: int
    students: int
    discrimination: float | None  # correlation of passing it with the rest of the score

    @property
    def pass_rate(self) -> float:
        return self.passed / self.students if self.students else 0.0

    @property
    def warning(self) -> str:
        if self.pass_rate < RARELY_PASSED:
            return "nearly everyone fails it: check the check or the teaching"
        if self.discrimination is not None and self.discrimination < 0:
            return "weaker students pass it more often: check the check or the teaching"
        return ""


def _correlation(first: list[float], second: list[float]) -> float | None:
    if len(first) < 3 or len(set(first)) < 2 or len(set(second)) < 2:
        return None
    return statistics.correlation(first, second)


def check_statistics(rows: list[CheckRow]) -> list[CheckStatistics]:
    """Pass rate and discrimination of every check, in the order the checks first appear."""
    passed_by_student: dict[str, dict[tuple[str, str], bool]] = defaultdict(dict)
    for row in rows:
        passed_by_student[row.student_id][(row.task, row.check)] = row.passed
    checks = list(dict.fromkeys((row.task, row.check) for row in rows))
    result = []
    for key in checks:
        takers = [student for student, checks_of in passed_by_student.items() if key in checks_of]
        outcome = [float(passed_by_student[student][key]) for student in takers]
        rest = [statistics.fmean(float(passed) for other, passed in passed_by_student[student].items() if other != key)
                if len(passed_by_student[student]) > 1 else 0.0 for student in takers]
        result.append(CheckStatistics(*key, int(sum(outcome)), len(takers), _correlation(outcome, rest)))
    return result


def misconception_counts(rows: list[CheckRow]) -> list[tuple[str, list[str]]]:
    """Each diagnosed misconception with the students who have it, the most common first."""
    students: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for misconception in row.misconception.split():
            students[misconception].add(row.student_id)
    return sorted(((m, sorted(s)) for m, s in students.items()), key=lambda item: (-len(item[1]), item[0]))


def task_scores(rows: list[CheckRow], points: dict[str, float]) -> dict[str, dict[str, float]]:
    """Each student's score per task: the task's points times the share of its checks passed."""
    outcomes: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        outcomes[row.student_id][row.task].append(row.passed)
    return {student: {task: points.get(task, 1.0) * sum(passed) / len(passed) for task, passed in tasks.items()}
            for student, tasks in outcomes.items()}


# -- the page -----------------------------------------------------------------------------------
def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def score_plots(scores: dict[str, dict[str, float]], points: dict[str, float]) -> list[tuple[str, str]]:
    """Histograms of total and per-task scores, as (base64 PNG, alt text)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    totals = [sum(tasks.values()) for tasks in scores.values()]
    maximum = sum(points.values())
    figure, axis = plt.subplots(figsize=(6, 2.6))
    axis.hist(totals, bins=min(15, max(5, len(totals) // 2)), range=(0, maximum), color="#4c72b0")
    axis.set_xlabel(f"total score (of {maximum:g})")
    axis.set_ylabel("students")
    total_plot = (_png(figure), f"Histogram of the total scores of {len(totals)} students: median "
                  f"{statistics.median(totals) if totals else 0:g} of {maximum:g}")
    plt.close(figure)
    figure, axes = plt.subplots(1, len(TASKS), figsize=(12, 2.2), sharey=True)
    medians = []
    for axis, task in zip(axes, TASKS):
        values = [tasks[task] for tasks in scores.values() if task in tasks]
        axis.hist(values, bins=8, range=(0, points.get(task, 1.0)), color="#55a868")
        axis.set_title(task.replace("_", " "), fontsize=9)
        medians.append(f"{task} {statistics.median(values) if values else 0:g} of {points.get(task, 1.0):g}")
    axes[0].set_ylabel("students")
    task_plot = (_png(figure), "Histograms of the score in each task; medians: " + ", ".join(medians))
    plt.close(figure)
    return [total_plot, task_plot]


def _table(header: list[str], body: list[list[str]], css_class: str) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    rows = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in body)
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #ccc; padding: .3em .6em; }
th { background: #f3f3f3; text-align: left; } td.number { text-align: right; } .warning { color: #a33; }
img { max-width: 100%; }
"""


def render_class_report(rows: list[CheckRow], points: dict[str, float],
                        ungraded: list[tuple[str, str]] = (), explanations: dict[str, str] | None = None) -> str:
    """The instructor's page for ``rows`` (and the submissions that could not be graded)."""
    explanations = explanations or {}
    scores = task_scores(rows, points)
    statistics_of_checks = check_statistics(rows)
    plots = "".join(f'<p><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}"></p>'
                    for data, alt in score_plots(scores, points))
    misconceptions = _table(
        ["misconception", "students", "who", "what it is"],
        [[f"<code>{html.escape(m)}</code>", f'<span class="count">{len(s)}</span>',
          html.escape(", ".join(s)), html.escape(explanations.get(m, "").split(". ")[0])]
         for m, s in misconception_counts(rows)], "misconceptions")
    checks = _table(
        ["task", "check", "passed", "pass rate", "discrimination", "flag"],
        [[html.escape(c.task), f"<code>{html.escape(c.check)}</code>", f"{c.passed} of {c.students}",
          f"{c.pass_rate:.0%}", "-" if c.discrimination is None else f"{c.discrimination:+.2f}",
          f'<span class="warning">{html.escape(c.warning)}</span>' if c.warning else ""]
         for c in statistics_of_checks], "checks")
    not_graded = _table(["student", "reason"], [[html.escape(s), html.escape(r)] for s, r in ungraded],
                        "not-graded") if ungraded else "<p>Every submission was graded.</p>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>U-Net assignment: class report</title>
<style>{STYLE}</style></head><body>
<h1>U-Net assignment: class report</h1>
<p>{len(scores)} students graded, {len(ungraded)} submissions not graded, {len(statistics_of_checks)} hidden checks.</p>
<h2>Scores</h2>{plots}
<h2>Misconceptions, most common first</h2>
<p>Named by the grader when a student's outputs match what that mistake computes.</p>{misconceptions}
<h2>Hidden checks</h2>
<p>Discrimination is the correlation between passing a check and the share of the other checks
passed: near 0, the check tells little about the student; below 0, weaker students pass it more.</p>{checks}
<h2>Not graded</h2>{not_graded}
</body></html>
"""


def write_class_files(reports: list[SubmissionReport], output: Path) -> None:
    """checks.csv and class-report.html for one grading run, into its output folder."""

    rows = check_rows(reports)
    write_checks_csv(rows, output / CHECKS_CSV)
    points = {task.task: task.points for report in reports for task in report.tasks}
    ungraded = sorted((report.student_id, report.problem) for report in reports if report.problem)
    page = render_class_report(rows, points, ungraded, EXPLANATIONS)
    (output / CLASS_REPORT).write_text(page)


def write_class_report(runs: list[Path], out: Path) -> Path:
    """Rebuild the report from the ``checks.csv`` of one or more result folders into ``out``."""
    from grader.course.course_directory import task_points

    rows = merge_runs([read_checks_csv(folder / CHECKS_CSV) for folder in runs])
    graded = {row.student_id for row in rows}
    ungraded = {}
    for folder in runs:
        report_file = folder / BATCH_REPORT_NAME
        if report_file.is_file():
            for report in map(SubmissionReport.from_dict, json.loads(report_file.read_text())):
                if report.problem and report.student_id not in graded:
                    ungraded[report.student_id] = report.problem
    page = render_class_report(rows, task_points(), sorted(ungraded.items()),
                               EXPLANATIONS)
    out.write_text(page)
    return out
