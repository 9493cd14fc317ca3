"""Idleness that means the person is idle (issue 17), through a real Jupyter server, both VNC
servers and a real Chromium: an open desktop tab whose screen keeps changing (a clock in an
xterm: frames flow, the viewer keeps asking for them), with the page's own traffic (session.json,
the sound socket, the bundle), leaves `/api/status` `last_activity` still; one pointer move or
one key on the canvas moves it again.

REPO2DESKTOP_IDLE_POLL=1 lets TigerVNC's X idle time be asked every second, so the test waits
seconds, not minutes.
"""
from __future__ import annotations

import sys
import time
from datetime import datetime, timezone

import pytest

from tests.polling import wait_for

from .browser import CANVAS_SIZE, launched_chromium
from .test_jupyter import JupyterServer, x_client

pytestmark = pytest.mark.jupyter

# A clock that redraws five times a second: the tab receives (and requests) frames all along.
CLOCK = "xterm -geometry 40x4+0+0 -e sh -c 'while :; do date +%T.%N; sleep 0.2; done'"
# A digest of the canvas, to show that frames arrive while the person does nothing.
CANVAS_DIGEST = """() => {
  const c = [...document.querySelectorAll('canvas')].find(c => c.width > 100);
  const d = c.getContext('2d').getImageData(0, 0, 400, 100).data;
  let h = 0;
  for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i] + d[i + 1] * 7 + d[i + 2] * 13) | 0;
  return h;
}"""
STILL_SECONDS = 6


def desktop_yml(vnc: str) -> str:
    return (f'version: 1\nvnc: {{server: {vnc}}}\nwindow_manager: none\naudio: true\n'
            f'autostart: ["{CLOCK}"]\n')


def last_activity(server: JupyterServer) -> datetime:
    stamp = server.get("api/status").json()["last_activity"]
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def chromium():
    # The sound socket opens without a click, as after the speaker button's.
    with launched_chromium(["--autoplay-policy=no-user-gesture-required"]) as browser:
        yield browser


@pytest.fixture
def server(tmp_path, request):
    started = JupyterServer(tmp_path, desktop_yml(request.param), extra_env={"REPO2DESKTOP_IDLE_POLL": "1"})
    try:
        yield started.wait_ready()
    finally:
        started.stop()


@pytest.mark.parametrize("server", ["tigervnc", "tightvnc"], indirect=True)
def test_an_open_untouched_tab_is_idle_and_one_input_event_is_not(server, chromium, request):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    try:
        context.set_extra_http_headers(server.headers)
        page = context.new_page()
        page.goto(server.url("desktop/"))
        page.wait_for_function(CANVAS_SIZE, timeout=60_000, polling=50)
        page.wait_for_function("() => document.documentElement.classList.contains('noVNC_connected')")
        page.wait_for_function("() => window.desktopAudio && window.desktopAudio.socket "
                               "&& window.desktopAudio.socket.readyState === 1", timeout=30_000)
        # The X server's idle time: Xtigervnc tells it; Xtightvnc 1.3 cannot (no MIT-SCREEN-SAVER),
        # so there only the relay's reading of the page's input counts.
        session = server.session()
        asked = x_client(session, sys.executable, "-m", "repo2desktop.jupyter.idle", f":{session.display}")
        assert (asked.returncode == 0) == (request.node.callspec.params["server"] == "tigervnc"), asked
        # Settle: the page's start-up (the bundle, session.json) and one X idle poll.
        time.sleep(3)
        still, digest = last_activity(server), page.evaluate(CANVAS_DIGEST)
        time.sleep(STILL_SECONDS)
        assert page.evaluate(CANVAS_DIGEST) != digest, "the clock did not redraw: the test would prove nothing"
        assert last_activity(server) == still, "an untouched tab counted as activity"

        box = page.locator("canvas").first.bounding_box()
        page.mouse.move(box["x"] + 300, box["y"] + 300)
        moved = wait_for(lambda: (lambda now: now if now > still else None)(last_activity(server)), 5,
                         "a pointer move on the canvas as Jupyter activity", 0.2)
        assert (datetime.now(timezone.utc) - moved).total_seconds() < 5

        time.sleep(2)
        quiet = last_activity(server)
        time.sleep(2)
        assert last_activity(server) == quiet, "activity went on after the pointer stopped"
        page.locator("canvas").first.focus()  # where noVNC listens for keys; not input itself
        page.keyboard.press("Shift")
        wait_for(lambda: last_activity(server) > quiet, 5, "a key on the canvas as Jupyter activity", 0.2)
    finally:
        context.close()


def test_the_relay_counts_input_not_the_viewers_requests_and_falls_back_once_on_what_it_cannot_follow(tmp_path):
    """The page's relay with a client of our own on TigerVNC (security None): a handshake and
    frame requests are not activity, a key event is; a client that sends a message type the
    relay does not know makes every message count again, said once in the log."""
    import struct

    import websocket

    server = JupyterServer(tmp_path, "version: 1\nvnc: {server: tigervnc, auth: none}\nwindow_manager: none\nautostart: []\n",
                           extra_env={"REPO2DESKTOP_IDLE_POLL": "1"}).wait_ready()
    try:
        server.start_desktop()
        server.wait_rfb(30)
        url = server.url("desktop/websockify").replace("http://", "ws://")

        def connect():
            ws = websocket.create_connection(url, subprotocols=["binary"], timeout=10,
                                             header=[f"Authorization: token {server.token}"])
            ws.recv()  # ProtocolVersion
            ws.send_binary(b"RFB 003.008\n")
            ws.recv()  # security types
            ws.send_binary(bytes([1]))
            ws.recv()  # SecurityResult (and perhaps ServerInit)
            ws.send_binary(bytes([1]))  # ClientInit
            return ws

        ws = connect()
        time.sleep(2)  # one X idle poll after the handshake
        still = last_activity(server)
        for _ in range(10):
            ws.send_binary(struct.pack(">BBHHHH", 3, 1, 0, 0, 100, 100))  # FramebufferUpdateRequest
            time.sleep(0.3)
        assert last_activity(server) == still, "frame requests counted as activity"
        ws.send_binary(struct.pack(">BBHI", 4, 1, 0, 0xFFE1) + struct.pack(">BBHI", 4, 0, 0, 0xFFE1))  # Shift
        wait_for(lambda: last_activity(server) > still, 5, "a key event as activity", 0.2)
        ws.close()

        time.sleep(1.5)
        before = last_activity(server)
        for _ in range(2):
            strange = connect()
            strange.send_binary(bytes([99, 0, 0, 0]))
            strange.close()
        wait_for(lambda: last_activity(server) > before, 5, "a stream the relay cannot follow counting", 0.2)
        assert server.log().count("speaks RFB this relay cannot follow (client message type 99)") == 2
    finally:
        server.stop()
