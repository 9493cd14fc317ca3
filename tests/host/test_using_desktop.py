"""Living in the desktop (issue 17), through a real Jupyter server, real VNC servers and a real
Chromium with clipboard permissions: copy and paste both ways (CLIPBOARD and PRIMARY), the
clipboard key, the desktop following the window, the toolbar's keys and text, uploads.

The desktop side is read and written with xclip/xdotool/xdpyinfo holding the session's cookie,
as a kernel would; the browser side with navigator.clipboard in the page.
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.polling import wait_for

from .browser import CANVAS_SIZE
from .test_jupyter import SCREENSHOTS, JupyterServer, find_session, x_client

pytestmark = pytest.mark.jupyter

SERVERS = ["tightvnc", "tigervnc"]


def desktop_yml(server: str, extra: str = "", autostart: str = "[]") -> str:
    return f"version: 1\nvnc:\n  server: {server}\nautostart: {autostart}\n{extra}"


@pytest.fixture
def servers(tmp_path):
    """Jupyter servers started by one test, each stopped (and its cleanup checked) after it."""
    started = []

    def start(text: str) -> JupyterServer:
        folder = tmp_path / f"server{len(started)}"
        folder.mkdir()
        server = JupyterServer(folder, text)
        started.append(server)
        return server.wait_ready()
    yield start
    for server in started:
        server.stop()


@pytest.fixture
def browser_context(chromium):
    contexts = []

    def new_context(server: JupyterServer, **options):
        options.setdefault("viewport", {"width": 1280, "height": 800})
        context = chromium.new_context(**options)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url("")[:-len("/user/alice/")])
        context.set_extra_http_headers(server.headers)
        contexts.append(context)
        return context
    yield new_context
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def chromium():
    from .browser import launched_chromium

    with launched_chromium() as browser:
        yield browser


def open_desktop(server: JupyterServer, context):
    page = context.new_page()
    page.goto(server.url("desktop/"))
    page.wait_for_function(CANVAS_SIZE, timeout=60_000, polling=50)
    page.wait_for_function("() => document.documentElement.classList.contains('noVNC_connected')")
    return page, server.session()


def x_env(session) -> dict:
    return dict(os.environ, DISPLAY=f":{session.display}", XAUTHORITY=session.xauthority, LANG="C.UTF-8")


def set_selection(session, selection: str, text: str, latin1: bool = False) -> None:
    """An X client owns SELECTION with TEXT: xclip serves it from the background until another
    client takes the selection or the X server ends (its output is not waited for). LATIN1:
    offered as STRING in ISO 8859-1, as X apps answer a request for STRING (xclip itself hands
    out its UTF-8 bytes unconverted)."""
    target = ["-t", "STRING"] if latin1 else []
    subprocess.run(["xclip", "-selection", selection, "-i", *target],
                   input=text.encode("latin-1" if latin1 else "utf-8"), env=x_env(session),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10, check=True)


def selection(session, name: str, latin1: bool = False) -> str:
    target = ["-t", "STRING"] if latin1 else []
    result = subprocess.run(["xclip", "-selection", name, "-o", *target], env=x_env(session),
                            capture_output=True, timeout=10)
    if result.returncode:
        return f"<{result.stderr!r}>"
    return result.stdout.decode("latin-1" if latin1 else "utf-8", errors="replace")


def browser_clipboard(page) -> str:
    return page.evaluate("() => navigator.clipboard.readText()")


def paste(page) -> None:
    """Ctrl-V in the desktop (headless Chromium never loses the focus, so the read on focus
    that a real window gets cannot be driven from here)."""
    page.locator("canvas").first.click()
    page.keyboard.press("Control+V")


# -- clipboard ---------------------------------------------------------------------------

@pytest.mark.parametrize("vnc", SERVERS)
def test_clipboard_both_ways(servers, browser_context, vnc):
    server = servers(desktop_yml(vnc))
    page, session = open_desktop(server, browser_context(server))
    page.evaluate("() => navigator.clipboard.writeText('sentinel')")

    # Ctrl-C in an app (CLIPBOARD) reaches the browser's clipboard.
    set_selection(session, "clipboard", "copied in the desktop")
    wait_for(lambda: browser_clipboard(page) == "copied in the desktop", 2,
             "the desktop's CLIPBOARD in navigator.clipboard", 0.05)
    # An app that only sets PRIMARY (selecting text) reaches it too.
    set_selection(session, "primary", "selected in the desktop")
    wait_for(lambda: browser_clipboard(page) == "selected in the desktop", 2,
             "the desktop's PRIMARY in navigator.clipboard", 0.05)

    # Copied in the browser: in the desktop's CLIPBOARD (and PRIMARY) on Ctrl-V there.
    copied = f"copied in the browser ({vnc})"
    page.evaluate("(t) => navigator.clipboard.writeText(t)", copied)
    paste(page)
    wait_for(lambda: selection(session, "clipboard") == copied, 2,
             "the browser's text in the desktop's CLIPBOARD", 0.05)
    wait_for(lambda: selection(session, "primary") == copied, 2,
             "the browser's text in the desktop's PRIMARY", 0.05)

    # Latin-1 on TightVNC (its cut text has no other encoding); any UTF-8 text on TigerVNC.
    latin1 = vnc == "tightvnc"
    text = "Grüße, café, 1½" if latin1 else "Grüße, 世界 ✓ 😀"
    set_selection(session, "clipboard", text, latin1)
    wait_for(lambda: browser_clipboard(page) == text, 2, "non-ASCII text from the desktop", 0.05)
    back = text[::-1]
    page.evaluate("(t) => navigator.clipboard.writeText(t)", back)
    paste(page)
    wait_for(lambda: selection(session, "clipboard", latin1) == back, 2, "non-ASCII text into the desktop", 0.05)


@pytest.mark.parametrize("vnc", SERVERS)
def test_clipboard_box_by_hand(servers, browser_context, vnc):
    """Where the browser refuses its clipboard, the toolbar's box does the same by hand."""
    server = servers(desktop_yml(vnc))
    page, session = open_desktop(server, browser_context(server))
    page.click("#r2d-handle")
    page.click("#r2d-clipboard-button")
    box = page.locator("#r2d-clipboard")
    set_selection(session, "clipboard", "shown in the box")
    wait_for(lambda: box.input_value() == "shown in the box", 2, "the desktop's text in the box", 0.05)
    box.fill(f"typed into the box ({vnc})")
    wait_for(lambda: selection(session, "clipboard") == f"typed into the box ({vnc})", 2,
             "the box's text in the desktop's CLIPBOARD", 0.05)


