"""Library bugs found while writing the fast tier. Fixed ones stay here as regression tests;
one known limit remains a strict xfail.

Each test states the behaviour we want. While the bug stands the test fails and is reported
as XFAIL; once the library is fixed it passes, strict=True turns that XPASS into a failure,
and the marker should be removed (the test then guards the fix): move it to
test_validate_errors.py or test_render_structure.py with the exact message.
"""
from __future__ import annotations

import configparser
import shlex

import pytest

from repo2desktop.errors import ConfigError
from repo2desktop.render import Placement, render


def bug(reason: str, **kwargs):
    return pytest.mark.xfail(strict=True, reason=reason, **kwargs)


# --- messages ---------------------------------------------------------------------------
def test_geometry_message_shows_what_the_user_wrote(load):
    # YAML reads 0x800 as the integer 2048; the message showed 2048, not what was written.
    with pytest.raises(ConfigError) as info:
        load("version: 1\ndisplay:\n  geometry: 0x800\n")
    assert str(info.value) == ("desktop.yml:3:13: display.geometry: an integer (0x800) is not "
                               "WIDTHxHEIGHT (e.g. 1280x800)")


@pytest.mark.parametrize("text, shown", [("0o17", "0o17"), ("0b101", "0b101"), ("0xFF", "0xFF"), ("15", "15")])
def test_integers_in_messages_keep_their_base(load, text, shown):
    with pytest.raises(ConfigError) as info:
        load(f"version: 1\nwebsockify:\n  heartbeat: {text}\n  command: {text}\n")
    assert f"got an integer ({shown})" in str(info.value)


# --- validate: accepted documents that render into something broken ----------------------
@pytest.mark.parametrize("command", ["{rfbauth}", "''"])
def test_vnc_command_that_names_no_x_server_is_refused(load, command):
    # Once accepted, these rendered an x-session whose X server line was empty.
    with pytest.raises(ConfigError) as info:
        load(f"version: 1\nvnc:\n  server: tigervnc\n  auth: none\n  command: \"{command}\"\n")
    assert str(info.value) == "desktop.yml:5:12: vnc.command: names no X server to run"


def test_nul_in_environment_value_is_an_error(load):
    with pytest.raises(ConfigError) as info:
        load('version: 1\nenvironment:\n  X: "a\\0b"\n')
    assert info.value.problems[0].line == 3


# --- render -----------------------------------------------------------------------------
def test_program_script_path_with_a_space_survives_supervisord(load):
    config = load("version: 1\n")
    placement = Placement("/tmp/my tmp/r2d", 1, "unix:/tmp/my tmp/r2d/websockify.sock",
                        "/tmp/my tmp/r2d/vnc.passwd", "/usr/bin/websockify")
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    parser.read_string(render(config, placement)["supervisord.conf"].text)
    command = parser.get("program:x-session", "command") % {}
    assert shlex.split(command) == ["/bin/sh", "/tmp/my tmp/r2d/bin/x-session.sh"]
