"""Debian's Chromium for the browser tests: how to start it, headless, as root, on a closed network.

A helper module, so that test modules share it without importing each other
(``tests/test_import_direction.py``); ``tests/conftest.py`` offers both as session fixtures.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys

import pytest

from unet_kit.assignment import REPOSITORY_ROOT

# Headless as root, and quiet on a closed network (no updates, sync or QUIC probes).
CHROMIUM_FLAGS = [
    "--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
CHROMIUM_INSTALL_TIMEOUT_S = 600


def find_or_install_chromium() -> str:
    """Debian's Chromium, installed with apt-get when it is missing and we may (root, apt-get present)."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("Chromium is not installed and cannot be installed here (needs root and apt-get): "
                    "run `apt-get install chromium`")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt_get = ["apt-get", "-q", "-o", "DPkg::Lock::Timeout=120"]
    try:
        # A failed update may still leave usable package lists, so only the install decides.
        subprocess.run([*apt_get, "update"], env=environment, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=CHROMIUM_INSTALL_TIMEOUT_S)
        install = subprocess.run([*apt_get, "install", "-y", "chromium"], env=environment, stdin=subprocess.DEVNULL,
                                 capture_output=True, text=True, timeout=CHROMIUM_INSTALL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.skip(f"installing Chromium with apt-get took more than {CHROMIUM_INSTALL_TIMEOUT_S} s")
    found = shutil.which("chromium")
    if install.returncode != 0:
        last_lines = " | ".join((install.stdout + install.stderr).strip().splitlines()[-3:])
        pytest.skip(f"`apt-get install chromium` failed (exit {install.returncode}): {last_lines}")
    if not found:
        pytest.skip("`apt-get install chromium` succeeded but put no `chromium` on PATH")
    return found


def import_playwright_sync_api():
    """Playwright's synchronous API, pip-installed from requirements-dev.txt if this environment lacks it."""
    try:
        import playwright.sync_api
    except ImportError:
        requirements = (REPOSITORY_ROOT / "requirements-dev.txt").read_text().splitlines()
        requirement = next(line.split("#")[0].strip() for line in requirements if line.startswith("playwright"))
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", requirement],
                       stdin=subprocess.DEVNULL, check=True, timeout=300)
        importlib.invalidate_caches()
        import playwright.sync_api
    return playwright.sync_api
