"""A corpus of bad submissions: broken files, moved cells, runaway code and tampering.

Each case writes one submission and states what grading it must get: per-task scores (full
marks unless named), or ``not_graded`` with the reason the summary must give, and a phrase the
grader's notes must contain. Scores written ``"as <mutant>"`` must equal that plain mutant's
scores in the same batch: tampering around a wrong answer may not raise its grade.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from tests.submissions import MUTANTS, filled_in, solution_answer
from unet_kit.assignment import REPOSITORY_ROOT, TASKS, grade_id_of_test_cell

MUTANT_BY_NAME = {mutant.name: mutant for mutant in MUTANTS}


@dataclass(frozen=True)
class Batch:
    """Where the batch lives, for cases that aim at other students' files or the grader's machine."""

    submissions: Path
    output: Path
    victim: str = "solution"
    listener_port: int = 0  # TCP and UDP on 127.0.0.1, opened by the test while the batch runs
    planted_secret: Path | None = None  # a file the grader can read (and so the jail): no byte may reach the output


@dataclass(frozen=True)
class BadSubmission:
    name: str
    write: Callable[[Path, Batch], None]  # writes the submission file at the given path
    scores: dict[str, float | str] = field(default_factory=dict)  # task -> score or "as <mutant>"
    not_graded: str | None = None
    note: str | None = None
    needs_signal_scoping: bool = False


def _notebook(notebook) -> Callable[[Path, Batch], None]:
    return lambda path, batch: nbformat.write(notebook, path)


def _json(transform: Callable[[dict], dict], base=None) -> Callable[[Path, Batch], None]:
    def write(path: Path, batch: Batch) -> None:
        raw = json.loads(nbformat.writes(base if base is not None else filled_in()))
        path.write_text(json.dumps(transform(raw)))
    return write


def _index(notebook, grade_id: str) -> int:
    return next(i for i, cell in enumerate(notebook.cells)
                if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _with_answer(task: str, source: str, base=None):
    notebook = copy.deepcopy(base) if base is not None else filled_in()
    notebook.cells[_index(notebook, task)].source = source
    return notebook


def _with_cell_after(grade_id: str, source: str, base=None):
    notebook = copy.deepcopy(base) if base is not None else filled_in()
    notebook.cells.insert(_index(notebook, grade_id) + 1, nbformat.v4.new_code_cell(source))
    return notebook


def _without(grade_id: str, base=None):
    notebook = copy.deepcopy(base) if base is not None else filled_in()
    del notebook.cells[_index(notebook, grade_id)]
    return notebook


def _mutant(name: str):
    return MUTANT_BY_NAME[name].notebook()


# -- editors' ways of saving --------------------------------------------------------------------
def _nbformat_4_0(raw: dict) -> dict:
    raw["nbformat_minor"] = 0
    for cell in raw["cells"]:
        cell.pop("id", None)
    return raw


def _colab(raw: dict) -> dict:
    raw["nbformat_minor"] = 0
    raw["metadata"] = {"colab": {"provenance": [], "gpuType": "T4"}, "accelerator": "GPU",
                       "kernelspec": {"name": "python3", "display_name": "Python 3"},
                       "language_info": {"name": "python"}}
    for cell in raw["cells"]:
        cell["metadata"]["id"] = cell.pop("id")
        if cell["cell_type"] == "code":
            cell["metadata"]["colab"] = {"base_uri": "https://localhost:8080/"}
    return raw


def _vscode(raw: dict) -> dict:
    raw["metadata"]["kernelspec"] = {"name": ".venv", "display_name": ".venv (Python 3.12.3)"}
    raw["metadata"]["language_info"] = {"name": "python", "version": "3.12.3", "mimetype": "text/x-python"}
    return raw


def _nbformat_4_1_colab(raw: dict) -> dict:
    raw = _colab(raw)
    raw["nbformat_minor"] = 1
    return raw


def _jupyterlab_4(raw: dict) -> dict:
    raw["metadata"] = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                          "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                          "pygments_lexer": "ipython3", "version": "3.12.3"},
    }
    for number, cell in enumerate(raw["cells"], start=1):
        if cell["cell_type"] == "code":
            cell["execution_count"] = number
        cell["metadata"].setdefault("editable", True)
    return raw


def _every_task_as(mutant: str) -> dict[str, str]:
    return {task: f"as {mutant}" for task in TASKS}


def _huge_outputs(raw: dict) -> dict:
    cell = raw["cells"][_index(filled_in(), "crop")]
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x" * (200 * 2**20)}]
    return raw


def _markdown_answer(raw: dict) -> dict:
    raw["cells"][_index(filled_in(), "feature_map_block")]["cell_type"] = "markdown"
    cell = raw["cells"][_index(filled_in(), "feature_map_block")]
    for key in ("outputs", "execution_count"):
        cell.pop(key, None)
    return raw


def _unet_first():
    notebook = filled_in()
    answer, test = _index(notebook, "unet"), _index(notebook, grade_id_of_test_cell("unet"))
    moved = [notebook.cells[answer], notebook.cells[test]]
    del notebook.cells[test], notebook.cells[answer]
    first_task = _index(notebook, "crop")
    notebook.cells[first_task:first_task] = moved
    return notebook


def _extra_cells():
    notebook = filled_in()
    task = _index(notebook, "crop")
    notebook.cells[task:task] = [
        nbformat.v4.new_markdown_cell("My notes: the window starts at size // 2 - new // 2."),
        nbformat.v4.new_code_cell("def centre_start(size, new):\n    return size // 2 - new // 2"),
    ]
    notebook.cells[_index(notebook, "crop")].source = (
        "def crop(image, new_shape):\n"
        "    top = centre_start(image.shape[2], new_shape[2])\n"
        "    left = centre_start(image.shape[3], new_shape[3])\n"
        "    return image[:, :, top:top + new_shape[2], left:left + new_shape[3]]"
    )
    return notebook


def _duplicated_answer():
    notebook = filled_in()
    task = _index(notebook, "contracting_block")
    wrong = copy.deepcopy(notebook.cells[task])
    wrong.source = MUTANT_BY_NAME["contracting_missing_relu"].answer()
    wrong.id = "a1b2c3d4"
    notebook.cells.insert(task, wrong)  # the first copy is wrong, the later one is right
    return notebook


def _edited_test_cell():
    notebook = _mutant("crop_off_by_one")
    notebook.cells[_index(notebook, grade_id_of_test_cell("crop"))].source = 'print("crop: all visible tests passed")'
    return notebook


# -- runaway code --------------------------------------------------------------------------------
TRAINING_LOOP = """\
model = UNet(1, 1, hidden_channels=16)
optimizer = torch.optim.Adam(model.parameters())
while True:  # "I'll stop it later"
    loss = model(torch.randn(1, 1, 188, 188)).square().mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
