"""runtime.home.planned_copies: which files go into $HOME at each start, from where, and with
which overwrite policy (the copying itself, against hostile repositories, is in
test_hostile_inputs.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from repo2desktop.config import discover
from repo2desktop.render import Placement
from repo2desktop.runtime.home import install_home_files, planned_copies

RUN = "/run/r2d"
PLACEMENT = Placement(RUN, 1, f"unix:{RUN}/websockify.sock", None, "/usr/bin/websockify")
HOME_ITEMS = ("home:\n"
              "  - {source: files/rc, target: .config/app/rc, overwrite: always}\n"
              "  - {source: files/notes.txt, target: Desktop/notes.txt}\n"
              "launchers:\n"
              "  - {name: Terminal, command: xterm}\n"
              "  - {name: Say hi, command: xmessage hi}\n")


def load(tmp_path: Path, window_manager: str):
    (tmp_path / "files").mkdir(exist_ok=True)
    (tmp_path / "files" / "rc").write_text("setting = 1\n")
    (tmp_path / "files" / "notes.txt").write_text("notes\n")
    (tmp_path / "desktop.yml").write_text(f"version: 1\nwindow_manager: {window_manager}\n{HOME_ITEMS}")
    return discover.load(str(tmp_path))


def declared(tmp_path: Path):
    return [(str(tmp_path / "files" / "rc"), ".config/app/rc", "always"),
            (str(tmp_path / "files" / "notes.txt"), "Desktop/notes.txt", "never")]


@pytest.mark.parametrize("window_manager", ["xfce4", "mate", "none"])
def test_launchers_go_on_the_desktop_where_the_desktop_shows_files(tmp_path, window_manager):
    launchers = [(f"{RUN}/share/applications/repo2desktop-{slug}.desktop",
                  f"Desktop/repo2desktop-{slug}.desktop", "never") for slug in ("terminal", "say-hi")]
    assert planned_copies(load(tmp_path, window_manager), PLACEMENT) == declared(tmp_path) + launchers


@pytest.mark.parametrize("window_manager", ["openbox", "icewm"])
def test_launchers_stay_in_the_panel_or_toolbar(tmp_path, window_manager):
    assert planned_copies(load(tmp_path, window_manager), PLACEMENT) == declared(tmp_path)


def test_nothing_declared_nothing_copied(tmp_path):
    (tmp_path / "desktop.yml").write_text("version: 1\nwindow_manager: xfce4\n")
    assert planned_copies(discover.load(str(tmp_path)), PLACEMENT) == []


def test_the_plan_is_what_is_copied(tmp_path):
    """install_home_files follows the plan: 'always' replaces, 'never' keeps the user's file."""
    repo = tmp_path / "repo"
    repo.mkdir()
    config = load(repo, "openbox")
    home = tmp_path / "home"
    (home / "Desktop").mkdir(parents=True)
    (home / "Desktop" / "notes.txt").write_text("mine\n")
    (home / ".config" / "app").mkdir(parents=True)
    (home / ".config" / "app" / "rc").write_text("old\n")
    report = install_home_files(config, PLACEMENT, str(home))
    assert report == [f"wrote {home}/.config/app/rc",
                      f"kept {home}/Desktop/notes.txt (yours; overwrite: never)"]
    assert (home / ".config" / "app" / "rc").read_text() == "setting = 1\n"
    assert (home / "Desktop" / "notes.txt").read_text() == "mine\n"
