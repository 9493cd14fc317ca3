"""Where desktop.yml is read from (repo2docker's binder/ rule), and what the commands say
when there is none (issue 10): `validate`, `render`, `build` and the buildpack."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict

import pytest

from repo2desktop import cli
from repo2desktop.config import discover
from repo2desktop.image import build as build_module

IGNORED_NONE = ("desktop.yml:1:1: warning: ignored because binder/ exists (repo2docker then reads "
                "only binder/) and there is no binder/desktop.yml: move the file there")
IGNORED_USED = ("desktop.yml:1:1: warning: ignored because binder/ exists (repo2docker then reads "
                "only binder/); binder/desktop.yml is used")
BOTH = ("repo2desktop: .: both binder/ and .binder/ exist; repo2docker refuses to build such a "
        "repository (it reads one of them, never both): keep one")


def no_config_report(looked: str, folder: str = ".") -> str:
    return (f"no desktop.yml: {looked} does not exist, so no file was checked.\n"
            "Without one, `repo2desktop up` and `render` use the defaults (a desktop.yml of just "
            "`version: 1`): window_manager: openbox, autostart: [xterm], display.geometry: 1280x800, "
            "display.depth: 24, vnc.server: tightvnc, vnc.auth: password, start: lazy.\n"
            f"`repo2desktop build` needs a desktop.yml; `repo2desktop init {folder}` writes a starter.\n")


def make(root: Path, files: Dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# -- repo2docker's rule: binder/ or .binder/, when it exists, hides the top level ---------------
@pytest.mark.parametrize("files, found", [
    pytest.param({"desktop.yml": "version: 1\n"}, "desktop.yml", id="top-level"),
    pytest.param({"desktop.yml": "version: 1\n", "binder/desktop.yml": "version: 1\n"},
                 "binder/desktop.yml", id="binder-wins"),
    pytest.param({"desktop.yml": "version: 1\n", ".binder/desktop.yml": "version: 1\n"},
                 ".binder/desktop.yml", id="dot-binder-wins"),
    pytest.param({"desktop.yml": "version: 1\n", "binder/apt.txt": "xterm\n"}, None,
                 id="binder-without-desktop-yml-hides-the-top-level"),
    pytest.param({"desktop.yml": "version: 1\n", ".binder/": ""}, None, id="empty-dot-binder"),
    pytest.param({"desktop.yml": "version: 1\n", "binder": "a file, not a folder\n"}, "desktop.yml",
                 id="binder-file-is-no-folder"),
    pytest.param({}, None, id="nothing"),
])
def test_find_config_follows_repo2docker(tmp_path, monkeypatch, files, found):
    monkeypatch.chdir(make(tmp_path, files))
    result = discover.find_config(".")
    assert (None if result is None else str(Path(result))) == found


def test_binder_and_dot_binder_together_are_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(make(tmp_path, {"binder/desktop.yml": "version: 1\n", ".binder/apt.txt": "x\n"}))
    with pytest.raises(discover.BinderFoldersClash):
        discover.find_config(".")
    for argv in (["validate"], ["render", "--out", "out"], ["build", ".", "--no-build"]):
        assert cli.main(argv) == 2
        assert capsys.readouterr() == ("", BOTH + "\n")
    assert not (tmp_path / "out").exists()


def test_validate_warns_that_the_top_level_desktop_yml_is_ignored(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(make(tmp_path, {"desktop.yml": "version: 1\nstart: eager\n", "binder/apt.txt": "xterm\n"}))
    assert cli.main(["validate"]) == 0
    out, err = capsys.readouterr()
    assert err == IGNORED_NONE + "\n"
    assert out == no_config_report("binder/desktop.yml")


def test_validate_names_the_used_and_the_ignored_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(make(tmp_path, {"desktop.yml": "version: 1\n", "binder/desktop.yml": "version: 1\n"}))
    assert cli.main(["validate", "."]) == 0
    assert capsys.readouterr() == ("binder/desktop.yml: OK\n", IGNORED_USED + "\n")


def test_binder_desktop_yml_linked_to_the_top_level_one_is_no_warning(tmp_path, monkeypatch, capsys):
    """This repository's own layout: binder/desktop.yml -> ../desktop.yml."""
    monkeypatch.chdir(make(tmp_path, {"desktop.yml": "version: 1\n", "binder/apt.txt": "xterm\n"}))
    (tmp_path / "binder" / "desktop.yml").symlink_to("../desktop.yml")
    assert cli.main(["validate", "."]) == 0
    assert capsys.readouterr() == ("binder/desktop.yml: OK\n", "")


