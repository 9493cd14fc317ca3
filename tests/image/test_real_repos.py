"""What nine real GUI repositories ran into (issue 9), on built images.

- xfce4: a double-click on a launcher icon (through noVNC, in Chromium) starts an apt app
  that embeds Python (gvim), whose interpreter is the system's (it imports a Debian module)
  although the notebook venv is on PATH; SVG icons load.
- mate, icewm, none: launchers where each desktop shows them, no stray tint2 panel.
- lean-python: a requirements.txt repository built here without conda, its pip app on the
  session's PATH.
- rebuild: `repo2desktop build` under an existing --image-name builds the change.
The shared checks of each fixture (programs, sockets, screenshot...) are in test_images.py.
"""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Optional, Tuple

import pytest

from tests.host.browser import CANVAS_SIZE
from tests.polling import wait_for

from .images import FIXTURES, IMAGES, NB_USER, SCREENSHOTS, Container, ContainerPool, ImageBuilder, run_build, untag
from .test_images import app_window

pytestmark = pytest.mark.image
VENV = "/srv/venv"

# Where an icon is on noVNC's canvas, whatever the wallpaper: remember the canvas with the
# icon (SNAP), take the icon's file away, and the pixels that changed are the icon (CHANGED).
SNAP = """() => {
  const c = document.querySelector('canvas');
  window.__snap = c.getContext('2d').getImageData(0, 0, c.width, c.height).data.slice();
  return [c.width, c.height];
}"""
CHANGED = """() => {
  const c = document.querySelector('canvas');
  const W = c.width, H = c.height, now = c.getContext('2d').getImageData(0, 0, W, H).data;
  const then = window.__snap;
  let minX = 1e9, minY = 1e9, maxX = -1, maxY = -1, n = 0;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const i = (y * W + x) * 4;
    if (Math.abs(now[i] - then[i]) + Math.abs(now[i + 1] - then[i + 1]) + Math.abs(now[i + 2] - then[i + 2]) > 60) {
      n++; minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
    }
  }
  return {changed: n, box: n ? [minX, minY, maxX - minX + 1, maxY - minY + 1] : null};
}"""


def open_in_chromium(chromium, container: Container):
    """A Chromium page on /desktop/ with noVNC's canvas up: (context, page)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    context.set_extra_http_headers(container.headers)
    page = context.new_page()
    page.goto(container.url("desktop/"))
    # The served page is the viewer itself (it connects once the desktop answers).
    page.wait_for_function(CANVAS_SIZE, timeout=60_000, polling=100)
    return context, page


def _within(check, seconds: float):
    """CHECK's first truthy value within SECONDS (polled), or None."""
    try:
        return wait_for(check, seconds, "", 0.25)
    except AssertionError:
        return None


def find_icon(page, take_away, put_back, timeout: float = 60) -> dict:
    """Where the desktop draws a file's icon: the canvas pixels that change when TAKE_AWAY()
    removes the file, and change back when PUT_BACK() returns it. Each round starts on a
    settled canvas (a second without change); xfdesktop draws its icons a while after its
    backdrop, so a round that sees no such change is tried again until TIMEOUT."""
    def settled() -> bool:
        page.evaluate(SNAP)
        time.sleep(1)
        return page.evaluate(CHANGED)["changed"] < 50

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wait_for(settled, 30, "the desktop stops changing", 0)
        page.evaluate(SNAP)
        take_away()
        gone = _within(lambda: (lambda r: r["changed"] > 300 and r)(page.evaluate(CHANGED)), 5)
        put_back()
        if gone and _within(lambda: page.evaluate(CHANGED)["changed"] < 50, 20):
            return gone
    pytest.fail(f"no icon went and came back with its file within {timeout:.0f} s")


def canvas_point(page, x: int, y: int) -> Tuple[float, float]:
    """Page coordinates of canvas pixel (x, y) (noVNC may scale the canvas)."""
    box = page.locator("canvas").bounding_box()
    width, height = page.evaluate("() => { const c = document.querySelector('canvas'); return [c.width, c.height]; }")
    return box["x"] + x * box["width"] / width, box["y"] + y * box["height"] / height


