"""build_wheel's place in the build context: one file per content, so two builds at once from
different installs (two checkouts, two venvs) never hand each other's package to an image."""
from __future__ import annotations

from pathlib import Path

from repo2desktop.image import wheel


def test_different_packages_get_different_files_and_the_same_package_the_same(tmp_path, monkeypatch):
    name = "repo2desktop-0.1.0-py3-none-any.whl"
    monkeypatch.setattr(wheel, "wheel_bytes", lambda: (name, b"checkout A"))
    a = wheel.build_wheel(str(tmp_path))
    monkeypatch.setattr(wheel, "wheel_bytes", lambda: (name, b"checkout B"))
    b = wheel.build_wheel(str(tmp_path))
    assert a != b and a.endswith("/" + name) and b.endswith("/" + name)
    assert Path(a).read_bytes() == b"checkout A" and Path(b).read_bytes() == b"checkout B"
    monkeypatch.setattr(wheel, "wheel_bytes", lambda: (name, b"checkout A"))
    assert wheel.build_wheel(str(tmp_path)) == a