"""

# -- tampering ------------------------------------------------------------------------------------
FAKE_GRADER = """\
import sys, types
fake_grader, fake_check = types.ModuleType("grader"), types.ModuleType("grader.checking.check")
fake_check.run_hidden_tests = lambda task, probe, points: points
fake_check.check_notebook = lambda *args, **kwargs: {"tasks": [], "cells": []}
fake_grader.check = fake_check
sys.modules.update({"grader": fake_grader, "grader.checking.check": fake_check})
run_hidden_tests = fake_check.run_hidden_tests
"""
PATCH_PYTEST = "import pytest\npytest.main = lambda *args, **kwargs: 0\n"
PATCH_COMPARISONS = ("torch.allclose = lambda *args, **kwargs: True\n"
                     "torch.equal = lambda *args, **kwargs: True\n")
PATCH_INTERPOLATE = """\
_interpolate = F.interpolate
def _always_nearest(input, size=None, scale_factor=None, mode="nearest", align_corners=None, **kwargs):
    return _interpolate(input, size=size, scale_factor=scale_factor, mode="nearest")
F.interpolate = torch.nn.functional.interpolate = _always_nearest
"""
PATCH_EQUALITY = "torch.Tensor.__eq__ = lambda self, other: torch.ones(self.shape, dtype=torch.bool)\n"
FAKE_SHAPE = '''\
class Window:
    """Looks like the right answer to anyone who only reads .shape."""

    def __init__(self, image, new_shape):
        self.shape = torch.Size([image.shape[0], image.shape[1], new_shape[2], new_shape[3]])


def crop(image, new_shape):
    return Window(image, new_shape)
'''
HIDDEN_TEST_FILES = [REPOSITORY_ROOT / "grader" / "checking" / "hidden_tests" / "test_unet.py",
                     REPOSITORY_ROOT / "grader" / "checking" / "reference.py"]
#: Text that only the hidden tests and oracles contain: it must never reach a feedback page.
HIDDEN_TEST_MARKERS = ("def wired_by_the_design", "def expanding_oracle", "def test_skips_join_their_own_level")


def _read_hidden_tests(path: Path, batch: Batch) -> None:
    source = "\n".join(
        f"try:\n    print(open({str(target)!r}).read())\nexcept OSError as error:\n    print('could not read:', error)"
        for target in HIDDEN_TEST_FILES)
    nbformat.write(_with_cell_after("crop", source), path)


def targets_outside(batch: Batch, student: str) -> list[Path]:
    """Files a submission must not change: the repository, other students' work, the grades."""
    return [REPOSITORY_ROOT / "README.md", REPOSITORY_ROOT / "grader" / "checking" / "hidden_tests" / "test_crop.py",
            batch.submissions / f"{batch.victim}.ipynb", batch.output / "grades.csv",
            batch.output / "students" / batch.victim / "gradebook.db",
            batch.output / "students" / student / "gradebook.db"]


