"""``python -m grader course DIR``: an nbgrader course directory that grades with the kit.

It writes what nbgrader's own commands need and nothing they do themselves: the course's
``nbgrader_config.py`` (the kit's block, rewritten on every run between its markers; the
instructor's own lines around it are kept), and ``source/<assignment>/`` with the solution
notebook and what students need beside it on a hub (``unet_kit/`` and the verified data), so
the released notebook's set-up cells work offline in the folder ``fetch_assignment`` gives.
A source notebook the instructor changed is kept.
"""

from __future__ import annotations

import filecmp
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from grader.entry_points import COURSE_SETTINGS_MODULE
from unet_kit.assignment import ASSIGNMENT, NOTEBOOK_NAME, REPOSITORY_ROOT, SOLUTION_NOTEBOOK
from unet_kit.data import DEFAULT_DATA_DIR, REGISTRY

BLOCK_BEGIN = "# >>> U-Net kit: rewritten by `python -m grader course`; your own lines outside this block are kept"
BLOCK_END = "# <<< U-Net kit"
_BLOCK = re.compile(rf"^{re.escape(BLOCK_BEGIN)}$.*?^{re.escape(BLOCK_END)}$\n?", re.MULTILINE | re.DOTALL)
COURSE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: What students receive beside the notebook (and nbgrader carries back with each submission).
SHIPPED_BESIDE_THE_NOTEBOOK = ("unet_kit", "data")


@dataclass
class CourseMade:
    root: Path
    assignment: str
    notes: list[str] = field(default_factory=list)


def kit_block(course_id: str, exchange: Path | None) -> str:
    """The kit's part of a course's ``nbgrader_config.py``.

    nbgrader ignores a config file that raises (and goes on with its defaults, grading the
    visible tests only), so a missing kit is not an import error here: it installs a step
    that fails every submission with the fix, and says so whenever nbgrader loads the file.
    """
    exchange_line = (f"c.Exchange.root = {str(exchange)!r}" if exchange
                     else "# c.Exchange.root = '/srv/nbgrader/exchange'  (nbgrader's default; --exchange sets it)")
    return "\n".join([
        BLOCK_BEGIN,
        f"c.CourseDirectory.course_id = {course_id!r}",
        exchange_line,
        "try:",
        f"    from {COURSE_SETTINGS_MODULE} import configure_course",
        "except ImportError as missing:",
        "    import sys",
        "",
        "    from nbconvert.preprocessors import Preprocessor",
        "    from traitlets import Bool",
        "",
        "    _FIX = (f'the U-Net kit is not importable by this Python ({missing}): the hidden checks cannot run. '",
        "            'Fix: run `make env` in the kit, or `pip install -e KIT` into the Python that runs nbgrader')",
        "    print(f'WARNING: {_FIX}', file=sys.stderr)",
        "",
        "    class UnetKitMissing(Preprocessor):",
        "        enabled = Bool(True)",
        "",
        "        def preprocess(self, nb, resources):",
        "            raise RuntimeError(_FIX)",
        "",
        "    c.Autograde.sanitize_preprocessors = [UnetKitMissing]",
        "    c.GenerateFeedback.preprocessors = [UnetKitMissing]",
        "else:",
        "    configure_course(c)",
        BLOCK_END,
        "",
    ])


def write_config(path: Path, course_id: str, exchange: Path | None) -> str:
    """Write or update ``nbgrader_config.py``; return what happened, in words."""
    block = kit_block(course_id, exchange)
    if not path.is_file():
        path.write_text(f"# nbgrader configuration of the course {course_id}.\n"
                        f"c = get_config()  # noqa: F821 (nbgrader provides it)\n\n{block}\n"
                        "# Your own settings (late penalties, a database URL, ...) may go here.\n")
        return f"wrote {path}"
    text = path.read_text()
    if _BLOCK.search(text):
        path.write_text(_BLOCK.sub(lambda _: block, text, count=1))
        return f"updated the kit's block in {path}; your other lines are as they were"
    header = "c = get_config()  # noqa: F821 (nbgrader provides it)\n\n" if "get_config()" not in text else ""
    path.write_text(f"{text.rstrip()}\n\n{header}{block}")
    return f"added the kit's block to {path}; your other lines are as they were"


def copy_kit(target: Path) -> None:
    """``unet_kit/`` (without caches) and the verified data, as the released folder needs them."""
    if target.joinpath("unet_kit").exists():
        shutil.rmtree(target / "unet_kit")
    shutil.copytree(REPOSITORY_ROOT / "unet_kit", target / "unet_kit",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    data = target / "data" / DEFAULT_DATA_DIR.name
    data.mkdir(parents=True, exist_ok=True)
    for name in REGISTRY:
        source = DEFAULT_DATA_DIR / f"{name}.tif"
        if not (data / source.name).is_file() or not filecmp.cmp(source, data / source.name, shallow=False):
            shutil.copyfile(source, data / source.name)


def make_course(root: Path, course_id: str = "unet-isbi2012", exchange: Path | None = None,
                assignment: str = ASSIGNMENT) -> CourseMade:
    """Make or update the course directory at ``root`` for ``assignment``."""
    if not COURSE_ID.match(course_id) or not COURSE_ID.match(assignment):
        raise ValueError("the course id and the assignment name may hold only letters, digits, '.', '_' and '-'")
    root.mkdir(parents=True, exist_ok=True)
    made = CourseMade(root.resolve(), assignment)
    made.notes.append(write_config(root / "nbgrader_config.py", course_id, exchange.resolve() if exchange else None))
    source = root / "source" / assignment
    source.mkdir(parents=True, exist_ok=True)
    notebook = source / NOTEBOOK_NAME
    if not notebook.is_file():
        shutil.copyfile(SOLUTION_NOTEBOOK, notebook)
        made.notes.append(f"wrote {notebook}")
    elif not filecmp.cmp(SOLUTION_NOTEBOOK, notebook, shallow=False):
        made.notes.append(f"kept your {notebook} (it differs from the kit's solution)")
    copy_kit(source)
    made.notes.append(f"copied unet_kit/ and data/ into {source} (students receive them beside the notebook)")
    return made


NEXT_STEPS = """\
next, in {root}, nbgrader's own commands:
  nbgrader generate_assignment {assignment}    # the student version, into release/
  nbgrader release_assignment {assignment}     # to the exchange; students: nbgrader fetch_assignment / submit
  nbgrader collect {assignment}
  nbgrader autograde {assignment}              # hidden checks, confined, partial credit, diagnoses
  nbgrader generate_feedback {assignment} && nbgrader release_feedback {assignment}
  nbgrader export                      # or formgrader, for manual grades and comments"""
