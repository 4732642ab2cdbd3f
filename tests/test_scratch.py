"""The grader's own handling of folders student code could write: nothing followed, nothing kept."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from grader.confinement.scratch import (
    DiskWatchdog,
    copy_plain_file,
    folder_usage,
    make_scratch,
    remove_special_files,
    remove_stale_scratch,
    remove_tree,
)

SECRET = b"scratch-test-secret-91c2"


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "instructor-only.txt"
    path.write_bytes(SECRET)
    return path


def test_special_files_are_removed_with_a_note_and_plain_files_stay(tmp_path, secret):
    folder = tmp_path / "autograded"
    (folder / "unet").mkdir(parents=True)
    (folder / "unet" / "UNet_Assignment.ipynb").write_text("{}")
    (folder / "unet" / "shadow").symlink_to(secret)
    (folder / "unet" / "up").symlink_to("/", target_is_directory=True)
    os.mkfifo(folder / "unet" / "pipe")
    os.link(secret, folder / "unet" / "hard")
    notes = remove_special_files(folder)
    assert sorted(notes) == ["unet/hard (hard link) was left out of the results",
                             "unet/pipe (FIFO) was left out of the results",
                             "unet/shadow (symbolic link) was left out of the results",
                             "unet/up (symbolic link) was left out of the results"]
    assert [path.name for path in (folder / "unet").iterdir()] == ["UNet_Assignment.ipynb"]
    assert secret.read_bytes() == SECRET  # the link went, never its target


def test_copying_refuses_a_link_a_fifo_and_a_hard_link(tmp_path, secret):
    (tmp_path / "link.html").symlink_to(secret)
    os.mkfifo(tmp_path / "fifo.html")  # a copy that opened it for reading would wait forever
    os.link(secret, tmp_path / "hard.html")
    for name in ("link.html", "fifo.html", "hard.html"):
        with pytest.raises(OSError):
            copy_plain_file(tmp_path / name, tmp_path / "copy.html")
        assert not (tmp_path / "copy.html").exists() or SECRET not in (tmp_path / "copy.html").read_bytes()
    (tmp_path / "page.html").write_text("feedback")
    copy_plain_file(tmp_path / "page.html", tmp_path / "copy.html")
    assert (tmp_path / "copy.html").read_text() == "feedback"


def test_removing_a_tree_unlinks_links_to_folders_without_entering_them(tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("keep")
    scratch = tmp_path / "scratch"
    (scratch / "deep").mkdir(parents=True)
    (scratch / "deep" / "up").symlink_to(precious, target_is_directory=True)
    remove_tree(scratch)
    assert not scratch.exists() and (precious / "keep.txt").read_text() == "keep"


def test_a_killed_graders_scratch_is_removed_at_the_next_start_and_a_live_ones_kept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"unet-grading-worker-{dead.pid}-abc"
    (stale / "s-1" / "probe").mkdir(parents=True)
    (stale / "s-1" / "probe" / "filler").write_bytes(b"x" * 4096)
    live = make_scratch("batch", parent=tmp_path)
    unrelated = tmp_path / "unet-grading-notes"
    unrelated.mkdir()
    assert remove_stale_scratch(tmp_path) == [stale]
    assert not stale.exists() and live.is_dir() and unrelated.is_dir()


def test_usage_counts_blocks_and_entries_and_never_follows_a_link(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data").write_bytes(b"x" * 100_000)
    (tmp_path / "root").symlink_to("/", target_is_directory=True)
    usage = folder_usage(tmp_path)
    assert usage.files == 3 and 100_000 <= usage.bytes < 200_000


def test_the_watchdog_stops_a_writer_past_the_limit(tmp_path):
    writer = subprocess.Popen([sys.executable, "-c", f"""\
import time
for index in range(10_000):
    open({str(tmp_path)!r} + f"/fill-{{index}}", "wb").write(b"x" * 2**20)
    time.sleep(0.01)
"""])
    started = time.monotonic()
    with DiskWatchdog(tmp_path, limit_bytes=20 * 2**20, limit_files=10_000, stop=writer.kill,
                      every_seconds=0.1) as watchdog:
        writer.wait(timeout=60)
    assert watchdog.exceeded and watchdog.exceeded.bytes > 20 * 2**20
    assert folder_usage(tmp_path).bytes < 200 * 2**20 and time.monotonic() - started < 60
