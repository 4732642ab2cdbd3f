"""The student copy of the kit: what students may see, and nothing of the answers.

``python -m grader release OUT --repository URL`` writes the folder to publish as the
students' repository: the generated notebook with its setup cell pointing at ``URL``, the
helper package, the data and the requirements, and a short README whose Colab badge opens
the notebook from ``URL``. The solution, the grader, the tests and the benchmarks stay here.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat

from unet_kit.assignment import NOTEBOOK_NAME, REPOSITORY_ROOT, STUDENT_NOTEBOOK

#: What the student copy holds, relative to the repository root.
RELEASED = ("unet_kit", "data", "requirements.txt")
KIT_REPOSITORY_LINE = re.compile(r'^KIT_REPOSITORY = "[^"\n]*"', re.MULTILINE)
GITHUB = re.compile(r"^(?:https://github\.com/|git@github\.com:)(?P<path>[\w.-]+/[\w.-]+?)(?:\.git)?/?$")


def point_notebook_at(notebook: nbformat.NotebookNode, repository: str) -> nbformat.NotebookNode:
    """The notebook with its setup cell's ``KIT_REPOSITORY`` set to ``repository``."""
    setup = [cell for cell in notebook.cells if KIT_REPOSITORY_LINE.search(cell.source)]
    if len(setup) != 1:
        raise ValueError(f"expected one setup cell that sets KIT_REPOSITORY, found {len(setup)}")
    setup[0].source = KIT_REPOSITORY_LINE.sub(f"KIT_REPOSITORY = {json.dumps(repository)}", setup[0].source)
    return notebook


def colab_link(repository: str) -> str | None:
    """Colab's address for the notebook in a GitHub repository (Colab opens no other host directly)."""
    match = GITHUB.match(repository)
    if match is None:
        return None
    return f"https://colab.research.google.com/github/{match['path']}/blob/main/{NOTEBOOK_NAME}"


def student_readme(repository: str) -> str:
    link = colab_link(repository)
    opening = (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({link})\n\n"
               "Click the badge to open the assignment in Google Colab (for real training choose "
               "*Runtime > Change runtime type > T4 GPU*)." if link else
               f"Open `{NOTEBOOK_NAME}` in Google Colab (*File > Upload notebook*) or in JupyterLab.")
    return f"""# U-Net for neuron membranes

{opening} Its first cell brings the helper package and the data from this repository.

Or work locally: clone this repository, `pip install -r requirements.txt`, and open
`{NOTEBOOK_NAME}` in JupyterLab or VS Code.

Fill in the five tasks, run the visible test after each, train, and before you hand in, save
and run the last cell, *check my submission*. Hand in `{NOTEBOOK_NAME}` itself.

| folder | what it is |
|---|---|
| `{NOTEBOOK_NAME}` | the assignment |
| `unet_kit/` | plumbing the notebook imports: data, tiles, metrics, plots (read it if you like; you need not) |
| `data/isbi2012/` | the ISBI 2012 volumes, verified by the sha256 of their pixels |
"""


def _ignore_caches(folder: str, names: list[str]) -> list[str]:
    return [name for name in names if name in ("__pycache__", ".ipynb_checkpoints") or name.endswith(".pyc")]


def release(out: Path, repository: str) -> Path:
    """Write the student copy into ``out`` (which must be empty or absent, and outside this repository)."""
    out = out.resolve()
    if out.is_relative_to(REPOSITORY_ROOT):
        raise ValueError(f"{out} is inside the course repository: release outside it, so it cannot pick up answers")
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} is not empty: release into a new folder")
    out.mkdir(parents=True, exist_ok=True)
    for name in RELEASED:
        source = REPOSITORY_ROOT / name
        if source.is_dir():
            shutil.copytree(source, out / name, ignore=_ignore_caches)
        else:
            shutil.copyfile(source, out / name)
    notebook = point_notebook_at(nbformat.read(STUDENT_NOTEBOOK, as_version=4), repository)
    nbformat.write(notebook, out / NOTEBOOK_NAME)
    (out / "README.md").write_text(student_readme(repository))
    return out
