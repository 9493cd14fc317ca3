"""`repo2desktop up` on this host, for real: TightVNC and TigerVNC under xinit + supervisord."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing

import pytest

from repo2desktop.runtime import guard, probe, rfb
from tests.polling import wait_for

from .conftest import UpProcess, children, processes_mentioning, wait_for_rfb

pytestmark = pytest.mark.host
SERVERS = ["tightvnc", "tigervnc"]


def x_server_pid(up: UpProcess) -> int:
    xinit = up.states()["x-session"]["pid"]
    servers = []
    for pid in children(xinit):
        with open(f"/proc/{pid}/comm") as f:
            if f.read().startswith("Xt"):
                servers.append(pid)
    assert len(servers) == 1, servers
    return servers[0]


def listening(pids) -> list:
    """(address, port, pid) of TCP listening sockets owned by PIDS."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        for pid in pids:
            if f"pid={pid}," in line:
                local = line.split()[3]
                address, _, port = local.rpartition(":")
                found.append((address, int(port), pid))
    return found


# nbnovnc's novnc.directory: websockify serves noVNC's own page and relays, as before.
NOVNC = "novnc: {directory: /usr/share/novnc}\n"


@pytest.mark.parametrize("served_by", ["up", "websockify"])
@pytest.mark.parametrize("server", SERVERS)
def test_up_answers_recovers_and_stops_cleanly(server, served_by, write_config, start_up):
    up = start_up(write_config(f"version: 1\nvnc: {{server: {server}}}\n"
                               + (NOVNC if served_by == "websockify" else "")))
    assert probe.rfb_version(up.listen).startswith("RFB 003.00")
    states = up.states()
    assert states["x-session"]["statename"] in ("STARTING", "RUNNING")
    # `up`'s own server relays the websocket; websockify only for nbnovnc's overrides.
    assert ("websockify" in states) is (served_by == "websockify")
    killed_in_turn = [x_server_pid(up)]
    if served_by == "websockify":
        assert states["websockify"]["statename"] in ("STARTING", "RUNNING")
        killed_in_turn.append(states["websockify"]["pid"])  # then websockify: the same

    # The X server dies: supervisord restarts the session and it answers again within 5 s.
    # (The greeting must come from the new one: wait until the killed one is gone.)
    for killed in killed_in_turn:
        os.kill(killed, signal.SIGKILL)
        wait_for(lambda: not guard.is_alive(killed), 2, f"pid {killed} gone after SIGKILL", 0.01)
        wait_for_rfb(up.listen, timeout=5.0)

    runtime_dir = up.runtime_dir
    assert processes_mentioning(runtime_dir), "the session's processes should be running"
    assert up.stop(signal.SIGTERM) == 0
    assert processes_mentioning(runtime_dir) == []
    assert not os.path.exists(runtime_dir)
    with pytest.raises(OSError):
        probe.rfb_version(up.listen, timeout=1.0)


def test_ctrl_c_stops_everything(write_config, start_up):
    up = start_up(write_config("version: 1\n"))
    runtime_dir = up.runtime_dir
    assert up.stop(signal.SIGINT) == 0
    assert processes_mentioning(runtime_dir) == []


@pytest.mark.parametrize("server", SERVERS)
def test_unauthenticated_rfb_is_refused(server, write_config, start_up):
    up = start_up(write_config(f"version: 1\nvnc: {{server: {server}}}\n"))
    url = f"ws://127.0.0.1:{up.port}/websockify"

    with closing(rfb.open_url(url)) as stream:
        _, minor, offered = rfb.offered_types(stream)
        assert rfb.NONE not in offered, "security type None must never be offered"
        assert rfb.VNC_AUTHENTICATION in offered
        assert rfb.choose(stream, minor, rfb.VNC_AUTHENTICATION, "wrong-pw") != 0, "a wrong password must fail"

    # Asking for 'None' anyway: the server answers with a failed SecurityResult or drops us.
    with closing(rfb.open_url(url)) as stream:
        _, minor, _ = rfb.offered_types(stream)
        try:
            result = rfb.choose(stream, minor, rfb.NONE)
        except OSError as e:
            result = f"dropped ({type(e).__name__})"
    assert result != 0, "security type None was accepted without a password"


@pytest.mark.parametrize("server", SERVERS)
def test_nothing_listens_beyond_loopback(server, write_config, start_up):
    up = start_up(write_config(f"version: 1\nvnc: {{server: {server}}}\n"))
    pids = processes_mentioning(up.runtime_dir) + [up.proc.pid]  # up itself serves the page
    sockets = listening(pids)
    assert [port for _, port, pid in sockets if pid == up.proc.pid] == [up.port], sockets
    assert {address for address, _, _ in sockets} == {"127.0.0.1"}
    x_pid = x_server_pid(up)
    vnc_ports = [port for _, port, pid in sockets if pid == x_pid]
    if server == "tigervnc":
        assert vnc_ports == [], "TigerVNC must only use its private unix socket"
        mode = os.stat(os.path.join(up.runtime_dir, "vnc.sock")).st_mode & 0o777
        assert mode == 0o600
        assert os.stat(up.runtime_dir).st_mode & 0o777 == 0o700
    else:
        assert len(vnc_ports) == 1, "TightVNC has one RFB port, on loopback only"
    # No X11 TCP port (6000+N) either.
    assert not any(6000 <= port < 6100 for _, port, _ in sockets)


