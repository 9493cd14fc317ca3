"""Nothing of a desktop outlives its owner, however the owner ends; displays never clash.

- A Jupyter server stopped by POST /api/shutdown, SIGTERM or SIGKILL, with its desktop opened
  or never opened: no process, X lock, X socket, display reservation or folder is left.
- `up` killed with SIGKILL, or its supervisord killed with SIGKILL: the same.
- A stale X lock and socket of a dead process do not cost a display number.
- Five `up`s started at once each reach their *own* VNC server (authenticated with their own
  password) on their own display.
"""
from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
from contextlib import closing
from typing import List, Set

import pytest
import requests

from repo2desktop.runtime import allocate, guard, rfb
from repo2desktop.runtime.guard import MARKER

from tests.polling import wait_for

from .conftest import UpProcess
from .test_jupyter import DESKTOP_YML, JupyterServer, descendants, environment_of, processes_mentioning

pytestmark = [pytest.mark.host, pytest.mark.jupyter]


def display_files(display: int, ours: Set[int]) -> List[str]:
    """Files of DISPLAY that belong to us: an X lock naming one of OURS or a dead process, an
    X socket nobody answers on, a reservation file. (Another helper's live desktop that took
    the number after we freed it is not ours.)"""
    left = []
    pid = guard.x_lock_pid(display)
    if pid is not None and (pid in ours or not guard.is_alive(pid)):
        left.append(f"{guard.x_lock_path(display)} (pid {pid})")
    sock = guard.x_socket_path(display)
    if os.path.lexists(sock) and not guard.socket_answers(sock):
        left.append(f"{sock} (nobody answers)")
    for reservation in (allocate.reservation_path(display), allocate.legacy_reservation_path(display)):
        if os.path.exists(reservation) and os.stat(reservation).st_uid == os.getuid():
            try:
                fd = os.open(reservation, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                left.append(f"{reservation} (held by nobody)")
            except BlockingIOError:
                pass  # another session's, which took the number after us
            finally:
                os.close(fd)
    return left


# -- the Jupyter server -------------------------------------------------------------------

def guard_of(jupyter_pid: int):
    """The Jupyter server's guard: its pid, display and private folder (None: not yet)."""
    for pid, (_, argv) in descendants(jupyter_pid).items():
        if "repo2desktop.runtime.guard" in argv:
            return {"pid": pid, "display": int(argv[argv.index("--display") + 1]),
                    "folder": argv[argv.index("--remove") + 1]}
    return None


def end_server(server: JupyterServer, how: str) -> None:
    if how == "api-shutdown":
        response = requests.post(server.url("api/shutdown"), headers=server.headers, timeout=30)
        assert response.status_code == 200, response.status_code
    else:
        server.proc.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
    server.proc.wait(30)


@pytest.mark.parametrize("opened", [True, False], ids=["desktop-opened", "never-opened"])
@pytest.mark.parametrize("how", ["api-shutdown", "sigterm", "sigkill"])
def test_every_way_a_jupyter_server_ends_ends_its_desktop(tmp_path, how, opened):
    server = JupyterServer(tmp_path, DESKTOP_YML.format(server="tightvnc")).wait_ready()
    try:
        keeper = wait_for(lambda: guard_of(server.proc.pid), 10, "no guard")
        display, folder = keeper["display"], keeper["folder"]
        assert os.path.isdir(folder)
        assert guard.x_lock_pid(display) == server.proc.pid, "the display is reserved by an X lock"
        ours = {server.proc.pid, keeper["pid"]}
        markers, variables = [folder], []
        if opened:
            server.start_desktop()
            session = server.session()
            server.wait_rfb(timeout=30)
            ours |= set(descendants(server.proc.pid))
            markers += [session.runtime_dir, os.path.dirname(session.proxy_socket)]
            variables = [v.decode() for v in environment_of(session.supervisord_pid)
                         if v.startswith(f"{MARKER}=".encode())]
            assert variables and os.path.exists(os.path.join(session.runtime_dir, "vnc-passwd"))
        end_server(server, how)
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
        server._log.close()

    wait_for(lambda: not processes_mentioning(markers, variables)
               and not any(guard.is_alive(p) for p in ours), 15,
               f"processes left: {processes_mentioning(markers, variables)}")
    wait_for(lambda: not display_files(display, ours), 5,
               f"files of :{display} left: {display_files(display, ours)}")
    left = [m for m in markers if os.path.exists(m)]
    assert not left, f"folders left: {left}"


def test_a_broken_desktop_yml_keeps_the_tile_and_shows_the_errors(tmp_path):
    broken = "version: 1\ndisplay:\n  geomtry: 1280x800\nvnc:\n  server: realvnc\n"
    server = JupyterServer(tmp_path, broken).wait_ready()
    try:
        info = server.get("server-proxy/servers-info")
        assert info.status_code == 200, info.text
        entries = {s["name"]: s for s in info.json()["server_processes"]}
        assert "desktop" in entries and entries["desktop"]["launcher_entry"]["enabled"], entries
        page = server.get("desktop/")
        assert page.status_code == 200, (page.status_code, server.log()[-3000:])
        assert "desktop.yml has errors" in page.text
        assert "desktop.yml:3:3: display.geomtry: unknown key; did you mean &#39;geometry&#39;?" in page.text, page.text
        assert "desktop.yml:5:11: vnc.server: &#39;realvnc&#39; is not one of: tightvnc, tigervnc" in page.text
        assert "display.geomtry: unknown key" in server.log()
    finally:
        server.stop()


# -- up -------------------------------------------------------------------------------------

def session_marker(runtime_dir: str) -> str:
    with open(os.path.join(runtime_dir, "supervisord.pid")) as f:
        pid = int(f.read())
    found = [v.decode() for v in environment_of(pid) if v.startswith(f"{MARKER}=".encode())]
    assert found, "supervisord carries no session marker"
    return found[0]


def marked(variable: str) -> List[int]:
    return guard.marked_processes(variable.split("=", 1)[1])


def process_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def up_display(up: UpProcess) -> int:
    line = [l for l in up.output if "display :" in l][0]
    return int(line.split("display :")[1].split()[0])


def test_sigkill_of_up_leaves_nothing(write_config, start_up):
    # A program that left supervisord's and the X session's process groups (setsid) and
    # needs no display: only the guard, which ends every process carrying the session's
    # marker, stops it.
    up = start_up(write_config("version: 1\nautostart: [xterm, 'setsid -f sleep 3600']\n"))
    variable, display = session_marker(up.runtime_dir), up_display(up)
    escaped = wait_for(lambda: [p for p in marked(variable) if process_line(p) == "sleep 3600"], 15,
                       "the setsid'd program never started")
    up.proc.kill()
    up.proc.wait(10)
    wait_for(lambda: not marked(variable) and not processes_mentioning([up.runtime_dir], []), 15,
             f"processes left after SIGKILL of up: {marked(variable)}")
    assert not any(guard.is_alive(p) for p in escaped), escaped
    wait_for(lambda: not os.path.exists(up.runtime_dir), 5, "runtime folder (password, Xauthority) left")
    wait_for(lambda: not display_files(display, set()), 5, f"files of :{display} left: {display_files(display, set())}")


@pytest.mark.parametrize("server", ["tightvnc", "tigervnc"])
def test_sigkill_of_supervisord_leaves_nothing(server, write_config, start_up):
    up = start_up(write_config(f"version: 1\nvnc: {{server: {server}}}\n"))
    variable, display = session_marker(up.runtime_dir), up_display(up)
    with open(os.path.join(up.runtime_dir, "supervisord.pid")) as f:
        os.kill(int(f.read()), signal.SIGKILL)
    assert up.stop(signal.SIGTERM, timeout=30) in (0, 1)
    assert "desktop program 'supervisord' failed" in up.errors or "Stopping" in up.errors, up.errors
    assert not marked(variable) and not processes_mentioning([up.runtime_dir], [])
    assert not os.path.exists(up.runtime_dir)
    wait_for(lambda: not display_files(display, set()), 5, f"files of :{display} left: {display_files(display, set())}")


def test_a_dead_processes_x_lock_and_socket_do_not_cost_a_display(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    probe = allocate.reserve_display(150, needs_vnc_port=True)
    probe.release()
    display = probe.number
    # What an X server killed with SIGKILL leaves: its lock and a socket nobody answers on.
    with open(guard.x_lock_path(display), "w") as f:
        f.write(f"{dead.pid:10d}\n")
    os.makedirs("/tmp/.X11-unix", exist_ok=True)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(guard.x_socket_path(display))
    stale.close()
    try:
        assert allocate.display_is_free(display, needs_vnc_port=True)
        reservation = allocate.reserve_display(display, needs_vnc_port=True)
        assert reservation.number == display
        # Held: nobody else gets it, not even this process through a second descriptor.
        assert allocate.lock_display(display)[0] is None
        reservation.release()
        assert not os.path.exists(allocate.reservation_path(display))
        guard.remove_stale_x_files(display)
        assert not os.path.exists(guard.x_lock_path(display))
        assert not os.path.exists(guard.x_socket_path(display))
    finally:
        for path in (guard.x_lock_path(display), guard.x_socket_path(display)):
            if os.path.lexists(path):
                os.unlink(path)


@pytest.mark.parametrize("server", ["tightvnc", "tigervnc"])
def test_five_ups_at_once_each_reach_their_own_server(server, write_config):
    path = write_config(f"version: 1\nvnc: {{server: {server}}}\nautostart: []\n")
    ups = [UpProcess(path) for _ in range(5)]
    try:
        for up in ups:
            up.wait_ready(90)
        displays = [up_display(up) for up in ups]
        assert len(set(displays)) == 5, displays
        for up in ups:
            with closing(rfb.open_url(f"ws://127.0.0.1:{up.port}/websockify")) as stream:
                assert rfb.log_in(stream, up.password) == 0, f"display {up_display(up)}"
    finally:
        for up in ups:
            try:
                up.stop()
            except subprocess.TimeoutExpired:
                up.proc.kill()
