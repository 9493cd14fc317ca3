"""display.dpi from desktop.yml (or --dpi) to the X server's -dpi: the fast half.

The host half (tests/host/test_up.py) asks the running X server for its resolution.
"""
from __future__ import annotations

import shlex

import pytest

from repo2desktop import cli
from repo2desktop.config import discover
from repo2desktop.render import Placement, x_session_command

PLACEMENT = Placement(runtime_dir="/run/r2d", display=1, listen="unix:/run/r2d/websockify.sock",
                    password_file="/run/r2d/passwd", websockify="/usr/bin/websockify")


def x_server_words(tmp_path, text: str, overrides=None) -> list:
    (tmp_path / "desktop.yml").write_text(text)
    config = discover.load(str(tmp_path), overrides)
    words = shlex.split(x_session_command(config, PLACEMENT))
    return words[words.index("--") + 1:]


@pytest.mark.parametrize("server", ["tightvnc", "tigervnc"])
def test_dpi_is_passed_to_the_x_server(tmp_path, server):
    words = x_server_words(tmp_path, f"version: 1\nvnc: {{server: {server}}}\ndisplay: {{dpi: 144}}\n")
    assert words[0] == f"/usr/bin/X{server}"
    assert words[words.index("-dpi") + 1] == "144"


@pytest.mark.parametrize("text", ["version: 1\n", "version: 1\ndisplay: {dpi: null}\n"])
def test_without_dpi_the_x_server_keeps_its_own(tmp_path, text):
    assert "-dpi" not in x_server_words(tmp_path, text)


def test_the_dpi_flag_wins_over_desktop_yml(tmp_path):
    words = x_server_words(tmp_path, "version: 1\ndisplay: {dpi: 144}\n", {"display.dpi": 192})
    assert words[words.index("-dpi") + 1] == "192"


@pytest.mark.parametrize("value, message", [
    ("10", "desktop.yml:2:16: display.dpi: 10 is out of range (30 to 600)"),
    ("'high'", "desktop.yml:2:16: display.dpi: expected an integer, got a string ('high')"),
    ("true", "desktop.yml:2:16: display.dpi: expected an integer, got a boolean (true)"),
])
def test_a_bad_dpi_is_located(tmp_path, capsys, value, message):
    (tmp_path / "desktop.yml").write_text(f"version: 1\ndisplay: {{dpi: {value}}}\n")
    assert cli.main(["validate", str(tmp_path / "desktop.yml")]) == 2
    assert capsys.readouterr().err.strip() == f"{tmp_path}/{message}"


def test_a_bad_dpi_flag_is_blamed_on_the_flag(tmp_path, capsys):
    (tmp_path / "desktop.yml").write_text("version: 1\n")
    assert cli.main(["render", str(tmp_path), "--out", str(tmp_path / "out"), "--dpi", "700"]) == 2
    assert capsys.readouterr().err.strip() == "--dpi: display.dpi: 700 is out of range (30 to 600)"
    assert not (tmp_path / "out").exists()
