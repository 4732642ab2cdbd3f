"""The jail's plain parts, without confining anything: which roots Landlock is told to allow, and the
policy file that carries the rules from the grader to the jailed process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.confinement.jail import Policy, readable_roots


@pytest.fixture
def course(tmp_path) -> Path:
    """A course folder holding hidden tests beside folders and files that may be read."""
    root = tmp_path.resolve() / "course"
    for folder in ("hidden_tests", "autograded", "release/unet", "source"):
        (root / folder).mkdir(parents=True)
    (root / "hidden_tests" / "test_crop.py").write_text("SECRET = 1\n")
    (root / "gradebook.db").write_text("")
    (tmp_path / "scratch").mkdir()
    return root


def roots_under(folder: Path, roots: list[Path]) -> set[Path]:
    return {root for root in roots if root.is_relative_to(folder)}


def test_a_hidden_folder_is_left_out_and_its_siblings_are_allowed(course):
    roots = readable_roots([course / "hidden_tests"])
    assert roots_under(course.parent, roots) == {course.parent / "scratch", course / "autograded",
                                                 course / "gradebook.db", course / "release", course / "source"}


def test_no_root_holds_or_lies_inside_a_hidden_folder(course):
    hidden = course / "hidden_tests"
    for root in readable_roots([hidden]):
        assert not hidden.is_relative_to(root), f"{root} holds the hidden folder"
        assert not root.is_relative_to(hidden), f"{root} is inside the hidden folder"


def test_everything_beside_the_way_down_from_the_filesystem_root_is_allowed(course):
    """Every sibling of every folder on the way to the hidden one, up to ``/``, bar links back onto
    the way (pytest makes one beside each test's folder): nothing else is lost."""
    hidden = course / "hidden_tests"
    roots = set(readable_roots([hidden]))
    on_the_way = {hidden, *hidden.parents}
    for folder in hidden.parents:
        beside = {child for child in folder.iterdir()
                  if child not in on_the_way and not (child.is_symlink() and child.resolve() in on_the_way)}
        assert beside <= roots, folder


def test_two_hidden_siblings_are_both_left_out(course):
    roots = readable_roots([course / "hidden_tests", course / "autograded"])
    assert roots_under(course, roots) == {course / "gradebook.db", course / "release", course / "source"}


def test_a_folder_inside_a_hidden_folder_stays_hidden(course):
    roots = readable_roots([course, course / "release" / "unet"])
    assert roots_under(course, roots) == set()
    assert course.parent / "scratch" in roots


def test_a_policy_reads_back_from_its_file_as_it_was_saved(tmp_path):
    policy = Policy(hidden=["/srv/course", "/srv/submissions"], readable=["/srv/course/unet_kit"],
                    writable=[str(tmp_path / "scratch")], memory_bytes=2 * 2**30, file_size_bytes=2**20,
                    environment={"PYTHONPATH": "/srv/course", "MPLBACKEND": "Agg"})
    path = policy.save(tmp_path / "policy.json")
    assert path == tmp_path / "policy.json"
    assert json.loads(path.read_text())["hidden"] == ["/srv/course", "/srv/submissions"]  # plain JSON, not a pickle
    assert Policy.load(path) == policy


def test_a_policy_with_only_its_defaults_reads_back_unchanged(tmp_path):
    policy = Policy(hidden=[])
    assert Policy.load(policy.save(tmp_path / "policy.json")) == policy


def test_a_link_beside_the_way_down_into_a_hidden_folder_is_not_a_readable_root(tmp_path):
    hidden = tmp_path / "runs" / "run-5" / "graded"
    hidden.mkdir(parents=True)
    (tmp_path / "runs" / "run-current").symlink_to(tmp_path / "runs" / "run-5")  # as pytest's own link
    (tmp_path / "runs" / "elsewhere").mkdir()
    (tmp_path / "runs" / "to-elsewhere").symlink_to(tmp_path / "runs" / "elsewhere")
    roots = readable_roots([hidden])
    assert tmp_path / "runs" / "run-current" not in roots
    assert tmp_path / "runs" / "to-elsewhere" in roots and tmp_path / "runs" / "elsewhere" in roots