def test_two_sessions_do_not_clash(write_config, start_up, tmp_path):
    first = start_up(write_config("version: 1\n", "one.yml"))
    second = start_up(write_config("version: 1\n", "two.yml"))
    assert first.port != second.port
    assert first.runtime_dir != second.runtime_dir
    first_display = [l for l in first.output if "display :" in l][0]
    second_display = [l for l in second.output if "display :" in l][0]
    assert first_display.split()[2] != second_display.split()[2]
    assert probe.rfb_version(first.listen) and probe.rfb_version(second.listen)


def test_a_missing_x_server_is_named_at_once(write_config):
    path = write_config('version: 1\nvnc:\n  command: "/nonexistent/Xvnc :{display} -rfbport {vnc_port}"\n')
    result = subprocess.run([sys.executable, "-m", "repo2desktop", "up", path],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert ("desktop program 'x-session' failed: /nonexistent/Xvnc is not installed"
            in result.stderr)
    assert "Traceback" not in result.stderr


def test_a_desktop_that_cannot_start_says_why(write_config):
    path = write_config('version: 1\nvnc:\n  command: "/usr/bin/Xtightvnc :{display} -no-such-flag"\n')
    up = UpProcess(path)
    try:
        out, err = up.proc.communicate(timeout=60)
    finally:
        if up.proc.poll() is None:
            up.proc.kill()
    assert up.proc.returncode == 1
    assert "desktop program 'x-session' failed" in err
    assert "report Xvnc version" in err  # the tail of its log: the X server rejecting the flag
    assert "Traceback" not in err


def test_autostarted_xterm_runs_on_the_display(write_config, start_up):
    up = start_up(write_config("version: 1\nautostart: [xterm -title r2d-probe]\n"))
    display = [l for l in up.output if "display :" in l][0].split()[2]
    def probe_window() -> str:
        # xwininfo, not xdotool: xdotool needs XTEST, which TightVNC lacks.
        tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True,
                              env={**os.environ, "DISPLAY": display,
                                   "XAUTHORITY": os.path.join(up.runtime_dir, "Xauthority")}).stdout
        return "\n".join(line for line in tree.splitlines() if '"r2d-probe"' in line)

    wait_for(probe_window, 15, "the autostarted xterm on the desktop", 0.3)


@pytest.mark.parametrize("server", SERVERS)
def test_the_password_opens_the_desktop_after_start_up(server, write_config, start_up):
    """The start-up probes must not get the session blacklisted (TigerVNC counts hang-ups):
    a client that connects the moment `up` prints the URL, and again, logs in each time."""
    up = start_up(write_config(f"version: 1\nvnc: {{server: {server}}}\n"))
    for _ in range(3):
        with closing(rfb.open_url(f"ws://127.0.0.1:{up.port}/websockify")) as stream:
            assert rfb.log_in(stream, up.password) == 0


def test_the_display_needs_the_session_cookie(write_config, start_up, tmp_path):
    """Another local user (no cookie) cannot open windows on, or read, the desktop."""
    up = start_up(write_config("version: 1\nautostart: []\n"))
    display = [l for l in up.output if "display :" in l][0].split()[2]
    own = {**os.environ, "DISPLAY": display, "XAUTHORITY": os.path.join(up.runtime_dir, "Xauthority")}
    other = {**os.environ, "DISPLAY": display, "XAUTHORITY": str(tmp_path / "none")}
    assert subprocess.run(["xdpyinfo"], env=own, capture_output=True).returncode == 0
    refused = subprocess.run(["xdpyinfo"], env=other, capture_output=True, text=True)
    assert refused.returncode != 0
    assert "unable to open display" in refused.stderr
    assert oct(os.stat(os.path.join(up.runtime_dir, "Xauthority")).st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("server", SERVERS)
def test_display_dpi_reaches_the_x_server(server, write_config, start_up):
    """display.dpi end to end: desktop.yml -> X server -dpi -> what X clients are told."""
    up = start_up(write_config(f"version: 1\nvnc: {{server: {server}}}\ndisplay: {{dpi: 144}}\n"
                               "autostart: []\n"))
    display = [l for l in up.output if "display :" in l][0].split()[2]
    env = {**os.environ, "DISPLAY": display, "XAUTHORITY": os.path.join(up.runtime_dir, "Xauthority")}
    info = subprocess.run(["xdpyinfo"], env=env, capture_output=True, text=True, check=True).stdout
    assert "resolution:    144x144 dots per inch" in info, [l for l in info.splitlines() if "resolution" in l]
