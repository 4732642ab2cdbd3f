"""An instructor's nbgrader course, driven by nbgrader's own commands only, on a real local exchange.

The course is made by ``python -m grader course``; three students, each with a home of their
own, fetch the assignment, run its set-up cells in the fetched folder, fill it in (a correct
answer, a wrong crop, a nearest-neighbour expanding block) and submit. The instructor collects,
autogrades, writes and releases feedback and exports, as nbgrader's documentation teaches: the
scores are the kit's (equal to ``python -m grader autograde`` on the same notebooks in the test
batch), each student's page names their misconception, and manual grading survives a re-grade
by nbgrader's command and by the kit's (``python -m grader autograde --course``).
Every command runs as an instructor's shell would: the kit's environment, no ``PYTHONPATH``.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from tests.submissions import MUTANTS, filled_in
from unet_kit.assignment import NOTEBOOK_NAME, TASKS, grade_id_of_test_cell

pytestmark = pytest.mark.slow

COURSE_ID = "unet-demo"
#: student -> the name of the same notebook in the test batch (tests/batch.py)
STUDENTS = {"alice": "solution", "bob": "expanding_nearest_upsampling", "carol": "crop_off_by_one"}
MUTANT = {mutant.name: mutant for mutant in MUTANTS}
NOTEBOOK_ID = NOTEBOOK_NAME.removesuffix(".ipynb")


def shell_environment(home: Path) -> dict[str, str]:
    """A user's shell with the kit's environment on PATH: no PYTHONPATH, their own HOME."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), environment.get("PATH", "")])
    environment["HOME"] = str(home)
    return environment


def run(where: Path, home: Path, *command: str, expect_success: bool = True) -> subprocess.CompletedProcess:
    completed = subprocess.run(list(command), cwd=where, env=shell_environment(home), capture_output=True,
                               text=True, timeout=1800)
    output = completed.stdout + completed.stderr
    if expect_success:
        assert completed.returncode == 0, output[-6000:]
        assert "Exception while loading config file" not in output, output[-3000:]
    return completed


def nbgrader(where: Path, home: Path, *arguments: str, **options) -> subprocess.CompletedProcess:
    return run(where, home, sys.executable, "-m", "nbgrader", *arguments, **options)


@dataclass
class Term:
    root: Path
    course: Path
    exchange: Path
    instructor: Path
    setup_output: str = ""
    homes: dict[str, Path] = field(default_factory=dict)
    autograded: dict[str, dict[str, float]] = field(default_factory=dict)  # each student's scores after autograde

    def student(self, student: str, *arguments: str) -> subprocess.CompletedProcess:
        """``nbgrader ARGUMENTS`` as ``student`` in their home, with the course's exchange."""
        return nbgrader(self.homes[student], self.homes[student], *arguments, "--course", COURSE_ID,
                        f"--Exchange.root={self.exchange}", f"--CourseDirectory.student_id={student}")

    def instructor_runs(self, *arguments: str, **options) -> subprocess.CompletedProcess:
        return nbgrader(self.course, self.instructor, *arguments, **options)

    def task_scores(self, student: str) -> dict[str, float]:
        with Gradebook(f"sqlite:///{self.course / 'gradebook.db'}", COURSE_ID) as gradebook:
            return {task: gradebook.find_grade(grade_id_of_test_cell(task), NOTEBOOK_ID, "unet", student).auto_score
                    for task in TASKS}


def run_setup_cells(folder: Path, home: Path) -> str:
    """The fetched notebook's cells before the first task, as a student runs them there; what they printed."""
    notebook = nbformat.read(folder / NOTEBOOK_NAME, as_version=4)
    first_task = next(i for i, cell in enumerate(notebook.cells) if cell.metadata.get("nbgrader", {}).get("solution"))
    notebook.cells = [cell for cell in notebook.cells[:first_task] if cell.cell_type == "code"]
    notebook.cells.append(nbformat.v4.new_code_cell(
        "import unet_kit, unet_kit.data\nprint('kit:', unet_kit.__file__)\nprint('data:', unet_kit.data.DEFAULT_DATA_DIR)"))
    environment = shell_environment(home) | {"MPLBACKEND": "Agg", "UNET_BUDGET": "smoke"}
    environment.pop("ISBI2012_SOURCE", None)  # no other copy to repair from: the fetched data must do
    client = NotebookClient(notebook, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(folder)}})
    client.execute(env=environment)
    return "".join(output.get("text", "") for cell in notebook.cells for output in cell.outputs)


