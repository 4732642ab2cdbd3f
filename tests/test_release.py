"""The student copy: it holds no answer, and its setup cell works as Colab runs it.

The Colab path is exercised for real: the release becomes a git repository, the notebook's
``KIT_REPOSITORY`` points at it over ``file://``, and the setup cell runs in a fresh Python
with a stand-in ``google.colab`` module, cloning into a temporary folder instead of ``/content``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.course.notebook_cells import answer_cells
from grader.course.release import colab_link, release
from unet_kit.assignment import NOTEBOOK_NAME, REPOSITORY_ROOT, SOLUTION_NOTEBOOK, STUDENT_NOTEBOOK

URL = "https://github.com/some-course/unet-2027"
#: Lines shorter than this (``return x``, ``x = self.pool(x)``) and imports say nothing about an answer.
TELLING_LENGTH = 24


def telling_lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines()
            if len(line.strip()) >= TELLING_LENGTH and not line.strip().startswith(("import ", "from "))}


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    return release(tmp_path_factory.mktemp("release") / "student-copy", URL)


def released_text(folder: Path) -> str:
    """Every text the copy holds: cell sources of notebooks, and every other file that decodes as text."""
    texts = []
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".ipynb":
            texts += [cell.source for cell in nbformat.read(path, as_version=4).cells]
        elif path.is_file() and path.suffix != ".tif":
            texts.append(path.read_text(errors="replace"))
    return "\n".join(texts)


def test_release_holds_the_notebook_the_kit_the_data_and_a_readme(released):
    assert sorted(path.name for path in released.iterdir()) == sorted(
        [NOTEBOOK_NAME, "README.md", "data", "requirements.txt", "unet_kit"])
    assert sorted(p.name for p in (released / "data" / "isbi2012").iterdir()) == [
        "test-volume.tif", "train-labels.tif", "train-volume.tif"]
    assert not list(released.rglob("__pycache__"))


def test_release_holds_no_solution_line_and_no_hidden_check(released):
    public = telling_lines("\n".join(cell.source for cell in nbformat.read(STUDENT_NOTEBOOK, as_version=4).cells))
    solution = set().union(*map(telling_lines, answer_cells(SOLUTION_NOTEBOOK).values())) - public
    grader_sources = [*(REPOSITORY_ROOT / "grader" / "checking" / "hidden_tests").glob("*.py"),
                      *(REPOSITORY_ROOT / "grader" / "checking" / name for name in ("reference.py", "misconceptions.py"))]
    hidden = set().union(*(telling_lines(path.read_text()) for path in grader_sources)) - public
    assert solution and hidden  # the scan has something to look for
    shipped = telling_lines(released_text(released))
    assert sorted(solution & shipped) == []
    assert sorted(hidden & shipped) == []


def test_notebook_and_badge_point_at_the_students_repository(released):
    setup = nbformat.read(released / NOTEBOOK_NAME, as_version=4).cells[1].source
    assert f"KIT_REPOSITORY = {json.dumps(URL)}" in setup
    assert colab_link(URL) == f"https://colab.research.google.com/github/some-course/unet-2027/blob/main/{NOTEBOOK_NAME}"
    assert colab_link(URL) in (released / "README.md").read_text()
    assert colab_link("https://gitlab.example.org/course/unet") is None


def test_release_refuses_a_folder_inside_the_repository_or_one_already_used(tmp_path):
    with pytest.raises(ValueError, match="inside the course repository"):
        release(REPOSITORY_ROOT / "student-copy", URL)
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        release(tmp_path / "used", URL)


COLAB_RUN = """\
import sys, types
# Colab's Python has no kit installed: forget this environment's in-place install of it (make env)
sys.meta_path[:] = [finder for finder in sys.meta_path
                    if not getattr(finder, "__module__", "").startswith("__editable__")]
colab = types.ModuleType("google.colab")
sys.modules["google.colab"] = colab
source = open(sys.argv[1]).read()
exec(compile(source, "setup cell", "exec"), {"__name__": "__main__"})
from unet_kit.data import load_isbi2012
volumes = load_isbi2012()
print("kit from", sys.modules["unet_kit"].__file__)
print("volumes", volumes.train_images.shape, volumes.train_labels.shape, volumes.test_images.shape)
"""


def git(*arguments: str, cwd: Path) -> None:
    subprocess.run(["git", *arguments], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.org", "PATH": "/usr/bin:/bin", "HOME": str(cwd)})


def test_setup_cell_clones_the_release_once_in_colab_and_loads_verified_data(tmp_path):
    repository = tmp_path / "students-repository"
    release(repository, "file://placeholder")
    published = point_at(repository, f"file://{repository}")
    git("init", "-q", "-b", "main", cwd=repository)
    git("add", "-A", cwd=repository)
    git("commit", "-q", "-m", "release", cwd=repository)
    setup_cell = tmp_path / "setup_cell.py"
    setup_cell.write_text(published.cells[1].source)
    (tmp_path / "run.py").write_text(COLAB_RUN)
    checkout, session = tmp_path / "content" / "unet-assignment", tmp_path / "session"
    session.mkdir()
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "UNET_KIT_CHECKOUT": str(checkout)}
    runs = []
    for _ in range(2):  # the second run, a fresh kernel, finds the clone and clones nothing
        completed = subprocess.run([sys.executable, str(tmp_path / "run.py"), str(setup_cell)], cwd=session,
                                   env=environment, capture_output=True, text=True, timeout=300)
        assert completed.returncode == 0, completed.stderr[-3000:]
        runs.append(completed.stdout)
    assert f"kit from {checkout / 'unet_kit' / '__init__.py'}" in runs[0] and runs[0] == runs[1]
    assert "volumes (30, 512, 512) (30, 512, 512) (30, 512, 512)" in runs[0]
    assert (checkout / ".git").is_dir()
    assert subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=checkout, capture_output=True,
                          text=True).stdout.strip() == "1"


def point_at(repository: Path, url: str) -> nbformat.NotebookNode:
    from grader.course.release import point_notebook_at

    notebook = point_notebook_at(nbformat.read(repository / NOTEBOOK_NAME, as_version=4), url)
    nbformat.write(notebook, repository / NOTEBOOK_NAME)
    return notebook