def session_path(container: Container, process_name: str) -> Optional[str]:
    """PATH in the environment of a desktop process (what apps started there inherit), or
    None while no such process runs."""
    procs = [p for p in container.processes() if p.name == process_name]
    if not procs:
        return None
    environ = container.host.check_output("tr '\\0' '\\n' < /proc/%s/environ", str(procs[0].pid))
    return next(line[5:] for line in environ.splitlines() if line.startswith("PATH="))


def system_before_venv(path: str) -> bool:
    parts = path.split(":")
    return "/usr/bin" in parts and f"{VENV}/bin" in parts and parts.index("/usr/bin") < parts.index(f"{VENV}/bin")


# -- xfce4: click a launcher icon; an apt app embedding Python; SVG icons -------------------

def test_xfce4_icon_double_click_starts_an_apt_app_with_the_systems_python(
        images: ImageBuilder, containers: ContainerPool, chromium):
    container = containers.start(images.build("xfce4"))
    try:
        container.open_desktop()
        session = container.desktop()
        host = container.host
        launcher = host.file(f"/home/{NB_USER}/Desktop/repo2desktop-vim.desktop")
        assert launcher.exists and launcher.mode & 0o100, "the launcher is an executable file on ~/Desktop"
        # The notebook venv is on the session's PATH, after the system's folders.
        path = wait_for(lambda: session_path(container, "xfdesktop"), 30, "xfdesktop running")
        assert system_before_venv(path), path
        # gdk-pixbuf has an SVG loader (librsvg2-common): icon themes' SVGs are drawn.
        loaders = host.check_output("cat /usr/lib/*/gdk-pixbuf-2.0/2.10.0/loaders.cache")
        assert "svg" in loaders.lower(), loaders[-500:]

        context, page = open_in_chromium(chromium, container)
        shot = SCREENSHOTS / "image-xfce4-launcher.png"
        try:
            icon_file = launcher.path
            gone = find_icon(page, lambda: host.run("mv %s /tmp/launcher.away", icon_file),
                             lambda: host.run("mv /tmp/launcher.away %s", icon_file))
            x, y, w, h = gone["box"]
            print(f"\n[xfce4] launcher icon at {gone['box']} on the canvas")
            assert w < 300 and h < 300, gone
            # A user double-clicks again when nothing opens: xfdesktop may drop a double-click
            # that lands while it re-reads ~/Desktop after the icon came back.
            window = None
            for attempt in range(3):
                page.mouse.dblclick(*canvas_point(page, x + w // 2, y + h // 3))
                window = _within(lambda: app_window(container, session, ("gvim", "Gvim"))[0], 15)
                if window:
                    break
                print(f"[xfce4] no gvim window 15 s after double-click {attempt + 1}")
            assert window, ("no gvim window after three double-clicks on its icon (Thunar's "
                            f"service?); processes: {sorted({p.name for p in container.processes()})}")
            result = wait_for(lambda: host.file("/tmp/gvim-python").exists and
                              host.file("/tmp/gvim-python").content_string, 20,
                              "gvim's Python did not import the Debian module xdg")
            assert result == "/usr", f"gvim's embedded Python runs from {result!r}, not the system's"
            print(f"[xfce4] gvim window at {window}; its Python's prefix {result}")
        finally:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot))
            context.close()
    finally:
        container.remove()


# -- launchers: where each desktop shows them ---------------------------------------------

@pytest.mark.parametrize("name, desktop_file", [
    ("mate", "repo2desktop-terminal.desktop"),
    ("lean-python", "repo2desktop-cow.desktop"),
])
def test_launchers_on_desktop_folder_and_no_panel(name, desktop_file, images: ImageBuilder,
                                                   containers: ContainerPool):
    container = containers.start(images.build(name))
    try:
        container.open_desktop()
        container.desktop()
        f = container.host.file(f"/home/{NB_USER}/Desktop/{desktop_file}")
        assert f.exists and f.user == NB_USER and f.mode & 0o100, (f.path, f.exists)
        names = {p.name for p in container.processes()}
        assert "tint2" not in names, sorted(names)
    finally:
        container.remove()