@pytest.fixture(scope="session")  # not module: the test that compares with the corpus batch runs at the session's end
def term(tmp_path_factory) -> Term:
    """A whole term through nbgrader's own commands, once: about 70 s on 2 idle cores, more beside the corpus batch.

    Course set-up, release, three students fetching (one running the set-up cells in a real
    kernel) and submitting, collection and ``nbgrader autograde`` (three submissions through the
    kit's preprocessors, each run once in a confined probe). Nothing cheaper shows that an
    instructor who only knows nbgrader gets the kit's grades.
    """
    root = tmp_path_factory.mktemp("term")
    term = Term(root, root / "course", root / "exchange", root / "instructor")
    term.exchange.mkdir()
    term.instructor.mkdir()
    run(root, term.instructor, sys.executable, "-m", "grader", "course", str(term.course), "--course-id", COURSE_ID,
        "--exchange", str(term.exchange))
    term.instructor_runs("generate_assignment", "unet")
    term.instructor_runs("release_assignment", "unet")
    for student, batch_name in STUDENTS.items():
        home = term.homes[student] = root / "home" / student
        home.mkdir(parents=True)
        term.student(student, "fetch_assignment", "unet")
        if student == "alice":
            term.setup_output = run_setup_cells(home / "unet", home)
        notebook = filled_in() if batch_name == "solution" else MUTANT[batch_name].notebook()
        nbformat.write(notebook, home / "unet" / NOTEBOOK_NAME)
        term.student(student, "submit", "unet")
    term.instructor_runs("collect", "unet")
    term.instructor_runs("autograde", "unet")
    term.autograded = {student: term.task_scores(student) for student in STUDENTS}
    return term


def test_the_fetched_folder_runs_the_setup_cells_offline_with_its_own_kit_and_data(term):
    fetched = term.homes["alice"] / "unet"
    assert f"kit: {fetched / 'unet_kit' / '__init__.py'}" in term.setup_output
    assert f"data: {fetched / 'data' / 'isbi2012'}" in term.setup_output
    assert "training slices: (25, 512, 512)" in term.setup_output


def test_nbgrader_autograde_gives_the_kits_scores(term, graded_batch):
    for student, batch_name in STUDENTS.items():
        expected = {task: score for task, (score, _) in graded_batch.grades[batch_name].items()}
        assert term.autograded[student] == expected, student
    assert term.autograded["bob"]["expanding_block"] < 4 and term.autograded["carol"]["crop"] < 2


def test_formgrader_lists_every_submission_and_asks_a_person_only_for_the_written_answers(term):
    api = NbGraderAPI(coursedir=CourseDirectory(root=str(term.course), course_id=COURSE_ID))
    submissions = {entry["student"]: entry for entry in api.get_submissions("unet")}
    assert set(submissions) == set(STUDENTS)
    assert all(entry["autograded"] for entry in submissions.values())
    notebooks = api.get_notebook_submissions("unet", NOTEBOOK_ID)
    assert {entry["student"] for entry in notebooks} == set(STUDENTS)
    with Gradebook(f"sqlite:///{term.course / 'gradebook.db'}", COURSE_ID) as gradebook:
        for student in STUDENTS:
            grades = gradebook.find_submission_notebook(NOTEBOOK_ID, "unet", student).grades
            flagged = {grade.name for grade in grades if grade.needs_manual_grade}
            assert flagged and all(name.startswith("answer_") for name in flagged), (student, flagged)


def test_feedback_goes_back_through_the_exchange_with_each_students_own_diagnosis(term):
    term.instructor_runs("generate_feedback", "unet")
    term.instructor_runs("release_feedback", "unet")
    pages = {}
    for student in STUDENTS:
        term.student(student, "fetch_feedback", "unet")
        (page,) = (term.homes[student] / "unet" / "feedback").glob(f"*/{NOTEBOOK_ID}.html")
        pages[student] = page.read_text()
        assert "Hidden checks, run by the grader" in pages[student]
        assert not (page.parent / "data").exists() and not (page.parent / "unet_kit").exists()
    assert "Likely misconception" not in pages["alice"]
    assert "nearest neighbour" in pages["bob"] and "Likely misconception" in pages["carol"]
    assert "nearest neighbour" not in pages["carol"]


