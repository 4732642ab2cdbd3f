"""The kit's steps inside nbgrader's own ``autograde``, for instructors who grade with nbgrader.

``grader.course.settings.configure_course`` puts these into a course's preprocessor lists, so
``nbgrader autograde unet`` in the course directory does what ``python -m grader autograde``
does for one submission, with the same step functions (``grader.autograde``):

* ``NormaliseSubmission`` (first of the sanitising steps): the submitted file, read as JSON, is
  rebuilt on the release's skeleton, repairs noted;
* ``CheckHiddenTests`` (first of the autograding steps, in place of nbgrader's ``Execute``): the
  notebook runs once, in a confined probe (``grader.confinement.jail``) with its own cgroups and
  scratch tmpfs, in a warm process of its own (``grader.warm_process``); the hidden checks score
  every task against it, and its recorded outputs become the notebook's. Cells that hung or ended
  the probe are taken out with a note;
* ``RecordCheckScores`` (after nbgrader's ``SaveAutoGrades``): the checker's scores replace what
  the visible tests earned; manual scores, comments and extra credit stay.

Their report lives in the course's ``.unet-grading/<student>/<assignment>/`` folder, which
``generate_feedback`` (``grader.reporting.feedback``) reads. When the checks cannot run, the step raises:
nbgrader then fails that submission, says so and records no visible-tests-only grade.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from traitlets import Bool

from grader.confinement.cgroups import SubmissionGroups
from grader.confinement.policy import prepare_kit
from grader.confinement.scratch import make_scratch, remove_special_files, remove_stale_scratch, remove_tree, submission_scratch
from grader.course.probe_outputs import with_probe_outputs
from grader.course.setup import SHIPPED_BESIDE_THE_NOTEBOOK
from grader.course.submissions import Submission
from grader.limits import DEFAULT_LIMITS, GradingLimits
from grader.report import SubmissionReport
from grader.reporting.gradebook import set_task_scores
from grader.submission import (
    STUDENT_REPORT_NAME,
    Grading,
    StopGrading,
    check_in_warm_process,
    normalise_step,
    note_disk_limit,
)

#: In the course directory: one folder per student and assignment with the kit's report and work files.
WORK_FOLDER = ".unet-grading"
DEFAULT_EXCHANGE_ROOT = "/srv/nbgrader/exchange"
#: The one line an instructor needs when the hidden checks cannot run.
FIX = ("the hidden checks could not run, so nothing was graded for this submission. Fix: install the kit "
       "into the Python that runs nbgrader (`make env` in the kit, or `pip install -e KIT`), then run "
       "`python -m grader course .` here and autograde again")


class HiddenChecksUnavailable(RuntimeError):
    """The kit cannot grade this submission; nbgrader reports it as that submission's failure."""


@dataclass(frozen=True)
class CourseSubmission:
    """Where one submission's files are in an nbgrader course, from the converter's resources."""

    course: CourseDirectory
    student: str
    assignment: str
    notebook: str

    @classmethod
    def of(cls, preprocessor: Preprocessor, resources: dict) -> CourseSubmission:
        about = resources["nbgrader"]
        return cls(CourseDirectory(config=preprocessor.config), about["student"], about["assignment"], about["notebook"])

    @property
    def root(self) -> Path:
        return Path(self.course.root).resolve()

    @property
    def submitted(self) -> Path:
        return Path(self.course.format_path(self.course.submitted_directory, self.student, self.assignment),
                    f"{self.notebook}.ipynb")

    @property
    def release(self) -> Path:
        return Path(self.course.format_path(self.course.release_directory, ".", self.assignment), f"{self.notebook}.ipynb")

    @property
    def exchange(self) -> Path:
        """The exchange root (nbgrader's default unless configured): other students' work lies there."""
        section = self.course.config.get("Exchange", {})
        return Path(section.get("root", DEFAULT_EXCHANGE_ROOT))

    @property
    def hidden(self) -> list[Path]:
        """What confined code may not read: the course (solutions, gradebook, every submission) and the exchange."""
        return [self.root] + ([self.exchange] if self.exchange.is_dir() else [])

    @property
    def work(self) -> Path:
        folder = self.root / WORK_FOLDER / self.student / self.assignment
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @property
    def report_file(self) -> Path:
        return self.work / STUDENT_REPORT_NAME

    def load_report(self) -> SubmissionReport:
        if self.report_file.is_file():
            return SubmissionReport.from_json(self.report_file.read_text())
        return SubmissionReport(self.student)

    def save_report(self, report: SubmissionReport) -> None:
        self.report_file.write_text(report.to_json())


