"""Desktop look and feel as data (launchers, wallpaper) and $HOME files with their policy."""
from __future__ import annotations

import os
import struct
import subprocess
import zlib

import pytest

from tests.polling import wait_for

from .browser import canvas_pixels_like, chromium_page, screenshot, wait_for_canvas

pytestmark = pytest.mark.host
WALLPAPER_RGB = (200, 40, 40)
PANEL_RGB = (0x3B, 0x42, 0x52)


def solid_png(path, rgb, size=(64, 64)) -> None:
    """A one-colour PNG, written by hand (no imaging library needed)."""
    width, height = size
    row = b"\0" + bytes(rgb) * width
    def chunk(kind, data):
        return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack("!IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


def x_env(up) -> dict:
    display = [l for l in up.output if "display :" in l][0].split()[2]
    return {**os.environ, "DISPLAY": display, "XAUTHORITY": os.path.join(up.runtime_dir, "Xauthority")}


def windows(env: dict) -> str:
    return subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True, env=env).stdout


def wait_for_window(env: dict, needle: str, timeout: float = 15) -> str:
    def tree_with_it() -> str:
        tree = windows(env)
        return tree if needle in tree else ""

    return wait_for(tree_with_it, timeout, lambda: f"no window {needle!r} on {env['DISPLAY']}:\n{windows(env)}", 0.3)


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "files").mkdir()
    solid_png(tmp_path / "files" / "wall.png", WALLPAPER_RGB)
    (tmp_path / "files" / "notes.txt").write_text("from the repository\n")
    (tmp_path / "home").mkdir()
    return tmp_path


def test_openbox_shows_wallpaper_and_a_working_launcher(repo, start_up, monkeypatch):
    (repo / "desktop.yml").write_text(
        "version: 1\nvnc: {server: tigervnc}\nautostart: []\n"
        "wallpaper: files/wall.png\n"
        "launchers:\n  - {name: Terminal, command: xterm -title from-launcher, icon: utilities-terminal}\n")
    monkeypatch.setenv("HOME", str(repo / "home"))
    up = start_up(str(repo / "desktop.yml"))
    env = x_env(up)
    wait_for_window(env, "tint2")

    with chromium_page() as page:
        page.goto(f"http://127.0.0.1:{up.port}/#&password={up.password}")
        wait_for_canvas(page)
        wait_for(lambda: canvas_pixels_like(page, PANEL_RGB, 6) > 5000, 15, "the launcher panel visible", 0.3)
        assert canvas_pixels_like(page, WALLPAPER_RGB) > 100_000, "the wallpaper is not on the desktop"
        screenshot(page, "look-openbox-launcher.png")

    # The panel's first launcher is at its left end: click it and the application starts.
    geometry = subprocess.run(["xdotool", "search", "--class", "tint2", "getwindowgeometry"],
                              capture_output=True, text=True, env=env).stdout
    assert "Geometry" in geometry, geometry
    subprocess.run(["xdotool", "mousemove", "24", str(800 - 20), "click", "1"], check=True, env=env)
    wait_for_window(env, '"from-launcher"')


def test_home_files_follow_their_overwrite_policy(repo, start_up, monkeypatch):
    home = repo / "home"
    monkeypatch.setenv("HOME", str(home))
    (repo / "desktop.yml").write_text(
        "version: 1\nautostart: []\nhome:\n"
        "  - {source: files/notes.txt, target: Desktop/notes.txt}\n"
        "  - {source: files/notes.txt, target: .config/app/settings.txt, overwrite: always}\n")
    up = start_up(str(repo / "desktop.yml"))
    assert (home / "Desktop" / "notes.txt").read_text() == "from the repository\n"
    assert (home / ".config" / "app" / "settings.txt").read_text() == "from the repository\n"
    up.stop()

    # The user edits both; the next start keeps the 'never' file and replaces the 'always' one.
    (home / "Desktop" / "notes.txt").write_text("mine\n")
    (home / ".config" / "app" / "settings.txt").write_text("mine\n")
    start_up(str(repo / "desktop.yml"))
    assert (home / "Desktop" / "notes.txt").read_text() == "mine\n"
    assert (home / ".config" / "app" / "settings.txt").read_text() == "from the repository\n"
