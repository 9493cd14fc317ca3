"""What the Jupyter server gets from `jupyter.tile.setup_desktop`: the jupyter-server-proxy entry
(command, private socket, launcher tile), DISPLAY/XAUTHORITY for its kernels, and a display
reservation held by a guard that cleans up when the server ends.

Each case runs setup_desktop in its own Python process, as a Jupyter server loading
jupyter-server-proxy does, with ``c.NBNoVNC.*`` in a (never started) ServerApp's config; the
process waits on its stdin, so ending it is ending the server. No Jupyter server runs.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from repo2desktop.resources import templates_dir
from repo2desktop.runtime import allocate, guard
from tests.polling import wait_for

SERVER = r"""
import json, os, sys
from traitlets.config import Config
from jupyter_server.serverapp import ServerApp
ServerApp.instance(config=Config(json.loads(sys.argv[1])))  # what c.NBNoVNC.* lands in
from repo2desktop.jupyter.tile import setup_desktop
spec = setup_desktop()
print(json.dumps({"spec": spec, "DISPLAY": os.environ.get("DISPLAY"),
                  "XAUTHORITY": os.environ.get("XAUTHORITY")}), flush=True)
sys.stdin.read()  # the server runs until the test closes this
"""


class Server:
    def __init__(self, repo: Path, nbnovnc: dict):
        env = {k: v for k, v in os.environ.items()
               if k not in ("REPO2DESKTOP_CONFIG", "REPO2DESKTOP_START", "JUPYTERHUB_API_TOKEN")}
        self.repo = repo
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, json.dumps({"NBNoVNC": nbnovnc} if nbnovnc else {})],
            cwd=repo, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        self._result = None
        self.stderr = ""

    def result(self) -> dict:
        if self._result is None:
            line = self.process.stdout.readline()
            if not line:
                self.stop()
                pytest.fail(f"setup_desktop failed:\n{self.stderr}")
            self._result = json.loads(line)
        return self._result

    def stop(self) -> None:
        if self.process.returncode is None:
            _, self.stderr = self.process.communicate(timeout=30)  # closes its stdin: it ends


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Both cases started at once (each process takes a second to import Jupyter)."""
    good = tmp_path_factory.mktemp("good")
    (good / "desktop.yml").write_text("version: 1\nvnc: {server: tigervnc}\n"
                                      "launcher: {title: My lab, icon: icons/lab.svg}\n")
    (good / "icons").mkdir()
    (good / "icons" / "lab.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>\n')
    broken = tmp_path_factory.mktemp("broken")
    (broken / "desktop.yml").write_text("version: 1\ndisplay:\n  geomtry: 800x600\n")
    started = {"good": Server(good, {"geometry": "1024x640", "depth": 16}),
               "broken": Server(broken, {})}
    yield started
    for server in started.values():
        server.stop()


def test_entry_runs_the_session_on_a_private_socket_with_the_nbnovnc_settings(servers):
    server = servers["good"]
    result = server.result()
    spec = result["spec"]
    display = int(result["DISPLAY"][1:])
    private = os.path.dirname(result["XAUTHORITY"])
    holder = int(spec["command"][spec["command"].index("--display-lock-holder") + 1])
    assert spec == {
        "command": [sys.executable, "-m", "repo2desktop", "session", "--config", str(server.repo),
                    "--xauthority", f"{private}/Xauthority",
                    "--geometry", "1024x640", "--depth", "16", "--display", str(display),
                    "--from-nbnovnc", "--display-lock-holder", str(holder), "--unix-socket", "{unix_socket}"],
        # jupyter-server-proxy puts this path in for {unix_socket}: no TCP port at all.
        "unix_socket": f"{private}/websockify.sock",
        "timeout": 60,
        "new_browser_tab": True,
        "launcher_entry": {"enabled": True, "title": "My lab",
                           "icon_path": str(server.repo / "icons" / "lab.svg")},
    }
    # The kernels' DISPLAY is the reserved one; the folder of the socket and the X
    # authority file is the server's own.
    assert os.path.basename(private).startswith("repo2desktop-")
    assert os.stat(private).st_mode & 0o777 == 0o700
    # The server holds the display: its X lock names the server (the session hands it over
    # to the X server), its own reservation is taken, by its guard too.
    assert holder == server.process.pid
    assert guard.x_lock_pid(display) == holder
    assert allocate.lock_display(display)[0] is None, "the display reservation is not held"
    assert not allocate.display_is_free(display, needs_vnc_port=False)
    # (The process table may list the guard's command line a moment after it started.)
    keeper = wait_for(lambda: guard_of(private), 5, "no guard holds the display")
    assert guard.is_alive(keeper)
    reservation = allocate.reservation_path(display)
    assert os.path.exists(reservation)

    # The server ends: its guard removes the folder, the X lock and the reservation.
    server.stop()
    wait_for(lambda: not os.path.exists(private), 10, f"{private} outlived the server")
    wait_for(lambda: guard.x_lock_pid(display) != holder, 10, "the X lock outlived the server")
    wait_for(lambda: not guard.is_alive(keeper), 10, "the guard outlived the server")
    assert not os.path.exists(reservation)


def guard_of(private: str) -> int:
    """The pid of the guard that removes PRIVATE (0: none)."""
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"repo2desktop.runtime.guard" in argv and private.encode() in argv:
            return int(name)
    return 0


def test_a_broken_desktop_yml_keeps_the_tile_and_logs_the_located_error(servers):
    server = servers["broken"]
    spec = server.result()["spec"]
    assert spec == {
        # No display, no folder of its own: opening the tile runs the session command, which
        # shows the same errors on the page.
        "command": [sys.executable, "-m", "repo2desktop", "session", "--config", str(server.repo),
                    "--unix-socket", "{unix_socket}"],
        "unix_socket": True,
        "timeout": 60,
        "new_browser_tab": True,
        "launcher_entry": {"enabled": True, "title": "Desktop",
                           "icon_path": os.path.join(templates_dir(), "desktop-icon.svg")},
    }
    server.stop()
    assert f"repo2desktop: {server.repo}/desktop.yml:3:3: display.geomtry: unknown key" in server.stderr, \
        server.stderr