def test_render_warns_too(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(make(tmp_path, {"desktop.yml": "version: 1\n", "binder/desktop.yml": "version: 1\n"}))
    assert cli.main(["render", ".", "--out", "out"]) == 0
    assert capsys.readouterr().err == IGNORED_USED + "\n"


def test_build_stops_and_says_why(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(build_module.subprocess, "Popen", lambda *a, **kw: calls.append(a))
    make(tmp_path, {"repo/desktop.yml": "version: 1\n", "repo/binder/apt.txt": "xterm\n"})
    monkeypatch.chdir(tmp_path)
    assert cli.main(["build", "repo", "--no-build"]) == 1
    assert capsys.readouterr().err == (
        "repo/desktop.yml:1:1: warning: ignored because binder/ exists (repo2docker then reads only "
        "binder/) and there is no repo/binder/desktop.yml: move the file there\n"
        "repo2desktop: repo: no desktop.yml (repo/binder/desktop.yml does not exist); "
        "`repo2desktop init repo` writes a starter\n")
    assert calls == []


# -- `init` writes into the folder repo2docker reads, by the same rule -----------------------------
@pytest.mark.parametrize("files, folder", [
    pytest.param({}, "binder", id="new-binder"),
    pytest.param({".binder/apt.txt": "xterm\n"}, ".binder", id="existing-dot-binder"),
    pytest.param({"binder/": ""}, "binder", id="existing-binder"),
    pytest.param({"requirements.txt": "numpy\n"}, "", id="top-level-already-configures-repo2docker"),
    pytest.param({"requirements.txt": "numpy\n", "binder/": ""}, "binder", id="binder-hides-the-top-level"),
])
def test_init_writes_where_repo2docker_reads(tmp_path, files, folder):
    from repo2desktop.image import starter

    written = starter.init(str(make(tmp_path, files)), report=lambda line: None)
    assert {str(Path(p).parent.relative_to(tmp_path)) for p in written} == {folder or "."}


def test_init_refuses_binder_and_dot_binder_together(tmp_path, monkeypatch, capsys):
    """Files written into binder/ would be a repository repo2docker refuses to build."""
    monkeypatch.chdir(make(tmp_path, {"binder/": "", ".binder/": ""}))
    assert cli.main(["init"]) == 2
    assert capsys.readouterr() == ("", BOTH + "\n")
    assert sorted(p.name for p in tmp_path.rglob("*")) == [".binder", "binder"]


# -- the buildpack follows the same rule --------------------------------------------------------
def _pick(repo: Path, monkeypatch, caplog):
    from repo2desktop.image.buildpacks import selection

    monkeypatch.chdir(repo)
    with caplog.at_level(logging.INFO, logger="repo2docker"):
        for buildpack_class in selection.buildpacks():
            buildpack = buildpack_class(base_image="local/debian:bookworm")
            if buildpack.detect():
                return buildpack, caplog.text
        return selection.default_buildpack("local/debian:bookworm"), caplog.text


def test_buildpack_ignores_the_top_level_desktop_yml_beside_binder(tmp_path, monkeypatch, caplog):
    from repo2desktop.image.buildpacks.desktop import DesktopLayer

    make(tmp_path, {"desktop.yml": "version: 1\n", "binder/apt.txt": "xterm\n"})
    picked, log = _pick(tmp_path, monkeypatch, caplog)
    assert not isinstance(picked, DesktopLayer)  # no desktop: as stock repo2docker builds it
    assert log.count(IGNORED_NONE) == 1


def test_buildpack_uses_binder_desktop_yml_and_says_the_top_level_one_is_ignored(tmp_path, monkeypatch, caplog):
    from repo2desktop.image.buildpacks.desktop import DesktopLayer

    make(tmp_path, {"desktop.yml": "version: 1\n", "binder/desktop.yml": "version: 1\nvnc: {server: tigervnc}\n"})
    picked, log = _pick(tmp_path, monkeypatch, caplog)
    assert isinstance(picked, DesktopLayer)
    assert picked.desktop_config_path == "binder/desktop.yml"
    assert picked.desktop_config.vnc.server == "tigervnc"
    assert IGNORED_USED in log


# -- no desktop.yml at all ----------------------------------------------------------------------
def test_validate_without_desktop_yml_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["validate"]) == 0
    assert capsys.readouterr() == (no_config_report("desktop.yml"), "")
    (tmp_path / "sub").mkdir()
    assert cli.main(["validate", "sub"]) == 0
    assert capsys.readouterr() == (no_config_report("sub/desktop.yml", "sub"), "")
    assert cli.main(["validate", "-q", "sub"]) == 0
    assert capsys.readouterr() == ("", "")


def test_render_without_desktop_yml_writes_the_default_session(tmp_path, monkeypatch, capsys):
    """`render` without a desktop.yml: the defaults' session files, and nothing that names a
    config path to load later (the Jupyter entry is made by the running server, jupyter/tile.py)."""
    (tmp_path / "repo").mkdir()
    monkeypatch.chdir(tmp_path)
    assert cli.main(["render", "repo", "--out", "out"]) == 0
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")
                     if p.is_file())
    assert written == ["autostart.sh", "bin/clipboard.sh", "bin/websockify.sh", "bin/x-session.sh", "supervisord.conf",
                       "web/index.html", "web/repo2desktop-reconnect.js", "xinitrc"]
    assert capsys.readouterr().out.split() == [str(tmp_path / "out" / p) for p in written]
    xinitrc = (tmp_path / "out" / "xinitrc").read_text()
    assert f"Generated by repo2desktop from {discover.DEFAULTS_NAME};" in xinitrc
