"""The page keeps reconnecting while the session runs: Chromium on `up`'s page, each program of
the session killed ten times (the X server, the window manager; websockify with its connections
where nbnovnc's novnc.directory keeps it), and each time the page must be connected again by
itself."""
from __future__ import annotations

import os
import re
import signal
import time

import pytest

from tests.polling import wait_for

from .browser import chromium_page
from .conftest import children

pytestmark = pytest.mark.host

TRIALS = 10
CONNECTED = "() => document.documentElement.classList.contains('noVNC_connected')"
STATUS = "() => (document.getElementById('noVNC_status') || {}).textContent || ''"


def logs(up) -> str:
    """The tails of the session's logs, for a failure message."""
    out = []
    for name in ("x-session", "websockify"):
        try:
            with open(os.path.join(up.runtime_dir, "logs", f"{name}.log"), errors="replace") as f:
                out.append(f"--- {name}.log ---\n" + "".join(f.readlines()[-12:]))
        except OSError:
            pass
    return "\n".join(out)


def program_pid(up, program: str) -> int:
    """The pid to kill for PROGRAM, waiting (briefly) for supervisord to have restarted it."""
    states: dict = {}

    def running() -> int:
        nonlocal states
        states = up.states()
        if program == "websockify":
            return states["websockify"]["pid"] if states["websockify"]["statename"] == "RUNNING" else 0
        # RUNNING: past supervisord's startsecs. Three kills within startsecs of each restart
        # are "exited too quickly", FATAL, which `up` reports as a failure: not what this
        # test is about.
        if states["x-session"]["statename"] == "RUNNING":
            wanted = ("Xtightvnc", "Xtigervnc") if program == "x-server" else ("openbox",)
            for pid in children(states["x-session"]["pid"]):
                try:
                    with open(f"/proc/{pid}/comm") as f:
                        if f.read().strip() in wanted:
                            return pid
                except OSError:
                    continue
        return 0

    return wait_for(running, 10, lambda: f"{program} not running: {states}", 0.05)


@pytest.mark.parametrize("server, served_by", [("tightvnc", "up"), ("tigervnc", "up"),
                                               ("tigervnc", "websockify")])
def test_the_page_reconnects_after_each_program_is_killed(server, served_by, write_config, start_up):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    novnc = "novnc: {directory: /usr/share/novnc}\n" if served_by == "websockify" else ""
    up = start_up(write_config(f"version: 1\nvnc: {{server: {server}}}\nautostart: []\n{novnc}"))
    with chromium_page() as page:
        page.goto(f"http://127.0.0.1:{up.port}/#&password={up.password}")
        if served_by == "up":
            # Our viewer, which connects at once (noVNC's pages come after a starting page).
            page.evaluate("() => { window.sameDocument = true; }")
        try:
            page.wait_for_function(CONNECTED, timeout=30_000, polling=50)
        except PlaywrightTimeout:
            raise AssertionError(f"[{server}] never connected: {page.url.split('#')[0]}, noVNC says "
                                 f"{page.evaluate(STATUS)!r}\n{logs(up)}") from None
        for program in ("x-server", "openbox", *(["websockify"] if served_by == "websockify" else [])):
            took = []
            for trial in range(TRIALS):
                pid = program_pid(up, program)
                killed = time.monotonic()
                if program == "websockify":
                    # With its per-connection children: killing only the listener would leave
                    # the open connection (and the page) undisturbed.
                    os.killpg(pid, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)
                try:
                    page.wait_for_function(f"() => !({CONNECTED})()", timeout=10_000, polling=20)
                    page.wait_for_function(CONNECTED, timeout=20_000, polling=50)
                except PlaywrightTimeout:
                    raise AssertionError(
                        f"[{server}] trial {trial + 1}: the page did not reconnect after {program} "
                        f"was killed; noVNC says {page.evaluate(STATUS)!r}; up: {up.proc.poll()}\n{logs(up)}") from None
                took.append(time.monotonic() - killed)
            print(f"\n[{server}] {program} killed {TRIALS} times: connected again after "
                  f"{min(took):.1f}-{max(took):.1f} s (median {sorted(took)[len(took) // 2]:.1f} s)")
        if served_by == "up":
            assert page.evaluate("() => window.sameDocument") is True  # reconnected, never reloaded
        else:
            assert re.search(r"/(vnc|vnc_lite)\.html", page.url)  # still on noVNC's page