def test_manual_grades_comments_and_extra_credit_survive_a_regrade_and_reach_the_export(term):
    url = f"sqlite:///{term.course / 'gradebook.db'}"
    with Gradebook(url, COURSE_ID) as gradebook:
        grade = gradebook.find_grade(grade_id_of_test_cell("expanding_block"), NOTEBOOK_ID, "unet", "bob")
        grade.extra_credit = 1.0
        comment = gradebook.find_comment("expanding_block", NOTEBOOK_ID, "unet", "bob")  # on the answer cell
        comment.manual_comment = "Look at bilinear interpolation again."
        gradebook.db.commit()
    before = term.task_scores("bob")
    term.instructor_runs("autograde", "unet", "--force", "--CourseDirectory.student_id=bob")
    with Gradebook(url, COURSE_ID) as gradebook:
        grade = gradebook.find_grade(grade_id_of_test_cell("expanding_block"), NOTEBOOK_ID, "unet", "bob")
        comment = gradebook.find_comment("expanding_block", NOTEBOOK_ID, "unet", "bob")
        assert grade.extra_credit == 1.0 and comment.manual_comment == "Look at bilinear interpolation again."
    assert term.task_scores("bob") == before
    term.instructor_runs("export", "--to", str(term.root / "grades.csv"))
    with (term.root / "grades.csv").open() as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(STUDENTS) and all(row["timestamp"] for row in rows.values())
    assert float(rows["alice"]["score"]) == 15.0
    assert float(rows["bob"]["score"]) == pytest.approx(sum(before.values()) + 1.0)


def test_the_kits_batch_command_grades_the_course_in_place_and_keeps_manual_grades(term):
    before = {student: term.task_scores(student) for student in STUDENTS}
    run(term.root, term.instructor, sys.executable, "-m", "grader", "autograde", "--course", str(term.course))
    assert {student: term.task_scores(student) for student in STUDENTS} == before
    with Gradebook(f"sqlite:///{term.course / 'gradebook.db'}", COURSE_ID) as gradebook:
        grade = gradebook.find_grade(grade_id_of_test_cell("expanding_block"), NOTEBOOK_ID, "unet", "bob")
        comment = gradebook.find_comment("expanding_block", NOTEBOOK_ID, "unet", "bob")
        assert grade.extra_credit == 1.0 and comment.manual_comment == "Look at bilinear interpolation again."
        assert all(gradebook.find_submission("unet", student).timestamp for student in STUDENTS)
    for student in STUDENTS:
        assert (term.course / "autograded" / student / "unet" / NOTEBOOK_NAME).is_file()
        feedback = term.course / "feedback" / student / "unet"
        assert (feedback / f"{NOTEBOOK_ID}.html").is_file() and (feedback / "timestamp.txt").is_file()
    term.instructor_runs("release_feedback", "unet")
    term.student("bob", "fetch_feedback", "unet")
    pages = [page.read_text() for page in (term.homes["bob"] / "unet" / "feedback").glob(f"*/{NOTEBOOK_ID}.html")]
    assert pages and all("nearest neighbour" in page for page in pages)


def test_without_the_kit_nbgrader_autograde_fails_the_submission_and_records_no_grade(term, tmp_path):
    broken = tmp_path / "broken"
    (broken / "grader").mkdir(parents=True)
    (broken / "grader" / "__init__.py").write_text("raise ImportError('not installed here')\n")
    before = term.task_scores("carol")
    completed = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "unet", "--force",
                                "--CourseDirectory.student_id=carol"], cwd=term.course, capture_output=True, text=True,
                               env=shell_environment(term.instructor) | {"PYTHONPATH": str(broken)}, timeout=600)
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0
    assert "the hidden checks cannot run" in output and "Fix: run `make env`" in output
    assert term.task_scores("carol") == before  # nothing recorded, visible tests included
    term.instructor_runs("autograde", "unet", "--force", "--CourseDirectory.student_id=carol")  # as it was
