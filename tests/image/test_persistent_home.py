"""JupyterHub-style persistent home: an empty folder over /home/jovyan, and an xfce4 launcher."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.polling import wait_for

from .images import NB_USER
from .test_real_repos import find_icon

pytestmark = pytest.mark.image
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def test_empty_home_volume_still_gets_the_whole_desktop(images, containers, chromium, tmp_path):
    image = images.build("persistent-home")
    home = tmp_path / "home"
    home.mkdir()
    os.chown(home, 1000, 1000)  # what a JupyterHub volume gives the notebook user
    desktop = containers.start(image, ["-v", f"{home}:/home/{NB_USER}"])
    desktop.open_desktop()
    session = desktop.desktop()

    wanted = {"xfwm4", "xfce4-panel", "xfdesktop"}
    wait_for(lambda: wanted <= {p.name for p in desktop.processes()}, 60,
             f"xfce4 did not start {wanted}: {sorted(p.name for p in desktop.processes())}")
    # Declared files arrive in the (empty) home; the launcher goes where xfdesktop shows icons.
    assert (home / "Desktop" / "welcome.txt").read_text().startswith("Welcome")
    launcher = home / "Desktop" / "repo2desktop-terminal-here.desktop"
    assert "Exec=xfce4-terminal" in launcher.read_text()
    assert os.stat(launcher).st_mode & 0o100, "xfdesktop only trusts executable launchers"
    # Nothing generated went into $HOME: configuration stays in /etc, runtime files in /tmp.
    assert not (home / ".xinitrc").exists()
    assert session.runtime_dir.startswith("/tmp/")

    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    context.set_extra_http_headers(desktop.headers)
    page = context.new_page()
    try:
        page.goto(desktop.url("desktop/"))
        # The page the Jupyter server serves is the viewer itself: it connects where it is.
        page.wait_for_function(
            "() => [...document.querySelectorAll('canvas')].some(c => c.width > 100)", timeout=60_000)
        assert "token" not in page.url
        wait_for(lambda: "xfdesktop" in desktop.run("xwininfo -root -tree", env=session.x_env).stdout,
                 30, "xfdesktop has no window on the display")
        # xfdesktop shows the launcher that came into the empty home: its icon goes with its file.
        away = tmp_path / "launcher.away"
        icon = find_icon(page, lambda: os.rename(launcher, away), lambda: os.rename(away, launcher))
        assert icon["box"][2] < 300 and icon["box"][3] < 300, icon
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "image-persistent-home.png"))
    finally:
        context.close()

    # The user edits the welcome file; at the next start ('overwrite: never') it is kept.
    (home / "Desktop" / "welcome.txt").write_text("mine\n")
    desktop.stop()
    again = containers.start(image, ["-v", f"{home}:/home/{NB_USER}"])
    again.open_desktop()
    assert (home / "Desktop" / "welcome.txt").read_text() == "mine\n"
