"""Uploads into ~/Desktop (repo2desktop/jupyter/upload.py) on a real file system: names that
would leave the folder are refused, links are replaced rather than followed, clashes are
refused unless the user said to replace, and a refused upload leaves nothing behind."""
from __future__ import annotations

import os

import pytest

from repo2desktop.jupyter import upload
from repo2desktop.jupyter.upload import UploadRefused, write_file


def test_writes_the_bytes(tmp_path):
    folder = tmp_path / "Desktop"  # created on the first upload
    data = bytes(range(256)) * 10
    path = write_file(str(folder), "data é.bin", data, overwrite=False)
    assert path == str(folder / "data é.bin") and (folder / "data é.bin").read_bytes() == data
    assert sorted(os.listdir(folder)) == ["data é.bin"]  # no partial file left


@pytest.mark.parametrize("name, message", [
    ("../evil.txt", "'../evil.txt' is not a file name (no folders, no '..')"),
    ("..", "'..' is not a file name (no folders, no '..')"),
    ("a/b", "'a/b' is not a file name (no folders, no '..')"),
    ("a\\b", "'a\\\\b' is not a file name (no folders, no '..')"),
    ("", "'' is not a file name (no folders, no '..')"),
    ("bad\nname", "'bad\\nname' contains control characters"),
    ("x" * 256, "the file name is longer than 255 bytes"),
])
def test_names_that_leave_the_folder_are_refused(tmp_path, name, message):
    folder = tmp_path / "home" / "Desktop"
    with pytest.raises(UploadRefused) as e:
        write_file(str(folder), name, b"x", overwrite=True)
    assert (e.value.status, str(e.value)) == (400, message)
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "home" / "evil.txt").exists()


def test_a_clash_is_refused_unless_replacing(tmp_path):
    write_file(str(tmp_path), "a.txt", b"first", overwrite=False)
    with pytest.raises(UploadRefused) as e:
        write_file(str(tmp_path), "a.txt", b"second", overwrite=False)
    assert (e.value.status, str(e.value)) == (409, "~/Desktop/a.txt exists already")
    assert (tmp_path / "a.txt").read_bytes() == b"first" and os.listdir(tmp_path) == ["a.txt"]
    write_file(str(tmp_path), "a.txt", b"second", overwrite=True)
    assert (tmp_path / "a.txt").read_bytes() == b"second"


def test_a_link_in_the_folder_is_replaced_not_followed(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep me")
    folder = tmp_path / "Desktop"
    folder.mkdir()
    (folder / "link").symlink_to(outside)
    with pytest.raises(UploadRefused):  # a dangling or live link is a name that exists
        write_file(str(folder), "link", b"new", overwrite=False)
    write_file(str(folder), "link", b"new", overwrite=True)
    assert outside.read_bytes() == b"keep me"
    assert not (folder / "link").is_symlink() and (folder / "link").read_bytes() == b"new"


def test_over_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(upload, "LIMIT", 10)
    with pytest.raises(UploadRefused) as e:
        write_file(str(tmp_path), "big.bin", b"x" * 11, overwrite=False)
    assert e.value.status == 413 and os.listdir(tmp_path) == []