def _write_elsewhere(path: Path, batch: Batch) -> None:
    source = "\n".join(
        f"try:\n    open({str(target)!r}, 'a').write('tampered')\n    print('wrote', {str(target)!r})\n"
        f"except OSError as error:\n    print('could not write:', error)"
        for target in targets_outside(batch, path.stem))
    nbformat.write(_with_cell_after("crop", source), path)


KILL_PARENT = """\
import os, signal
try:
    os.kill(os.getppid(), signal.SIGKILL)
except OSError as error:
    print("could not stop the grader:", error)
"""


# -- reaching past the jail: the grader's environment, network, processes, the reader's browser ----
DUMP_ENVIRONMENT = """\
import glob, os
print("my environment:", dict(os.environ))
for path in sorted(glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline")):
    try:
        print(path, open(path, "rb").read()[:4000])
    except OSError as error:
        print(path, "could not read:", error)
"""


def _connect_to_the_grader(path: Path, batch: Batch) -> None:
    source = f"""\
import socket
for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
    try:
        with socket.socket(socket.AF_INET, kind) as channel:
            channel.settimeout(2)
            channel.connect(("127.0.0.1", {batch.listener_port}))
            channel.send(b"leaked from a submission")
        print("sent", kind)
    except OSError as error:
        print("could not connect:", error)
"""
    nbformat.write(_with_cell_after("crop", source), path)


#: Numbers no other process on the machine sleeps for: the test looks for them after the batch.
SLEEPER_MARKS = ("4171.25", "4172.25", "4173.25")
LEAVE_SLEEPERS = f"""\
import os, subprocess
subprocess.Popen(["sleep", "{SLEEPER_MARKS[0]}"], start_new_session=True)
os.system("setsid sleep {SLEEPER_MARKS[1]} > /dev/null 2>&1 &")
if os.fork() == 0:  # a daemon: fork, new session, fork again, the parent gone
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "{SLEEPER_MARKS[2]}"])
    os._exit(0)
print("sleepers left behind")
"""
FORK_BOMB = """\
import os, time
started = 0
try:
    for _ in range(2000):
        if os.fork() == 0:
            time.sleep(2)
            os._exit(0)
        started += 1
except OSError as error:
    print(f"fork stopped after {started} processes: {error}")
while started:
    os.wait()
    started -= 1
"""
# -- what a submission leaves behind: links, special files, a full disk -----------------------------
#: Every folder a cell can hope to write, as the code sees them (working folder, home, temporary files).
WRITABLE_FOLDERS = """\
import os, tempfile
folders = {os.getcwd(), os.path.expanduser("~"), tempfile.gettempdir(), os.environ.get("TMPDIR", "."),
           os.environ.get("IPYTHONDIR", "."), os.environ.get("MPLCONFIGDIR", ".")}
"""


