"""The schema table (config/schema.py) and what is made from it: defaults, overrides with their
origin in messages, nbnovnc's traitlets, derived facts, every problem at once."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from traitlets.config import Config

from repo2desktop import cli, desktops, render, vncservers
from repo2desktop.config import discover, overrides, schema
from repo2desktop.image import packages
from repo2desktop.config.model import AppLauncher, Vnc
from repo2desktop.errors import ConfigError
from repo2desktop.jupyter import nbnovnc


@pytest.fixture
def repo(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "desktop.yml").write_text("version: 1\ndisplay:\n  depth: 24\n")
    return tmp_path


def _leaf(config, path: str):
    value = config
    for part in path.split("."):
        value = getattr(value, part)
    return value


def test_every_leaf_key_of_a_minimal_file_is_the_tables_default(repo):
    config = discover.load(".")
    leaves = [k for k in schema.TABLE if "[]" not in k.path and "<name>" not in k.path
              and k.kind not in ("section", "items", "named")]
    assert {"version", "display.geometry", "python"} <= {k.path for k in leaves}  # not vacuous
    for key in leaves:
        expected = schema.default(key.path)
        assert _leaf(config, key.path) == (tuple(expected) if isinstance(expected, list) else expected), key.path
    assert config.display.number is None and config.display.number_or_first == 1


def test_the_table_names_each_section_and_list_item_once():
    paths = [k.path for k in schema.TABLE]
    assert len(paths) == len(set(paths))
    for key in schema.TABLE:
        assert key.parent == "" or key.parent.replace("[]", "") in schema.KEYS or \
            key.parent == "programs.<name>", key.path
    assert schema.allowed("home[]") == ("source", "target", "overwrite")
    assert schema.allowed("programs.<name>") == ("command", "environment", "autorestart", "directory")


def test_the_choices_are_the_registries_in_their_listed_order():
    """vnc.server and window_manager offer exactly the classes of vncservers/ and desktops/
    (one file each), the defaults first and `none` last, as messages and the README list them."""
    assert schema.KEYS["vnc.server"].choices == vncservers.names() == ("tightvnc", "tigervnc")
    assert schema.KEYS["window_manager"].choices == desktops.names()
    assert desktops.names()[0] == schema.KEYS["window_manager"].default == "openbox"
    assert desktops.names()[-1] == "none"
    for name, manager in desktops.WINDOW_MANAGERS.items():
        assert manager.name == name
        assert manager.launcher_place in ("panel", "desktop", "toolbar", "menu"), name
        placement = render.Placement("/run/r2d", 1, "", None, "websockify")
        assert bool(manager.session_command(placement)) is (name != "none"), name
    for name, server in vncservers.SERVERS.items():
        assert server.name == name and server.executable.startswith("/usr/bin/X"), name
        assert server.process_name in vncservers.process_names()


# --- overrides: located where they came from --------------------------------------------------
def test_a_bad_flag_is_reported_at_the_flag(repo, capsys):
    assert cli.main(["render", "--geometry", "bogus", "--out", str(repo / "out"), "."]) == 2
    assert capsys.readouterr().err == (
        "--geometry: display.geometry: 'bogus' is not WIDTHxHEIGHT (e.g. 1280x800)\n")
    assert not (repo / "out").exists()


def test_every_bad_flag_at_once_with_the_files_problems(repo, capsys):
    (repo / "desktop.yml").write_text("version: 1\nnovnc:\n  page: fulll\n")
    assert cli.main(["up", "--depth", "7", "--display", "0", "--vnc-server", "tigervnx", "."]) == 2
    assert capsys.readouterr().err == (
        "--display: display.number: display :0 is the host's own screen; use 1 or higher, or 'auto'\n"
        "--depth: display.depth: expected one of 8, 16, 24, 32; got an integer (7)\n"
        "--vnc-server: vnc.server: 'tigervnx' is not one of: tightvnc, tigervnc; did you mean 'tigervnc'?\n"
        "desktop.yml:3:9: novnc.page: 'fulll' is not one of: full, lite; did you mean 'full'?\n")


def test_good_flags_are_read_as_desktop_yml_would_read_them(repo):
    args = cli.build_parser().parse_args(["render", "--out", "x", "--depth", "16", "--display", "7",
                                          "--geometry", "800x600", "."])
    config = discover.load(".", overrides.from_args(args))
    assert (config.display.depth, config.display.number, config.display.geometry) == (16, 7, "800x600")


def test_the_cli_flags_are_the_tables():
    help_text = cli.build_parser()._subparsers._group_actions[0].choices["render"].format_help()
    for key in schema.overridable():
        assert key.flag in help_text and key.path in help_text
    # the flags users of earlier releases type keep working
    assert {"--display", "--geometry", "--depth", "--vnc-server", "--vnc-command",
            "--websockify-command", "--novnc-directory"} <= {k.flag for k in schema.overridable()}


def test_a_bad_nbnovnc_setting_is_reported_at_the_setting(repo):
    settings = Config({"NBNoVNC": {"geometry": "bogus", "depth": 24}})
    with pytest.raises(ConfigError) as e:
        discover.load(".", nbnovnc.overrides(settings))
    assert str(e.value) == ("c.NBNoVNC.geometry: display.geometry: 'bogus' is not WIDTHxHEIGHT "
                            "(e.g. 1280x800)")


def test_nbnovnc_settings_reach_the_session_and_keep_their_names(repo, capsys):
    """The Jupyter server hands c.NBNoVNC settings to `repo2desktop session` as flags; its
    errors (shown on the Desktop page) still name the settings."""
    settings = Config({"NBNoVNC": {"depth": 12, "vnc_command": "Xvnc :{display}"}})
    found = nbnovnc.overrides(settings)
    assert found == [overrides.Override("display.depth", 12, "c.NBNoVNC.depth"),
                     overrides.Override("vnc.command", "Xvnc :{display}", "c.NBNoVNC.vnc_command")]
    arguments = nbnovnc.as_arguments(found + [overrides.Override("display.number", 3, "--display")])
    assert arguments == ["--depth", "12", "--vnc-command", "Xvnc :{display}", "--display", "3",
                         "--from-nbnovnc"]
    args = cli.build_parser().parse_args(["session", "--unix-socket", "s", *arguments])
    assert [(o.key, o.value, o.origin) for o in overrides.from_args(args)] == [
        ("display.number", 3, "--display"), ("display.depth", 12, "c.NBNoVNC.depth"),
        ("vnc.command", "Xvnc :{display}", "c.NBNoVNC.vnc_command")]
    with pytest.raises(ConfigError) as e:
        discover.load(".", overrides.from_args(args))
    assert str(e.value) == "c.NBNoVNC.depth: display.depth: expected one of 8, 16, 24, 32; got an integer (12)"


def test_nbnovnc_traitlets_are_the_tables():
    assert sorted(nbnovnc.NBNoVNC.class_trait_names(config=True)) == [
        "depth", "geometry", "novnc_directory", "vnc_command", "websockify_command"]
    assert nbnovnc.overrides(Config()) == []


# --- every problem at once ---------------------------------------------------------------------
def test_a_duplicate_key_and_an_unknown_key_are_both_reported(repo):
    (repo / "desktop.yml").write_text("version: 1\ndisplay:\n  depth: 24\n  depth: 16\n  colour: red\n")
    with pytest.raises(ConfigError) as e:
        discover.load(".")
    assert str(e.value) == (
        "desktop.yml:4:3: display.depth: duplicate key (the mapping starts at line 3)\n"
        "desktop.yml:5:3: display.colour: unknown key (allowed here: number, geometry, depth, dpi)")


# --- derived facts: one property each -----------------------------------------------------------
@pytest.mark.parametrize("server, command, socket, tcp", [
    ("tightvnc", None, False, True),
    ("tigervnc", None, True, False),
    ("tigervnc", "Xtigervnc :{display} -rfbunixpath {unix_socket} -rfbport -1", True, False),
    ("tigervnc", "Xtigervnc :{display} -rfbunixpath {unix_socket} -rfbport {vnc_port}", True, True),
    ("tigervnc", "Xtigervnc :{display} -rfbport {vnc_port} -localhost", False, True),
    ("tightvnc", "Xtightvnc :{display} -rfbport {vnc_port}", False, True),
    ("tightvnc", "Xtightvnc :{display} -rfbunixpath {unix_socket}", False, True),
])
def test_unix_socket_and_tcp_port(server, command, socket, tcp):
    """One answer for the session's and the Jupyter server's display reservation, the
    shared-host warning, websockify's target and the Jupyter relay."""
    vnc = Vnc(server=server, auth="password", args=(), command=command, unsafe_args=False)
    assert (vnc.uses_unix_socket, vnc.uses_tcp_port) == (socket, tcp)
    assert vnc.lacks_glx is (server == "tightvnc" and command is None)


