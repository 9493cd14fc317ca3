"""The page the Jupyter server serves itself (repo2desktop/jupyter/page.py): when it applies, what it
says, and the raw RFB probe it uses instead of websockify (a real socket, no server)."""
from __future__ import annotations

import json
import os
import re
import socket
import threading

import pytest

from repo2desktop.jupyter import page
from repo2desktop.runtime import probe
from repo2desktop.config.loader import parse
from repo2desktop.config.validate import validate


def load(text: str):
    return validate(parse(text, "desktop.yml"), "desktop.yml")


@pytest.mark.parametrize("text, fast", [
    ("version: 1\n", True),
    ("version: 1\nvnc: {server: tigervnc}\nwindow_manager: xfce4\n", True),
    # nbnovnc's overrides need the session process with websockify.
    ("version: 1\nnovnc: {directory: /usr/share/novnc}\n", False),
    ("version: 1\nwebsockify: {command: 'websockify {listen} {target}'}\n", False),
    ("version: 1\nvnc: {command: 'Xvnc :{display} -rfbport {vnc_port}'}\n", False),
])
def test_fast_path_applies_only_without_overrides(text, fast):
    assert page.applies(load(text)) is fast


def test_page_carries_its_settings_and_one_module():
    config = load("version: 1\nnovnc: {resize: off, title: 'R&D <lab>'}\n")
    html = page.render_page(config)
    settings = json.loads(re.search(r'<script id="desktop-config" type="application/json">(.*?)</script>',
                                    html).group(1))
    assert settings == {"path": "websockify", "resize": "off", "reconnect": "1", "reconnect_delay": "1000",
                        "audio": False}
    assert re.findall(r"<script[^>]*src=\"([^\"]+)\"", html) == ["desktop.js"]
    assert "<title>R&amp;D &lt;lab&gt;</title>" in html
    assert "password" not in html  # only the authenticated status request carries it


def test_the_sound_websocket_exists_only_with_audio(monkeypatch):
    """audio: false adds no route (the page opens no sound socket: tests/host/test_audio.py);
    audio: true also tells kernels where the sound server will be."""
    monkeypatch.delenv("PULSE_SERVER", raising=False)  # restored after the test
    monkeypatch.delenv("PIPEWIRE_RUNTIME_DIR", raising=False)
    from repo2desktop.jupyter import audio

    class Desktop:
        session = type("Session", (), {"placement": None})()
        private_dir = "/nonexistent"
        _stopping = threading.Event()

    Desktop._stopping.set()  # the link-making thread ends at once
    for text, routes in (("version: 1\n", []), ("version: 1\naudio: true\n", ["/user/a/desktop/audio"])):
        Desktop.config = load(text)
        assert [route for route, _ in audio.handlers("/user/a/desktop/", Desktop)] == routes
        assert json.loads(re.search(r'type="application/json">(.*?)</script>', page.render_page(
            Desktop.config)).group(1))["audio"] is bool(routes)
        assert os.environ.get("PULSE_SERVER") == ("unix:/nonexistent/pulse-native" if routes else None)
        assert os.environ.get("PIPEWIRE_RUNTIME_DIR") == ("/nonexistent" if routes else None)


def _vnc_server(sock: socket.socket, greeting: bytes, security: bytes) -> threading.Thread:
    """One RFB 3.8 exchange: GREETING, then SECURITY types; type None accepted."""
    def serve():
        conn, _ = sock.accept()
        with conn:
            try:
                conn.sendall(greeting)
                if conn.recv(12) and security:
                    conn.sendall(security)
                    if conn.recv(1) == b"\x01":
                        conn.sendall(b"\x00\x00\x00\x00")
            except OSError:  # the client gave up on a server that is not one
                pass
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("greeting, security, answers", [
    (b"RFB 003.008\n", b"\x01\x01", True),     # security type None offered and accepted
    (b"RFB 003.008\n", b"\x01\x02", False),    # only VNC auth: we have no password here
    (b"HTTP/1.1 400 Bad\r\n", b"", False),       # not a VNC server
])
def test_raw_probe_talks_to_the_vnc_server_itself(tmp_path, greeting, security, answers):
    path = str(tmp_path / "vnc.sock")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        server.listen(1)
        thread = _vnc_server(server, greeting, security)
        try:
            probe.rfb_authenticate(f"unix:{path}", "", path=None, timeout=2)
            answered = True
        except OSError:
            answered = False
        thread.join(2)
    assert answered is answers