def _leave_links(path: Path, batch: Batch) -> None:
    source = WRITABLE_FOLDERS + f"""\
for folder in sorted(folders):
    for name, target in (("shadow", {str(batch.planted_secret)!r}), ("grades.csv", {str(batch.planted_secret)!r}),
                         ("up", "/")):
        try:
            os.makedirs(folder, exist_ok=True)
            os.symlink(target, os.path.join(folder, name))
            print("linked", name)
        except OSError as error:
            print("could not link:", error.errno)
"""
    nbformat.write(_with_cell_after("crop", source), path)


def _leave_fifo_and_hard_link(path: Path, batch: Batch) -> None:
    source = WRITABLE_FOLDERS + f"""\
for folder in sorted(folders):
    for name, make in (("pipe", lambda where: os.mkfifo(where)),
                       ("hard", lambda where: os.link({str(batch.planted_secret)!r}, where)),
                       ("UNet_Assignment.html", lambda where: os.mkfifo(where))):
        try:
            make(os.path.join(folder, name))
            print("made", name)
        except OSError as error:
            print("could not make:", error.errno)
"""
    nbformat.write(_with_cell_after("crop", source), path)


FILLER_NAME = "disk-filler-3f9a"
FILL_THE_DISK = f"""\
written = 0
try:
    while True:  # 200 MB files until something stops it
        with open(f"{FILLER_NAME}-{{written}}.bin", "wb") as handle:
            handle.write(bytes(200 * 2**20))
        written += 1
except OSError as error:
    print(f"the filler stopped after {{written}} files: {{error}}")
"""


#: Every script below carries this mark: a feedback page holds it only as inert text.
XSS_MARK = "XSS-MARK-5e1f"
RICH_OUTPUTS = f"""\
from IPython.display import HTML, SVG, Javascript, Markdown, display
display(HTML('<script>alert("{XSS_MARK}")</script><img src=x onerror="alert(\\'{XSS_MARK}\\')">'))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg"><script>alert("{XSS_MARK}")</script></svg>'))
display(Javascript('alert("{XSS_MARK}")'))
display(Markdown('<iframe src="javascript:alert(\\'{XSS_MARK}\\')"></iframe>'))
display({{"image/png": '"><script>alert("{XSS_MARK}")</script>', "text/plain": "a picture"}}, raw=True)
display({{"image/png": "iVBORw0KGgo=", "text/plain": "a picture"}}, raw=True,
        metadata={{"image/png": {{"width": '1 onerror=alert("{XSS_MARK}")'}}}})
"""


def _html_everywhere():
    notebook = _with_cell_after("crop", RICH_OUTPUTS)
    task = _index(notebook, "crop")
    notebook.cells[task + 1].metadata["tags"] = [f'x" onmouseover="alert(\'{XSS_MARK}\')']
    notebook.cells.insert(task + 2, nbformat.v4.new_markdown_cell(
        f'My notes <img src=x onerror="alert(\'{XSS_MARK}\')"> [click](javascript:alert("{XSS_MARK}"))'))
    notebook.cells.insert(task + 3, nbformat.v4.new_raw_cell(f'<script>alert("{XSS_MARK}")</script>'))
    return notebook


# -- files that break parsers ----------------------------------------------------------------------
def _deeply_nested(path: Path, batch: Batch) -> None:
    path.write_text('{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}")


ADDED_CELLS = 100_000


def _hundred_thousand_cells(path: Path, batch: Batch) -> None:
    """Written as JSON: nbformat would validate each cell, half a minute for a file the grader refuses unread."""
    notebook = json.loads(nbformat.writes(filled_in()))
    empty = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": ""}
    notebook["cells"].extend({**empty, "id": f"added-{index}"} for index in range(ADDED_CELLS))
    path.write_text(json.dumps(notebook))


def _two_gigabytes(path: Path, batch: Batch) -> None:
    with path.open("wb") as handle:  # sparse: no disk is used
        handle.truncate(2 * 2**30)


def _with_bad_bytes(path: Path, batch: Batch) -> None:
    notebook = filled_in()
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell("BAD_BYTES_HERE"))
    path.write_bytes(nbformat.writes(notebook).encode().replace(b"BAD_BYTES_HERE", b"caf\xe9 \xff\xfe"))