def test_icon_is_file():
    assert AppLauncher("a", "x", "icons/a.svg").icon_is_file
    assert not AppLauncher("a", "x", "utilities-terminal").icon_is_file
    assert not AppLauncher("a", "x", None).icon_is_file


@pytest.mark.parametrize("window_manager, panel, place", [
    ("openbox", True, "panel"), ("xfce4", False, "desktop"), ("mate", False, "desktop"),
    ("icewm", False, "toolbar"), ("none", False, "desktop")])
def test_the_panel_is_used_only_by_openbox_with_launchers(repo, window_manager, panel, place):
    (repo / "desktop.yml").write_text(f"version: 1\nwindow_manager: {window_manager}\n"
                                      "launchers: [{name: T, command: xterm}]\n")
    config = discover.load(".")
    assert (config.uses_panel, config.launcher_place) == (panel, place)
    assert not dataclasses.replace(config, launchers=()).uses_panel
    assert ("tint2" in packages.apt_packages(config)) is panel


def test_a_broken_nbnovnc_setting_keeps_the_tile_and_goes_to_the_session(repo, monkeypatch, capsys):
    """The Jupyter server logs the error at the setting, and the tile's session command
    carries the setting, so the Desktop page shows the same error (not a desktop without it)."""
    from repo2desktop.jupyter import tile

    monkeypatch.delenv("REPO2DESKTOP_CONFIG", raising=False)
    monkeypatch.setattr(nbnovnc, "_server_config", lambda: Config({"NBNoVNC": {"geometry": "bogus"}}))
    spec = tile.setup_desktop()
    assert capsys.readouterr().err == ("repo2desktop: c.NBNoVNC.geometry: display.geometry: 'bogus' "
                                       "is not WIDTHxHEIGHT (e.g. 1280x800)\n")
    assert spec["command"][-5:] == ["--geometry", "bogus", "--from-nbnovnc", "--unix-socket", "{unix_socket}"]