def limits_of(preprocessor: Preprocessor) -> GradingLimits:
    """``c.GradingLimits`` of the course's config, else the kit's defaults."""
    section = preprocessor.config.get("GradingLimits")
    return GradingLimits(**dict(section)) if section else DEFAULT_LIMITS


class _KitStep:
    """Runs ``step(grading)`` for one submission with fresh cgroups and scratch, its report kept in the course.

    A ``StopGrading`` fails the submission in nbgrader: with the reason when ``blame_submission``
    (the file cannot be read as a notebook), else with the fix for an instructor.
    """

    def run_step(self, resources: dict, step, notebook=None, blame_submission: bool = False):
        where = CourseSubmission.of(self, resources)
        limits = limits_of(self)
        remove_stale_scratch()
        scratch_root = make_scratch("course")
        report = where.load_report()
        groups = SubmissionGroups(f"unet-course-{os.getpid()}-{where.student}", processes=limits.processes,
                                  memory_bytes=limits.memory_bytes)
        try:
            with groups:
                grading = Grading(Submission(where.student, where.submitted), where.work, where.work,
                                  prepare_kit(scratch_root), [*where.hidden, scratch_root], limits, groups, report,
                                  submission_scratch(scratch_root), notebook=notebook,
                                  release=where.release)
                result = step(grading)
                note_disk_limit(grading)
                return grading, result
        except StopGrading as stop:
            if blame_submission:
                raise HiddenChecksUnavailable(f"{where.student}'s submission cannot be graded: {stop}") from stop
            raise HiddenChecksUnavailable(f"{where.student}: {stop}; {FIX}") from stop
        finally:
            where.save_report(report)
            remove_tree(scratch_root)


class NormaliseSubmission(_KitStep, Preprocessor):
    """The submitted file, read as JSON and rebuilt on the release's skeleton (``grader.course.normalise``)."""

    enabled = Bool(True, help="nbconvert runs preprocessors only when enabled").tag(config=True)

    def preprocess(self, nb, resources):
        where = CourseSubmission.of(self, resources)
        where.save_report(SubmissionReport(where.student))  # a new grading starts from nothing
        grading, _ = self.run_step(resources, normalise_step, blame_submission=True)
        return grading.notebook, resources


class CheckHiddenTests(_KitStep, Preprocessor):
    """The one execution: the probe runs the notebook, the hidden checks score every task against
    it, and its outputs become the notebook's (``grader.course.probe_outputs``)."""

    enabled = Bool(True, help="nbconvert runs preprocessors only when enabled").tag(config=True)

    def preprocess(self, nb, resources):
        grading, checked = self.run_step(resources, check_in_warm_process, notebook=nb)
        return with_probe_outputs(nb, checked.cells), resources


class RecordCheckScores(Preprocessor):
    """The checker's score of each task into the gradebook, over what nbgrader's visible tests earned.

    Then the autograded folder keeps nbgrader's files only: the kit and data that nbgrader
    copied from the source folder (and students submitted back) would otherwise travel on into
    every feedback folder, and a link or special file is removed with a note.
    """

    enabled = Bool(True, help="nbconvert runs preprocessors only when enabled").tag(config=True)

    def preprocess(self, nb, resources):
        where = CourseSubmission.of(self, resources)
        report = where.load_report()
        if not report.tasks:
            raise HiddenChecksUnavailable(f"{where.student}: the hidden checks left no scores; {FIX}")
        with Gradebook(resources["nbgrader"]["db_url"], where.course.course_id) as gradebook:
            set_task_scores(gradebook, report, where.assignment, where.notebook)
        autograded = Path(resources["metadata"]["path"])
        for shipped in SHIPPED_BESIDE_THE_NOTEBOOK:
            remove_tree(autograded / shipped)
        report.notes.extend(remove_special_files(autograded))
        where.save_report(report)
        return nb, resources
