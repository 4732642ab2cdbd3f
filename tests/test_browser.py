"""The student notebook in JupyterLab in a real browser: setup runs, and a wrong crop meets a visible test that teaches.

JupyterLab is served on loopback from a scratch folder and driven with Playwright through Debian's
Chromium (never a downloaded browser). The test clicks and types as a student would, so it catches
what executing the notebook headless cannot: a notebook JupyterLab refuses to open, a kernel that
never starts, locked cells that cannot run, a teaching message that never reaches the screen.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from grader.reporting.class_report import CHECKS_CSV, CLASS_REPORT, read_checks_csv
from tests.chromium import CHROMIUM_FLAGS
from tests.figures import SCREENSHOTS
from tests.submissions import MISCONCEPTION_OF
from unet_kit.assignment import REPOSITORY_ROOT, STUDENT_NOTEBOOK, grade_id_of_test_cell

SERVER_START_TIMEOUT_S = 90
SERVER_STOP_TIMEOUT_S = 30
KERNEL_START_TIMEOUT_MS = 90_000
SETUP_CELL_TIMEOUT_MS = 120_000  # the setup imports torch in a fresh kernel on a busy 2-core machine
CELL_TIMEOUT_MS = 30_000

WRONG_CROP = "def crop(image, new_shape):\n    return image  # forgot to crop\n"
CROP_TEACHING_MESSAGE = "expected shape (2, 3, 4, 3), got (2, 3, 6, 7)"
EXECUTED_PROMPT = re.compile(r"\[\d+\]:")
KERNEL_READY = re.compile(r"Python 3 \(ipykernel\) \| Idle")


@dataclass
class NotebookLayout:
    """Where the cells a student runs first sit in the notebook, by cell index."""

    setup_cells: list[int]
    architecture_figure_cell: int
    crop_answer_cell: int
    crop_test_cell: int


def notebook_layout(notebook_path: Path) -> NotebookLayout:
    """The setup block (the leading run of code cells), the architecture figure's cell, and the crop task's cells."""
    cells = nbformat.read(notebook_path, as_version=4).cells
    first_code = next(index for index, cell in enumerate(cells) if cell.cell_type == "code")
    setup_end = next(index for index in range(first_code, len(cells)) if cells[index].cell_type != "code")
    grade_ids = {cell.metadata.get("nbgrader", {}).get("grade_id"): index for index, cell in enumerate(cells)}
    figure = next(index for index, cell in enumerate(cells) if "draw_unet_architecture(" in cell.source)
    return NotebookLayout(list(range(first_code, setup_end)), figure, grade_ids["crop"],
                          grade_ids[grade_id_of_test_cell("crop")])


@dataclass
class JupyterLabServer:
    url: str
    token: str

    def open_url(self, notebook_name: str) -> str:
        return f"{self.url}lab/tree/{notebook_name}?token={self.token}"


def write_student_lab_config(config_folder: Path, settings_folder: Path) -> None:
    """JupyterLab as a student has it: without the instructor's nbgrader extension, and with no news or
    update toasts (they would ask the network and can cover the cells we click)."""
    page_config = config_folder / "labconfig" / "page_config.json"
    page_config.parent.mkdir(parents=True)
    page_config.write_text(json.dumps({"disabledExtensions": {"@jupyter/nbgrader": True}}))
    notification_settings = settings_folder / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification_settings.parent.mkdir(parents=True)
    notification_settings.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


def wait_for_server_info(runtime_folder: Path, server: subprocess.Popen, log_path: Path) -> dict:
    """The jpserver-*.json the server writes once it listens; it names the real URL."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
        for info_file in runtime_folder.glob("jpserver-*.json"):
            try:
                return json.loads(info_file.read_text())
            except json.JSONDecodeError:
                pass  # still being written
        time.sleep(0.2)
    raise TimeoutError(f"JupyterLab did not start in {SERVER_START_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")