@pytest.mark.parametrize("vnc, mode", [("tightvnc", "off"), ("tigervnc", "off"),
                                       ("tigervnc", "to-browser"), ("tigervnc", "to-desktop")])
def test_clipboard_key_restricts(servers, browser_context, vnc, mode):
    server = servers(desktop_yml(vnc, f"clipboard: {mode}\n"))
    page, session = open_desktop(server, browser_context(server))
    page.evaluate("() => navigator.clipboard.writeText('sentinel')")
    set_selection(session, "clipboard", "desktop text")
    outward = mode in ("both", "to-browser")
    inward = mode in ("both", "to-desktop")

    if outward:
        wait_for(lambda: browser_clipboard(page) == "desktop text", 2, "desktop text in the browser", 0.05)
    else:
        time.sleep(2)
        assert browser_clipboard(page) == "sentinel"

    # Chromium's clipboard is one for the whole browser: a text no other test wrote (the page
    # sends only what changed in the browser, never the same text again over the desktop's own).
    text = f"browser text for {vnc} {mode}"
    page.evaluate("(t) => navigator.clipboard.writeText(t)", text)
    paste(page)
    if inward:
        wait_for(lambda: selection(session, "clipboard") == text, 2, "browser text in the desktop", 0.05)
    else:
        time.sleep(2)
        assert selection(session, "clipboard") != text
        if vnc == "tigervnc":
            # Not only the page: TigerVNC itself refuses text from a client that sends anyway.
            page.evaluate("() => window.desktop.clipboardPasteFrom('sent around the page')")
            time.sleep(2)
            assert selection(session, "clipboard") != "sent around the page"
