"""What real repositories need: notebooks that open windows (Qt from PyPI), OpenGL on TigerVNC."""
from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid

import pytest
import websocket

from tests.polling import wait_for

from .browser import canvas_pixels_like, chromium_page, screenshot, wait_for_canvas
from .test_jupyter import BASE, jupyter  # noqa: F401 -- the fixture

WHITE = (255, 255, 255)

# A notebook cell opening a Qt window. (IPython's `%gui qt` does not load with the slim
# PySide6-Essentials wheel, so the cell runs Qt's event loop itself for a moment.)
QT_WINDOW = """
import os
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication.instance() or QApplication([])
label = QLabel("  a window from a notebook  ")
label.setStyleSheet("font-size: 28px; background: white; color: black")
label.setWindowTitle("from-notebook")
label.resize(460, 120)
label.show()
loop = QEventLoop()  # app.quit() would close the window (Qt 6)
QTimer.singleShot(1500, loop.quit)
loop.exec()
print(os.environ["DISPLAY"], app.platformName())
"""


def execute(server, code: str, timeout: float = 60) -> str:
    """Run CODE in a new kernel through the Jupyter server's kernel API; return its stdout."""
    response = server.session_post("api/kernels")
    kernel = response.json()["id"]
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{server.port}{BASE}api/kernels/{kernel}/channels",
        header=[f"Authorization: token {server.token}"], timeout=timeout)
    try:
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        out, deadline = [], time.monotonic() + timeout
        ws.settimeout(5)
        while time.monotonic() < deadline:
            try:
                msg = json.loads(ws.recv())
            except websocket.WebSocketTimeoutException:
                continue
            kind = msg["msg_type"]
            if kind == "status" and msg["content"].get("execution_state") in ("dead", "restarting"):
                raise AssertionError(f"the kernel died; its output so far: {''.join(out)!r}\n{server.log()[-3000:]}")
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                raise AssertionError("\n".join(msg["content"]["traceback"]))
            elif kind == "execute_reply":
                return "".join(out)
        raise AssertionError(f"no execute_reply within {timeout} s")
    finally:
        ws.close()


@pytest.mark.jupyter
def test_a_notebook_opens_a_qt_window_on_the_desktop(jupyter):  # noqa: F811
    # The repository's own start exported another DISPLAY: kernels must still get the desktop's.
    server = jupyter("version: 1\nvnc: {server: tigervnc}\nautostart: []\n",
                     extra_env={"DISPLAY": ":99", "XAUTHORITY": "/nonexistent"})
    server.start_desktop()
    session = server.session()
    server.wait_rfb(30)

    out = execute(server, QT_WINDOW)
    assert out.split() == [f":{session.display}", "xcb"], out

    x_env = {**os.environ, "DISPLAY": f":{session.display}", "XAUTHORITY": session.xauthority}
    tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True, env=x_env).stdout
    assert '"from-notebook"' in tree, tree
    info = subprocess.run(["xwininfo", "-name", "from-notebook"], capture_output=True, text=True,
                          env=x_env).stdout
    box = [int(re.search(rf"{label}:\s+(-?\d+)", info).group(1))
           for label in ("Absolute upper-left X", "Absolute upper-left Y", "Width", "Height")]
    assert box[2:] == [460, 120], info

    # In the browser, the window's area is the label's white (its black text aside), and
    # the rest of the desktop is not.
    with chromium_page(server.headers) as page:
        page.goto(server.url("desktop/"))
        wait_for_canvas(page)
        try:
            white = wait_for(lambda: (n := canvas_pixels_like(page, WHITE, 16, box)) >= 0.7 * 460 * 120 and n,
                             15, f"the notebook's white window at {box} on the canvas", 0.25)
        finally:
            path = screenshot(page, "notebook-qt-window.png")
        elsewhere = canvas_pixels_like(page, WHITE, 16) - white
    assert elsewhere < 460 * 120, f"{elsewhere} white pixels outside the window: not the desktop? {path}"


@pytest.mark.host
@pytest.mark.parametrize("server, works", [("tigervnc", True), ("tightvnc", False)])
def test_opengl_needs_tigervnc(server, works, write_config, start_up):
    up = start_up(write_config(f"version: 1\nvnc: {{server: {server}}}\nautostart: []\n"))
    display = [l for l in up.output if "display :" in l][0].split()[2]
    result = subprocess.run(["glxinfo", "-B"], capture_output=True, text=True, timeout=30,
                            env={**os.environ, "DISPLAY": display,
                                 "XAUTHORITY": os.path.join(up.runtime_dir, "Xauthority")})
    if works:
        assert result.returncode == 0, result.stderr
        assert "OpenGL renderer string:" in result.stdout
        assert "direct rendering: Yes" in result.stdout
    else:
        # What validate's warning is about: TightVNC 1.3 has no GLX at all.
        assert "OpenGL renderer string:" not in result.stdout
        assert "GLX" in result.stderr