def _fifty_megabyte_line():
    return _with_cell_after("crop", "padding = '" + "x" * (50 * 2**20) + "'")


def _answer_plus(task: str, extra: str, before: bool = False):
    source = solution_answer(task)
    return _with_answer(task, f"{extra}\n{source}" if before else f"{source}\n\n{extra}")


BAD_SUBMISSIONS = (
    # broken files and other editors' ways of saving
    BadSubmission("invalid_json", lambda path, batch: path.write_text('{"cells": [{"cell_type": "code",'),
                  not_graded="broken JSON"),
    BadSubmission("empty_file", lambda path, batch: path.write_text(""), not_graded="the file is empty"),
    BadSubmission("python_script", lambda path, batch: path.write_text(
        "import torch\n\n" + solution_answer("crop") + "\n"), not_graded="Python source, not a notebook"),
    BadSubmission("nbformat_4_0_without_ids", _json(_nbformat_4_0)),
    BadSubmission("colab_save", _json(_colab)),
    BadSubmission("vscode_kernelspec", _json(_vscode)),
    BadSubmission("huge_outputs", _json(_huge_outputs)),
    # editors' round trips of a wrong answer: graded exactly as the original
    BadSubmission("colab_round_trip", _json(_colab, _mutant("expanding_concat_order_swapped")),
                  _every_task_as("expanding_concat_order_swapped")),
    BadSubmission("colab_4_1_round_trip", _json(_nbformat_4_1_colab, _mutant("unet_skips_to_wrong_levels")),
                  _every_task_as("unet_skips_to_wrong_levels")),
    BadSubmission("vscode_round_trip", _json(_vscode, _mutant("contracting_average_pool")),
                  _every_task_as("contracting_average_pool")),
    BadSubmission("jupyterlab_4_round_trip", _json(_jupyterlab_4, _mutant("crop_wrong_axes")),
                  _every_task_as("crop_wrong_axes")),
    # moved, deleted, copied and retyped cells
    BadSubmission("deleted_answer_cell", _notebook(_without("crop")), {"crop": 0.0},
                  note="the answer cell of crop is missing"),
    BadSubmission("deleted_test_cell", _notebook(_without(grade_id_of_test_cell("crop"))), note="the test cell of crop was missing"),
    BadSubmission("edited_test_cell", _notebook(_edited_test_cell()), {"crop": "as crop_off_by_one"},
                  note="the test cell of crop was changed"),
    BadSubmission("duplicated_answer_cell", _notebook(_duplicated_answer()),
                  note="two cells are marked as the answer to contracting_block"),
    BadSubmission("answer_cell_made_markdown", _json(_markdown_answer),
                  note="turned into a markdown cell"),
    BadSubmission("cells_reordered", _notebook(_unet_first()), note="out of order"),
    BadSubmission("extra_student_cells", _notebook(_extra_cells())),
    # runaway code
    BadSubmission("syntax_error_in_crop", _notebook(_with_answer(
        "crop", "def crop(image, new_shape)\n    return image")), {"crop": 0.0},
                  note="the answer cell of crop raised SyntaxError"),
    BadSubmission("infinite_loop", _notebook(_answer_plus("contracting_block", "while True:\n    pass")),
                  {"contracting_block": 0.0}, note="the answer cell of contracting_block was not run: it ran longer than"),
    BadSubmission("hang_in_forward", _notebook(_with_answer("contracting_block", solution_answer(
        "contracting_block").replace("        x = self.activation(self.conv1(x))",
                                     "        while True:\n            pass"))), {"contracting_block": 0.0}),
    BadSubmission("twenty_gigabytes", _notebook(_answer_plus(
        "crop", "hog = torch.ones(20 * 2**30, dtype=torch.uint8)", before=True)), {"crop": 0.0},
                  note="can't allocate memory"),
    BadSubmission("sys_exit", _notebook(_answer_plus("feature_map_block", "import sys\nsys.exit()")),
                  note="the answer cell of feature_map_block raised SystemExit"),
    BadSubmission("os_exit", _notebook(_answer_plus("unet", "import os\nos._exit(1)")), {"unet": 0.0},
                  note="ended the Python process"),
    BadSubmission("killed_kernel", _notebook(_answer_plus(
        "crop", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")), {"crop": 0.0},
                  note="ended the Python process"),
    BadSubmission("training_loop_left_running", _notebook(_with_cell_after("unet", TRAINING_LOOP)),
                  note="ran longer than"),
    BadSubmission("kills_the_grader", _notebook(_with_cell_after("crop", KILL_PARENT)), needs_signal_scoping=True),
    # tampering around wrong answers: the grade stays what the wrong answer earns
    BadSubmission("fake_grading_helper", _notebook(_with_cell_after("crop", FAKE_GRADER, _mutant("crop_off_by_one"))),
                  {"crop": "as crop_off_by_one"}),
    BadSubmission("patched_pytest", _notebook(_with_cell_after(
        "contracting_block", PATCH_PYTEST, _mutant("contracting_missing_relu"))),
        {"contracting_block": "as contracting_missing_relu"}),
    BadSubmission("patched_allclose_and_equal", _notebook(_with_cell_after(
        "crop", PATCH_COMPARISONS, _mutant("crop_not_centred"))), {"crop": "as crop_not_centred"}),
    BadSubmission("patched_functional_interpolate", _notebook(_with_cell_after(
        "expanding_block", PATCH_INTERPOLATE, _mutant("expanding_nearest_upsampling"))),
        {"expanding_block": "as expanding_nearest_upsampling"}),
    BadSubmission("patched_tensor_eq", _notebook(_with_cell_after(
        "crop", PATCH_EQUALITY, _mutant("crop_halves_the_difference"))), {"crop": "as crop_halves_the_difference"}),
    BadSubmission("fake_shape", _notebook(_with_answer("crop", FAKE_SHAPE)), {"crop": 0.0}),
    BadSubmission("reads_hidden_tests", _read_hidden_tests),
    BadSubmission("writes_elsewhere", _write_elsewhere),
    # reaching past the jail: honest work beside it keeps its marks
    BadSubmission("dumps_environment", _notebook(_with_cell_after("crop", DUMP_ENVIRONMENT))),
    BadSubmission("connects_to_the_grader", _connect_to_the_grader),
    BadSubmission("leaves_sleepers", _notebook(_with_cell_after("crop", LEAVE_SLEEPERS))),
    BadSubmission("fork_bomb", _notebook(_with_cell_after("crop", FORK_BOMB))),
    BadSubmission("html_and_scripts", _notebook(_html_everywhere())),
    # what a submission leaves behind: graded for its work, nothing of it in the results
    BadSubmission("leaves_links", _leave_links),
    BadSubmission("leaves_fifo_and_hard_link", _leave_fifo_and_hard_link),
    BadSubmission("fills_the_disk", _notebook(_with_cell_after("crop", FILL_THE_DISK)), note="hit the disk limit"),
    # files that break parsers
    BadSubmission("deeply_nested_json", _deeply_nested, not_graded="nested far deeper than any notebook"),
    BadSubmission("hundred_thousand_cells", _hundred_thousand_cells,
                  not_graded=f"{ADDED_CELLS + len(filled_in().cells):,} cells, more than the 2,000"),
    BadSubmission("two_gigabyte_file", _two_gigabytes, not_graded="2,048 MB, more than the 512 MB"),
    BadSubmission("non_utf8_bytes", _with_bad_bytes, note="the file is not valid UTF-8"),
    BadSubmission("fifty_megabyte_line", _notebook(_fifty_megabyte_line()), note="50.0 MB, more than the 1 MB"),
)
