"""A VNC command override that opens the server wider than the default is warned about on
every path it can take (issue 10): desktop.yml's vnc.command (test_hostile_inputs.py), the
--vnc-command flag of validate, render and up, and Jupyter's c.NBNoVNC.vnc_command."""
from __future__ import annotations

import pytest
from traitlets.config import Config

from repo2desktop import cli
from repo2desktop.config import discover
from repo2desktop.jupyter import nbnovnc
from repo2desktop.runtime import foreground

OPEN = "xinit -- /usr/bin/Xtightvnc :{display} -geometry {geometry} -depth {depth} -rfbport {vnc_port}"
KEPT = ("xinit -- /usr/bin/Xtightvnc :{display} -geometry {geometry} -depth {depth} -auth {xauthority} "
        "-rfbport {vnc_port} -localhost -rfbauth {rfbauth}")  # README's nbnovnc example
# Located where the override came from: the flag, or the c.NBNoVNC setting.
LACKS = ("warning: vnc.command: lacks what the default command has: -auth {xauthority} "
         "(the X display's cookie); -localhost (the VNC port on loopback only); -rfbauth {rfbauth} "
         "(the session's VNC password); other local users may reach the desktop (README: Security)")
WARNING = "--vnc-command: " + LACKS


@pytest.fixture
def repo(tmp_path, monkeypatch):
    (tmp_path / "desktop.yml").write_text("version: 1\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def started(monkeypatch):
    """`up` with the start replaced by a recorder (starting a desktop is the host tier's)."""
    configs = []
    monkeypatch.setattr(foreground, "run_up", lambda config, **kwargs: configs.append(config) or 0)
    return configs


def test_validate_warns_about_a_vnc_command_flag(repo, capsys):
    assert cli.main(["validate", ".", "--vnc-command", OPEN]) == 0
    assert capsys.readouterr() == ("desktop.yml: OK\n", WARNING + "\n")


def test_render_warns_about_a_vnc_command_flag(repo, capsys):
    assert cli.main(["render", ".", "--out", "out", "--vnc-command", OPEN]) == 0
    assert capsys.readouterr().err == WARNING + "\n"
    assert (repo / "out" / "supervisord.conf").is_file()  # a warning, not a refusal


def test_up_warns_about_a_vnc_command_flag(repo, capsys, started):
    assert cli.main(["up", ".", "--vnc-command", OPEN]) == 0
    assert capsys.readouterr().err.splitlines()[0] == WARNING
    assert started[0].vnc.command == OPEN


def test_nbnovnc_vnc_command_is_warned_about(repo):
    overrides = nbnovnc.overrides(Config({"NBNoVNC": {"vnc_command": OPEN}}))
    assert [(o.key, o.value, o.origin) for o in overrides] == [("vnc.command", OPEN, "c.NBNoVNC.vnc_command")]
    assert discover.load(".", overrides).warnings == ("c.NBNoVNC.vnc_command: " + LACKS,)


@pytest.mark.parametrize("argv", [["validate", "."], ["render", ".", "--out", "out"]])
def test_the_readmes_example_keeps_the_protections(repo, capsys, argv):
    assert cli.main([*argv, "--vnc-command", KEPT]) == 0
    assert capsys.readouterr().err == ""
    assert discover.load(".", nbnovnc.overrides(Config({"NBNoVNC": {"vnc_command": KEPT}}))).warnings == ()


def test_readme_shows_the_example_with_its_protections():
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert ('c.NBNoVNC.vnc_command = ("xinit -- /usr/bin/Xtightvnc :{display} -geometry {geometry} '
            '-depth {depth}"\n                         " -auth {xauthority} -rfbport {vnc_port} -localhost '
            '-rfbauth {rfbauth}")') in readme
