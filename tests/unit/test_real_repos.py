"""Fast checks of what nine real GUI repositories ran into (issue 9): OpenGL apps opened
from notebooks, launchers per desktop, the session's PATH, the lean Python path."""
from __future__ import annotations

import os

import pytest

from repo2desktop import cli

HINT = "TightVNC has no GLX/RANDR; use 'vnc.server: tigervnc'"


def _repo(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize("files, expected", [
    pytest.param({"requirements.txt": "numpy\n# napari later\nnapari[all]>=0.4 ; python_version>'3.9'\n"},
                 ["requirements.txt:3:1: warning: napari needs OpenGL (GLX) when a notebook opens "
                  "its windows on the desktop; " + HINT], id="requirements"),
    pytest.param({"environment.yml": "channels: [conda-forge]\ndependencies:\n  - python=3.11\n"
                                     "  - conda-forge::vispy\n  - pip:\n    - PyOpenGL==3.1\n"},
                 ["environment.yml:4:18: warning: vispy needs OpenGL (GLX) when a notebook opens its "
                  "windows on the desktop; " + HINT,
                  "environment.yml:6:7: warning: pyopengl needs OpenGL (GLX) when a notebook opens its "
                  "windows on the desktop; " + HINT], id="environment-yml-and-pip"),
    pytest.param({"binder/requirements.txt": "pyvista\n", "binder/desktop.yml": "version: 1\n"},
                 ["binder/requirements.txt:1:1: warning: pyvista needs OpenGL (GLX) when a notebook "
                  "opens its windows on the desktop; " + HINT], id="binder-folder"),
])
def test_opengl_notebook_apps_warn_with_tightvnc(tmp_path, monkeypatch, capsys, files, expected):
    files.setdefault("desktop.yml", "version: 1\n")
    monkeypatch.chdir(_repo(tmp_path, files))
    assert cli.main(["validate", "."]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == expected
    assert out.endswith(": OK\n")


@pytest.mark.parametrize("files", [
    pytest.param({"desktop.yml": "version: 1\nvnc: {server: tigervnc}\n",
                  "requirements.txt": "napari\n"}, id="tigervnc"),
    pytest.param({"desktop.yml": "version: 1\n", "requirements.txt": "numpy\n-r napari.txt\n"},
                 id="no-opengl-app"),
])
def test_no_opengl_warning_where_it_does_not_apply(tmp_path, monkeypatch, capsys, files):
    monkeypatch.chdir(_repo(tmp_path, files))
    assert cli.main(["validate", "."]) == 0
    assert capsys.readouterr().err == ""


def test_opengl_scan_does_not_follow_symlinks(tmp_path, monkeypatch, capsys):
    outside = tmp_path / "outside.txt"
    outside.write_text("napari\n")
    repo = _repo(tmp_path / "repo", {"desktop.yml": "version: 1\n"})
    os.symlink(outside, repo / "requirements.txt")
    monkeypatch.chdir(repo)
    assert cli.main(["validate", "."]) == 0
    assert capsys.readouterr().err == ""
