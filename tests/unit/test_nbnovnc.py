"""nbnovnc's five ``c.NBNoVNC.*`` settings: read from a Jupyter config, they win over
desktop.yml, and the session flags they become carry exactly the same desktop."""
from __future__ import annotations

from pathlib import Path

import pytest
from traitlets.config import Config

from repo2desktop import cli
from repo2desktop.config import discover
from repo2desktop.jupyter import nbnovnc

VNC_COMMAND = ("/opt/vnc/bin/Xvnc :{display} -geometry {geometry} -depth {depth} -rfbport {vnc_port}"
               " -localhost -nolisten tcp -rfbauth {rfbauth}")
WEBSOCKIFY_COMMAND = "websockify --web {novnc_directory} 127.0.0.1:{port} 127.0.0.1:{vnc_port}"
ALL_FIVE = {"geometry": "1024x640", "depth": 16, "novnc_directory": "/opt/novnc",
            "vnc_command": VNC_COMMAND, "websockify_command": WEBSOCKIFY_COMMAND}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "desktop.yml").write_text(
        "version: 1\ndisplay: {geometry: 1280x800, depth: 24}\nlauncher: {title: Lab}\n")
    return tmp_path


def load(repo: Path, settings: dict):
    return discover.load(str(repo), nbnovnc.overrides(Config({"NBNoVNC": settings})))


def test_every_setting_wins_over_desktop_yml(repo):
    config = load(repo, ALL_FIVE)
    assert (config.display.geometry, config.display.depth) == ("1024x640", 16)
    assert config.novnc.directory == "/opt/novnc"
    assert config.vnc.command == VNC_COMMAND
    assert config.websockify.command == WEBSOCKIFY_COMMAND
    assert config.launcher.title == "Lab"  # what no setting names stays desktop.yml's


def test_only_the_settings_made_override(repo):
    plain = discover.load(str(repo))
    assert load(repo, {}) == plain
    assert not nbnovnc.overrides(Config({"ServerApp": {"port": 9999}}))
    depth_only = load(repo, {"depth": 16})
    assert (depth_only.display.geometry, depth_only.display.depth) == ("1280x800", 16)
    assert depth_only.vnc.command is None


def test_no_jupyter_server_no_overrides():
    # Outside a running Jupyter server (`repo2desktop up`, tests) there is nothing to read.
    assert not nbnovnc.overrides()


def test_session_flags_carry_the_same_desktop(repo, tmp_path, monkeypatch):
    """What the Jupyter tile passes to `repo2desktop session` renders the same files as the
    settings themselves (render takes the same flags)."""
    values = nbnovnc.overrides(Config({"NBNoVNC": ALL_FIVE}))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert cli.main(["render", str(repo), "--out", str(out), *nbnovnc.as_arguments(values)]) == 0
    by_flags = {p.relative_to(out).as_posix(): p.read_text() for p in sorted(out.rglob("*")) if p.is_file()}

    from repo2desktop.runtime.files import write_rendered

    write_rendered(discover.load(str(repo), values), str(out))
    direct = {p.relative_to(out).as_posix(): p.read_text() for p in sorted(out.rglob("*")) if p.is_file()}
    assert by_flags == direct
    x_session = by_flags["bin/x-session.sh"]
    assert " -geometry 1024x640 -depth 16 -rfbport " in x_session