def stop_server(server: subprocess.Popen, url: str | None, token: str) -> None:
    """Ask the server to shut down (it stops its kernels too); terminate, then kill, if it does not."""
    if server.poll() is None and url is None:
        server.terminate()
    elif server.poll() is None:
        try:
            request = urllib.request.Request(f"{url}api/shutdown", method="POST",
                                             headers={"Authorization": f"token {token}"})
            urllib.request.urlopen(request, timeout=10).close()
        except OSError:
            server.terminate()
    for stop in (server.terminate, server.kill):
        try:
            server.wait(timeout=SERVER_STOP_TIMEOUT_S)
            return
        except subprocess.TimeoutExpired:
            stop()
    server.wait(timeout=SERVER_STOP_TIMEOUT_S)


@pytest.fixture
def jupyterlab_server(tmp_path) -> JupyterLabServer:
    """JupyterLab on 127.0.0.1 serving a copy of the student notebook; its kernels import unet_kit."""
    notebook_folder = tmp_path / "student"
    notebook_folder.mkdir()
    shutil.copy(STUDENT_NOTEBOOK, notebook_folder)
    jupyter_home = tmp_path / "jupyter"
    # Our own config, data, settings and runtime folders: no user setting, kernelspec or workspace leaks in.
    folders = {name: jupyter_home / name for name in ("config", "data", "runtime", "settings", "workspaces", "ipython")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    write_student_lab_config(folders["config"], folders["settings"])
    python_path = [str(REPOSITORY_ROOT), os.environ.get("PYTHONPATH", "")]
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(path for path in python_path if path),
        "JUPYTER_CONFIG_DIR": str(folders["config"]),
        "JUPYTER_DATA_DIR": str(folders["data"]),
        "JUPYTER_RUNTIME_DIR": str(folders["runtime"]),
        "JUPYTERLAB_SETTINGS_DIR": str(folders["settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(folders["workspaces"]),
        "IPYTHONDIR": str(folders["ipython"]),
    }
    environment.pop("MPLBACKEND", None)  # as a student has it: the kernel draws figures inline
    token = secrets.token_hex(16)
    log_path = tmp_path / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", "--ServerApp.port=0",  # port 0: the system picks a free one
        f"--ServerApp.root_dir={notebook_folder}", f"--IdentityProvider.token={token}",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with log_path.open("w") as log:
        server = subprocess.Popen(command, env=environment, cwd=notebook_folder, stdin=subprocess.DEVNULL,
                                  stdout=log, stderr=subprocess.STDOUT)
    url = None
    try:
        url = wait_for_server_info(folders["runtime"], server, log_path)["url"]
        yield JupyterLabServer(url=url, token=token)
    finally:
        stop_server(server, url, token)


@pytest.fixture
def browser_page(playwright_sync_api, chromium_executable, tmp_path):
    """A fresh page in headless Chromium, large enough to show a task and its test.

    Its last view is saved as jupyterlab-last-view.png, so a failure in CI can be looked at.
    """
    with playwright_sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            yield page
            page.screenshot(path=tmp_path / "jupyterlab-last-view.png")
        finally:
            browser.close()


def run_cell(page, expect, cell, timeout_ms: int) -> None:
    """Click into the cell and press Shift+Enter, as a student does; wait until its prompt shows a number."""
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    expect(cell.locator(".jp-InputPrompt")).to_have_text(EXECUTED_PROMPT, timeout=timeout_ms)


@pytest.mark.slow
def test_student_runs_setup_sees_the_architecture_figure_and_meets_a_wrong_crops_teaching_message(chromium_executable, playwright_sync_api,
                                                                        jupyterlab_server, browser_page, tmp_path, request):
    # Chromium and Playwright come first: where Chromium cannot be installed we skip before starting JupyterLab.
    page, expect = browser_page, playwright_sync_api.expect
    layout = notebook_layout(STUDENT_NOTEBOOK)
    page.goto(jupyterlab_server.open_url(STUDENT_NOTEBOOK.name))
    cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    expect(cells.nth(layout.crop_test_cell)).to_be_attached(timeout=KERNEL_START_TIMEOUT_MS)
    # The status bar, not the toolbar's indicator: that one reads "idle" before the kernel has even started.
    expect(page.locator("#jp-main-statusbar")).to_contain_text(KERNEL_READY, timeout=KERNEL_START_TIMEOUT_MS)

    for index in layout.setup_cells:
        run_cell(page, expect, cells.nth(index), SETUP_CELL_TIMEOUT_MS)
        expect(cells.nth(index).locator(".jp-OutputArea")).not_to_contain_text("Traceback")
    expect(cells.nth(layout.setup_cells[-1]).locator(".jp-OutputArea")).to_contain_text("training budget:")

    figure_cell = cells.nth(layout.architecture_figure_cell)
    run_cell(page, expect, figure_cell, CELL_TIMEOUT_MS)
    figure = figure_cell.locator(".jp-OutputArea img")
    expect(figure).to_be_visible()  # the figure traced from the reference U-Net renders as a picture
    assert figure.evaluate("image => image.naturalWidth") > 600

    answer_editor = cells.nth(layout.crop_answer_cell).locator(".cm-content")
    answer_editor.click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.insert_text(WRONG_CROP)
    expect(answer_editor).to_contain_text("return image")
    expect(answer_editor).not_to_contain_text("NotImplementedError")
    run_cell(page, expect, cells.nth(layout.crop_answer_cell), CELL_TIMEOUT_MS)
    expect(cells.nth(layout.crop_answer_cell).locator(".jp-OutputArea")).to_be_empty()

    test_cell = cells.nth(layout.crop_test_cell)
    run_cell(page, expect, test_cell, CELL_TIMEOUT_MS)
    test_output = test_cell.locator(".jp-OutputArea")
    expect(test_output).to_contain_text(f"AssertionError: {CROP_TEACHING_MESSAGE}")
    expect(test_output).not_to_contain_text("all visible tests passed")

    test_output.scroll_into_view_if_needed()
    screenshot = tmp_path / "jupyterlab-crop-test.png"
    page.screenshot(path=screenshot)
    SCREENSHOTS[request.node.name] = screenshot
    print(f"screenshot: {screenshot}")


@pytest.mark.slow
def test_instructor_reads_the_class_report_with_the_corpus_counts(graded_batch, browser_page, playwright_sync_api,
                                                                 tmp_path, request):
    page, expect = browser_page, playwright_sync_api.expect
    fetched = []
    page.on("request", lambda fetch: fetched.append(fetch.url))
    page.goto((graded_batch.output / CLASS_REPORT).as_uri())

    plots = page.locator("img")
    expect(plots).to_have_count(2)
    for index in range(2):
        assert plots.nth(index).get_attribute("alt").startswith("Histogram")
        assert plots.nth(index).evaluate("image => image.complete && image.naturalWidth") > 100
    assert [url for url in fetched if not url.startswith(("file:", "data:"))] == []  # nothing from the network

    diagnosed: dict[str, set[str]] = {}
    for report in graded_batch.reports.values():
        for task in report.tasks:
            for diagnosis in task.misconceptions:
                diagnosed.setdefault(diagnosis.id, set()).add(report.student_id)
    shown = {}
    for row in page.locator("table.misconceptions tbody tr").all():
        misconception, count, who = (row.locator("td").nth(column).inner_text() for column in range(3))
        shown[misconception] = (int(count), set(who.split(", ")))
    assert shown == {misconception: (len(students), students) for misconception, students in diagnosed.items()}
    for mutant, misconception in MISCONCEPTION_OF.items():
        assert mutant in shown[misconception][1]

    rows = read_checks_csv(graded_batch.output / CHECKS_CSV)
    check_rows = page.locator("table.checks tbody tr")
    expect(check_rows).to_have_count(len({(row.task, row.check) for row in rows}))
    first = check_rows.first.locator("td")
    task, check = first.nth(0).inner_text(), first.nth(1).inner_text()
    takers = [row for row in rows if (row.task, row.check) == (task, check)]
    expect(first.nth(2)).to_have_text(f"{sum(row.passed for row in takers)} of {len(takers)}")
    not_graded = page.locator("table.not-graded tbody tr")
    expect(not_graded).to_have_count(len([r for r in graded_batch.reports.values() if r.problem]))

    screenshot = tmp_path / "class-report.png"
    page.screenshot(path=screenshot, full_page=True)
    SCREENSHOTS[request.node.name] = screenshot