def test_icewm_toolbar_has_the_launcher(images: ImageBuilder, containers: ContainerPool):
    container = containers.start(images.build("icewm"))
    try:
        container.open_desktop()
        session = container.desktop()
        toolbar = container.host.file(f"{session.runtime_dir}/icewm/toolbar").content_string
        assert re.search(r'^prog "Eyes" "-" /bin/sh "\S+/bin/launcher-eyes\.sh"$', toolbar, re.M), toolbar
        procs = wait_for(lambda: {p.name for p in container.processes()} >= {"icewm", "icewm-session"}
                         and container.processes(), 30, "icewm not running")
        icewm = next(p for p in procs if p.name == "icewm")
        environ = container.host.check_output("tr '\\0' '\\n' < /proc/%s/environ", str(icewm.pid))
        assert f"ICEWM_PRIVCFG={session.runtime_dir}/icewm" in environ.splitlines()
        assert "tint2" not in {p.name for p in procs}
        # The launcher's script runs the app on the display.
        run = container.run(f"timeout 20 sh -c 'sh {session.runtime_dir}/bin/launcher-eyes.sh & sleep 3; "
                            "xwininfo -root -tree'", env=session.x_env)
        assert '"xeyes" "XEyes"' in run.stdout, run.stdout[-2000:] + run.stderr
    finally:
        container.remove()


# -- requirements.txt without conda ------------------------------------------------------------

def test_lean_python_app_is_on_the_sessions_path(images: ImageBuilder, containers: ContainerPool):
    container = containers.start(images.build("lean-python"))
    try:
        container.open_desktop()
        container.desktop()
        host = container.host
        assert not host.file("/srv/conda").exists and not host.file("/usr/local/bin/micromamba").exists
        where = wait_for(lambda: host.file("/tmp/session-cowsay").exists and
                         host.file("/tmp/session-cowsay").content_string.strip(), 30,
                         "the autostart did not record where cowsay is")
        assert where == f"{VENV}/bin/cowsay", where
        assert "moo" in host.check_output(f"{VENV}/bin/cowsay -t moo")
        assert host.check_output(f"{VENV}/bin/python -c 'import sys; print(sys.base_prefix)'") == "/usr"
        assert system_before_venv(wait_for(lambda: session_path(container, "xterm"), 30, "no xterm"))

        # An operator's `docker exec` reaches the display with one documented command.
        bare = container.run("xdpyinfo", env={"DISPLAY": ":1"})
        assert bare.exit_status != 0, "the display must need its cookie"
        via = container.run("repo2desktop exec-env -- xdpyinfo")
        assert via.exit_status == 0 and "name of display:    :1" in via.stdout, via.stderr
        exported = container.run("sh -c 'eval \"$(repo2desktop exec-env)\" && xdpyinfo -queryExtensions >/dev/null && echo ok'")
        assert exported.stdout.strip() == "ok", exported.stderr
    finally:
        container.remove()


# -- rebuilding under an existing name -------------------------------------------------------

def test_rebuild_under_the_same_image_name_builds_the_change(images: ImageBuilder, tmp_path: Path):
    repo = tmp_path / "rebuild"
    shutil.copytree(FIXTURES / "desktop-only", repo)
    image = IMAGES["rebuild"]
    untag(image)
    first = images.record(run_build(repo, image, "build-rebuild-1", name="rebuild"))
    assert first.ok, first.failure()
    (repo / "desktop.yml").write_text((repo / "desktop.yml").read_text() + "# changed\nnovnc: {title: Changed}\n")
    second = images.record(run_build(repo, image, "build-rebuild-2", name="rebuild-again"))
    assert second.ok, second.failure()
    assert "Reusing existing image" not in second.output
    assert f"{image}:latest exists; building it again" in second.output or \
        f"{image} exists; building it again" in second.output, second.output[-2000:]
    from .images import docker
    shown = docker("run", "--rm", "--entrypoint", "cat", image, "/etc/repo2desktop/desktop.yml").stdout
    assert "title: Changed" in shown, shown
    print(f"\n[rebuild] first build {first.seconds:.1f} s, rebuild after a desktop.yml change {second.seconds:.1f} s")
