"""desktop.yml's `clipboard:` key: its schema row, what each value renders (TigerVNC's own
switches, TightVNC's autocutsel bridge), the image's packages and the served page's settings."""
from __future__ import annotations

import json
import re
import shlex

import pytest

from repo2desktop.config import schema
from repo2desktop.config.json_schema import generate as json_schema
from repo2desktop.config.loader import parse
from repo2desktop.image.packages import apt_packages
from repo2desktop.config.validate import validate
from repo2desktop.errors import ConfigError
from repo2desktop.jupyter import page
from repo2desktop.render import Placement, render

PLACE = Placement(runtime_dir="/run/r2d", display=1, listen="unix:/run/r2d/ws.sock",
                  password_file="/run/r2d/passwd", websockify="/usr/bin/websockify")


def load(text: str):
    return validate(parse(text, "desktop.yml"), "desktop.yml")


def x_server_words(files) -> list:
    return shlex.split(files["bin/x-session.sh"].text.rstrip().splitlines()[-1])


def test_schema_row():
    key = schema.KEYS["clipboard"]
    assert (key.kind, key.default, key.choices) == ("choice", "both", ("both", "to-browser", "to-desktop", "off"))
    assert json_schema()["properties"]["clipboard"]["enum"] == ["both", "to-browser", "to-desktop", "off"]
    assert load("version: 1\n").clipboard == "both"


def test_bad_value_is_located():
    with pytest.raises(ConfigError) as e:
        load("version: 1\nclipboard: yes-please\n")
    assert str(e.value) == "desktop.yml:2:12: clipboard: 'yes-please' is not one of: both, to-browser, to-desktop, off"


def test_clipboard_is_a_reserved_program_name():
    with pytest.raises(ConfigError) as e:
        load("version: 1\nprograms:\n  clipboard: {command: sleep 1}\n")
    assert "'clipboard' is reserved for the desktop's own program" in str(e.value)


@pytest.mark.parametrize("mode, refused", [
    ("both", []),
    ("to-browser", ["-AcceptCutText=0", "-SetPrimary=0"]),
    ("to-desktop", ["-SendCutText=0", "-SendPrimary=0"]),
    ("off", ["-SendCutText=0", "-SendPrimary=0", "-AcceptCutText=0", "-SetPrimary=0"]),
])
def test_tigervnc_enforces_the_direction(mode, refused):
    files = render(load(f"version: 1\nvnc: {{server: tigervnc}}\nclipboard: {mode}\n"), PLACE)
    words = x_server_words(files)
    assert [w for w in words if "CutText" in w or "Primary" in w] == refused
    assert "bin/clipboard.sh" not in files  # TigerVNC handles CLIPBOARD and PRIMARY itself
    assert "autocutsel" not in apt_packages(load(f"version: 1\nvnc: {{server: tigervnc}}\nclipboard: {mode}\n"))


@pytest.mark.parametrize("mode", ["both", "to-browser", "to-desktop"])
def test_tightvnc_bridges_both_selections(mode):
    config = load(f"version: 1\nclipboard: {mode}\n")
    files = render(config, PLACE)
    script = files["bin/clipboard.sh"].text
    assert "autocutsel -selection PRIMARY -pause 250 &\nexec autocutsel -selection CLIPBOARD -pause 250\n" in script
    assert "export XAUTHORITY=/run/r2d/Xauthority\n" in script
    assert "[program:clipboard]\ncommand=/bin/sh /run/r2d/bin/clipboard.sh\n" in files["supervisord.conf"].text
    assert "autocutsel" in apt_packages(config)


def test_tightvnc_without_clipboard_runs_no_bridge():
    config = load("version: 1\nclipboard: 'off'\n")
    files = render(config, PLACE)
    assert "bin/clipboard.sh" not in files and "[program:clipboard]" not in files["supervisord.conf"].text
    assert "autocutsel" not in apt_packages(config)


def test_served_page_tells_the_viewer():
    html = page.render_page(load("version: 1\ndisplay: {geometry: 1600x1000}\nclipboard: to-browser\n"))
    features = json.loads(re.search(r'<script id="desktop-features" type="application/json">(.*?)</script>',
                                    html).group(1))
    # TightVNC: a Ctrl-V waits one bridge poll (and a margin) after new text went out.
    assert features == {"clipboard": "to-browser", "clipboard_settle_ms": 350, "max": "1600x1000",
                        "upload": "upload"}
    tiger = page.render_page(load("version: 1\nvnc: {server: tigervnc}\n"))
    assert '"clipboard_settle_ms": 0' in tiger


def test_session_page_hands_the_settings_to_the_viewer():
    index = render(load("version: 1\nclipboard: to-desktop\n"), PLACE)["web/index.html"].text
    features = json.loads(re.search(r'<script id="desktop-features" type="application/json">(.*?)</script>',
                                    index).group(1))
    assert features == {"clipboard": "to-desktop", "clipboard_settle_ms": 350, "max": "1280x800"}
