"""Built images of tests/image/fixtures/, run as Binder runs them, checked inside and out.

Inside (testinfra on the running container): supervisor programs RUNNING, sockets only on
loopback or unix sockets, rendered files and their modes, /etc/repo2desktop/desktop.yml,
every process as jovyan. Outside (the host, through the one published port): /desktop/ and
its websocket only with the token, an RFB handshake through the proxy, no VNC port
reachable, a screenshot from Chromium, and `docker stop` ending everything cleanly.

One container per fixture is shared by the tests of that fixture (it is started again if a
test stopped it); tests that need a container nobody has touched start their own.
"""
from __future__ import annotations

import ipaddress
import json
import re
import socket
import time
from contextlib import closing
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

from repo2desktop.runtime import rfb
from tests.host.browser import CANVAS_SIZE
from tests.polling import wait_for

from .images import (FIXTURES, GREETING, NB_UID, NB_USER, SCREENSHOTS, X_SERVERS, Container,
                     ContainerPool, ImageBuilder)

pytestmark = pytest.mark.image
CONFIG_IN_IMAGE = "/etc/repo2desktop/desktop.yml"


@dataclass(frozen=True)
class Expected:
    """What each fixture's desktop.yml should give in the running container."""

    server: str  # "tightvnc" | "tigervnc"
    programs: Tuple[str, ...]  # supervisord's programs (TightVNC's include the clipboard bridge)
    on_display: Tuple[str, ...]  # processes of the X session (window manager, autostart)
    app: Tuple[str, str]  # WM_CLASS (instance, class) of the window the screenshot must show
    title: str = "Desktop"
    # Without xwininfo in the image: the least share of near-white canvas pixels (xterm's
    # background, xfce4's panel) that says the app is drawn.
    white: float = 0.10
    # The name the window manager announces (_NET_WM_NAME of _NET_SUPPORTING_WM_CHECK); with
    # it, the app's window must be one of its managed clients (_NET_CLIENT_LIST).
    window_manager: str = ""


XTERM = ("xterm", "XTerm")
EXPECTED: Dict[str, Expected] = {
    "desktop-only": Expected("tightvnc", ("x-session", "clipboard"), ("openbox", "xterm"), XTERM),
    "apt-autostart": Expected("tightvnc", ("x-session", "clipboard"), ("openbox", "xeyes"),
                              ("xeyes", "XEyes"), title="Eyes"),
    "own-start": Expected("tightvnc", ("x-session", "clipboard", "marker"), ("openbox", "xterm"), XTERM),
    "tigervnc": Expected("tigervnc", ("x-session", "sound", "sound-policy"), ("openbox", "xterm"), XTERM),
    "xfce4": Expected("tigervnc", ("x-session",),
                      ("xfce4-session", "xfwm4", "xfce4-panel", "xfdesktop"), ("xfce4-panel", "Xfce4-panel"),
                      white=0.02),
    "mate": Expected("tigervnc", ("x-session",),
                     ("mate-session", "marco", "mate-panel", "caja", "xterm"), XTERM),
    "icewm": Expected("tightvnc", ("x-session", "clipboard"), ("icewm-session", "xterm"), XTERM),
    "fluxbox": Expected("tigervnc", ("x-session",), ("fluxbox", "xterm"), XTERM,
                        window_manager="Fluxbox"),
    "lean-python": Expected("tigervnc", ("x-session",), ("xterm",), XTERM),
}
DESKTOPS = list(EXPECTED)
X_SERVER_NAMES = dict(zip(("tightvnc", "tigervnc"), X_SERVERS))


# -- fixtures ----------------------------------------------------------------------------

class SharedDesktop:
    """The container of one fixture, with its desktop opened; started again after a stop."""

    def __init__(self, name: str, images: ImageBuilder, containers: ContainerPool):
        self.name = name
        self.expected = EXPECTED[name]
        self._images, self._containers = images, containers
        self._container: Optional[Container] = None
        self._failure = ""

    def get(self) -> Container:
        if self._failure:
            pytest.fail(self._failure, pytrace=False)
        if self._container is None or self._container.stopped:
            image = self._images.build(self.name)  # fails (once, cached) with the build log
            try:
                self._container = self._containers.start(image)
                self._container.open_desktop()
            except AssertionError as e:
                self._failure = f"the {self.name} container did not come up: {e}"
                raise
        return self._container

    def remove(self) -> None:
        if self._container is not None:
            self._container.remove()


@pytest.fixture(scope="module", params=DESKTOPS)
def shared(request, images, containers) -> Iterator[SharedDesktop]:
    desktop = SharedDesktop(request.param, images, containers)
    try:
        yield desktop
    finally:
        desktop.remove()  # free the machine before the next fixture's container starts


@pytest.fixture
def desktop(shared: SharedDesktop) -> Container:
    return shared.get()


# -- helpers -----------------------------------------------------------------------------

def supervisor_status(container: Container, runtime_dir: str) -> Dict[str, str]:
    out = container.run("supervisorctl -c %s status", f"{runtime_dir}/supervisord.conf")
    states = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            states[parts[0]] = parts[1]
    assert states, (out.exit_status, out.stdout, out.stderr)
    return states


def wait_all_running(container: Container, runtime_dir: str, expected: Tuple[str, ...],
                     timeout: float = 30.0) -> Dict[str, str]:
    states: Dict[str, str] = {}

    def all_running() -> bool:
        nonlocal states
        states = supervisor_status(container, runtime_dir)
        return set(states) == set(expected) and all(s == "RUNNING" for s in states.values())

    wait_for(all_running, timeout, lambda: f"every program of {expected} RUNNING: {states}", 0.5)
    return states


# Run inside the container by its system python3: every listening socket (TCP from
# /proc/net/tcp{,6}, unix from /proc/net/unix) with the processes holding it.
LISTENERS = r"""
import ipaddress, json, os
owners = {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        continue
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            owners.setdefault(link[8:-1], []).append([int(pid), argv])
rows = []
for proto in ("tcp", "tcp6"):
    with open(f"/proc/net/{proto}") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[3] != "0A":  # TCP_LISTEN
                continue
            address, port = fields[1].split(":")
            raw = b"".join(bytes.fromhex(address[i:i + 8])[::-1] for i in range(0, len(address), 8))
            rows.append({"proto": proto, "address": str(ipaddress.ip_address(raw)),
                         "port": int(port, 16), "owners": owners.get(fields[9], [])})
with open("/proc/net/unix") as f:
    for line in f.readlines()[1:]:
        fields = line.split()
        if int(fields[3], 16) & 0x10000:  # __SO_ACCEPTCON: a listening socket
            rows.append({"proto": "unix", "address": fields[7] if len(fields) > 7 else "",
                         "port": None, "owners": owners.get(fields[6], [])})
print(json.dumps(rows))
"""


def listeners(container: Container) -> List[dict]:
    return json.loads(container.host.check_output("python3 -c %s", LISTENERS))


def owned_by(row: dict, pids: List[int]) -> bool:
    return any(pid in pids for pid, _ in row["owners"])


def pids_named(procs, name: str) -> List[int]:
    return [p.pid for p in procs if p.name == name or (len(p.argv) > 1 and p.argv[1].endswith("/" + name))]


def x_client(container: Container, session, command: str, *args: str):
    """An X client run as jovyan on SESSION's display (with its X authority)."""
    return container.run(command, *args, env=session.x_env)


WINDOW = re.compile(r'\("(?P<instance>[^"]*)" "(?P<cls>[^"]*)"\)\s+(?P<w>\d+)x(?P<h>\d+)\+-?\d+\+-?\d+'
                    r'\s+\+(?P<x>-?\d+)\+(?P<y>-?\d+)')


def has_xwininfo(container: Container) -> bool:
    # x11-utils: a desktop base package now; before, only tightvncserver pulled it in.
    return container.run("command -v xwininfo").exit_status == 0


def app_window(container: Container, session,
               wm_class: Tuple[str, str]) -> Tuple[Optional[Tuple[int, int, int, int]], str]:
    """((x, y, width, height) of the largest *viewable* window of WM_CLASS, or None; the tree)."""
    tree = x_client(container, session, "xwininfo -root -tree")
    assert tree.exit_status == 0, tree.stderr
    found = []
    for line in tree.stdout.splitlines():
        m = WINDOW.search(line)
        if not m or (m["instance"], m["cls"]) != wm_class or int(m["w"]) < 20 or int(m["h"]) < 20:
            continue
        state = x_client(container, session, "xwininfo -id %s", line.split()[0]).stdout
        if "Map State: IsViewable" in state:
            found.append((int(m["x"]), int(m["y"]), int(m["w"]), int(m["h"])))
    return (max(found, key=lambda r: r[2] * r[3]) if found else None), tree.stdout


def screen_size(container: Container, session) -> Tuple[int, int]:
    root = x_client(container, session, "xwininfo -root").stdout
    return (int(re.search(r"Width: (\d+)", root).group(1)),
            int(re.search(r"Height: (\d+)", root).group(1)))


# Shares of the canvas's pixels that are not its most common colour (the background), and
# that are near-white.
NOT_BACKGROUND = """() => {
  const canvas = document.querySelector('canvas');
  if (!canvas || canvas.width <= 100) return null;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const counts = new Map();
  let total = 0, white = 0;
  for (let i = 0; i < data.length; i += 4 * 7) {
    const key = (data[i] >> 3) + ',' + (data[i + 1] >> 3) + ',' + (data[i + 2] >> 3);
    counts.set(key, (counts.get(key) || 0) + 1);
    if (data[i] > 230 && data[i + 1] > 230 && data[i + 2] > 230) white++;
    total++;
  }
  const top = Math.max(...counts.values());
  return {canvas: [canvas.width, canvas.height], colours: counts.size, other: 1 - top / total,
          white: white / total};
}"""

# The app's window on noVNC's canvas: 8x8 tiles of one colour inside the window's rectangle
# whose colour is not the background's (the commonest uniform tile outside the rectangle;
# openbox's weave has none, a plain root or xfdesktop's backdrop has one).
APP_ON_CANVAS = """([x, y, w, h]) => {
  const canvas = document.querySelector('canvas');
  if (!canvas || canvas.width <= 100) return null;
  const W = canvas.width, H = canvas.height, T = 8;
  const data = canvas.getContext('2d').getImageData(0, 0, W, H).data;
  const colour = (tx, ty) => {
    const o = (ty * W + tx) * 4;
    for (let yy = ty; yy < ty + T; yy++) {
      for (let xx = tx; xx < tx + T; xx++) {
        const i = (yy * W + xx) * 4;
        if (Math.abs(data[i] - data[o]) > 6 || Math.abs(data[i + 1] - data[o + 1]) > 6 ||
            Math.abs(data[i + 2] - data[o + 2]) > 6) return null;
      }
    }
    return (data[o] >> 4) + ',' + (data[o + 1] >> 4) + ',' + (data[o + 2] >> 4);
  };
  const outside = new Map();
  const inside = [];
  let insideTiles = 0;
  for (let ty = 0; ty + T <= H; ty += T) {
    for (let tx = 0; tx + T <= W; tx += T) {
      const within = tx >= x && ty >= y && tx + T <= x + w && ty + T <= y + h;
      const overlaps = tx < x + w && tx + T > x && ty < y + h && ty + T > y;
      if (overlaps && !within) continue;
      const c = colour(tx, ty);
      if (within) { insideTiles++; if (c) inside.push(c); }
      else if (c) { outside.set(c, (outside.get(c) || 0) + 1); }
    }
  }
  let background = null, most = 0;
  for (const [c, n] of outside) { if (n > most) { most = n; background = c; } }
  const distinct = inside.filter((c) => c !== background).length;
  return {canvas: [W, H], insideTiles, uniformInside: inside.length, distinct, background};
}"""


# -- inside the container ------------------------------------------------------------------

def test_supervisor_programs_running(desktop: Container, shared: SharedDesktop):
    session = desktop.desktop()
    states = wait_all_running(desktop, session.runtime_dir, shared.expected.programs)
    assert states == {name: "RUNNING" for name in shared.expected.programs}, states
    # The runtime dir found through the processes is the only one in /tmp.
    found = desktop.host.check_output("ls -d /tmp/repo2desktop-%s-*", str(NB_UID)).split()
    assert found == [session.runtime_dir], found


def test_sockets_are_loopback_or_unix_only(desktop: Container, shared: SharedDesktop):
    session = desktop.desktop()
    procs = desktop.processes()
    rows = listeners(desktop)
    jupyter = [p.pid for p in procs if "jupyter" in p.args and "repo2desktop" not in p.args
               and "supervisord" not in p.args]
    x_server = pids_named(procs, X_SERVER_NAMES[shared.expected.server])
    # No websockify: the Jupyter server relays the websocket to the VNC server itself.
    websockify = pids_named(procs, "websockify")
    assert x_server and not websockify, [p.args for p in procs]
    tcp = [r for r in rows if r["proto"] != "unix"]
    for row in tcp:
        if not ipaddress.ip_address(row["address"]).is_loopback:
            assert row["port"] == 8888 and owned_by(row, jupyter), f"listens beyond loopback: {row}"
    assert not [r for r in tcp if owned_by(r, websockify)], f"websockify listens on TCP: {tcp}"
    x_tcp = [r for r in tcp if owned_by(r, x_server)]
    if shared.expected.server == "tigervnc":
        assert x_tcp == [], f"Xtigervnc opened TCP ports: {x_tcp}"
    else:
        # TightVNC cannot use a unix socket: its RFB port, on loopback only.
        assert [(r["address"], r["port"]) for r in x_tcp] == [("127.0.0.1", 5900 + session.display)], x_tcp
    x_unix = {r["address"] for r in rows if r["proto"] == "unix" and owned_by(r, x_server)}
    assert f"/tmp/.X11-unix/X{session.display}" in x_unix, x_unix
    if shared.expected.server == "tigervnc":
        assert f"{session.runtime_dir}/vnc.sock" in x_unix, x_unix


def test_rendered_files_and_modes(desktop: Container, shared: SharedDesktop):
    session = desktop.desktop()
    host, root = desktop.host, session.runtime_dir
    assert re.fullmatch(rf"/tmp/repo2desktop-{NB_UID}-\w+", root), root

    def check(relative: str, mode: int, kind: str = "file") -> None:
        f = host.file(f"{root}/{relative}" if relative else root)
        assert f.exists, f"{f.path} is missing"
        assert getattr(f, f"is_{kind}"), f"{f.path} is not a {kind}"
        assert (f.user, f.mode) == (NB_USER, mode), f"{f.path}: {f.user} {oct(f.mode)}, want {oct(mode)}"

    check("", 0o700, "directory")
    for folder in ("bin", "logs", "web"):
        check(folder, 0o700, "directory")
    scripts = ["xinitrc", "autostart.sh", "bin/x-session.sh"]
    sound = ("sound", "sound-policy")  # audio: true, the desktop's own programs
    scripts += [f"bin/program-{name}.sh" for name in shared.expected.programs
                if name not in ("x-session", "clipboard", *sound)]
    scripts += [f"bin/{name}.sh" for name in shared.expected.programs if name in sound]
    if "clipboard" in shared.expected.programs:
        scripts.append("bin/clipboard.sh")  # TightVNC's clipboard bridge (autocutsel, in the image)
    for script in scripts:
        check(script, 0o700)
    if "sound" in shared.expected.programs:
        # The sound server's sockets, config and state stay in the session's private folder.
        check("sound", 0o700, "directory")
        check("sound/pulse", 0o700, "directory")
        check("sound/pipewire.conf", 0o600)
    for private in ("supervisord.conf", "web/index.html", "web/repo2desktop-reconnect.js", "web/session.json"):
        check(private, 0o600)
    check("supervisor.sock", 0o700, "socket")
    password = host.file(f"{root}/vnc-passwd")
    if shared.expected.server == "tightvnc":
        check("vnc-passwd", 0o600)
    else:
        assert not password.exists, "auth: none needs no password file"
    # Every script (also ones added later) is private; nothing is writable by others; the
    # folders holding the sockets are private.
    loose = host.check_output("find %s -name '*.sh' -type f -not -perm 0700", root)
    assert loose == "", loose
    writable = host.check_output("find %s -not -type l -not -type s -perm /022", root)
    assert writable == "", writable
    # A socket's own mode does not matter in a folder only its owner can enter (PipeWire's
    # PulseAudio socket is 0777, in sound/pulse, 0700): such folders are what closes it.
    for path in host.check_output("find %s -type s -perm /022", root).split():
        folder = host.file(path.rsplit("/", 1)[0])
        assert (folder.user, folder.mode) == (NB_USER, 0o700), (path, folder.user, oct(folder.mode))
    # The server's private folder (X cookie; the VNC socket link jupyter-server-proxy uses).
    socket_dir = host.file(session.xauthority.rsplit("/", 1)[0])
    assert (socket_dir.user, socket_dir.mode) == (NB_USER, 0o700), socket_dir.path
    # Generated files say where they come from.
    assert "Generated by repo2desktop" in host.file(f"{root}/supervisord.conf").content_string


def test_desktop_yml_installed(desktop: Container, shared: SharedDesktop):
    f = desktop.host.file(CONFIG_IN_IMAGE)
    assert f.is_file and (f.user, f.mode) == ("root", 0o644), (f.user, oct(f.mode))
    assert f.content_string == (FIXTURES / shared.name / "desktop.yml").read_text()
    env = desktop.host.check_output("printenv REPO2DESKTOP_CONFIG")
    assert env == CONFIG_IN_IMAGE


def test_no_debian_novnc_nor_nodejs(desktop: Container, shared: SharedDesktop):
    """noVNC comes bundled in our wheel: Debian's novnc (with its nodejs and numpy) stays out."""
    host = desktop.host
    for package in ("novnc", "nodejs", "python3-numpy", "websockify"):
        assert not host.package(package).is_installed, f"{package} is installed in {shared.name}"
    found = host.run("/srv/venv/bin/python -c 'from repo2desktop.resources import viewer_files; "
                     "print(viewer_files()[\"desktop.js\"])'")
    assert found.rc == 0 and found.stdout.strip().endswith("/viewer/dist/desktop.js"), (found.stdout, found.stderr)


def test_every_process_runs_as_the_notebook_user(desktop: Container, shared: SharedDesktop):
    session = desktop.desktop()
    procs = desktop.processes()
    others = [(p.user, p.args) for p in procs if (p.uid, p.user) != (NB_UID, NB_USER)]
    assert others == [], f"processes not run by {NB_USER}: {others}"
    names = {p.name for p in procs}
    desktop_names = {"xinit", X_SERVER_NAMES[shared.expected.server], *shared.expected.on_display}
    assert desktop_names <= names, f"missing {desktop_names - names}: {sorted(names)}"
    assert not pids_named(procs, "websockify") and session.supervisord.user == NB_USER


def managed_clients(container: Container, session) -> Tuple[str, Dict[str, Tuple[str, ...]]]:
    """The running window manager's name and its clients ({window id: WM_CLASS}), as EWMH
    publishes them on the root window: only a window manager that manages windows sets them."""
    script = ("check=$(xprop -root _NET_SUPPORTING_WM_CHECK | sed -n 's/.*# //p'); "
              "xprop -id \"$check\" _NET_WM_NAME; "
              "for w in $(xprop -root _NET_CLIENT_LIST | sed -n 's/.*# //p' | tr -d ,); do "
              "printf '%s ' \"$w\"; xprop -id \"$w\" WM_CLASS; done")
    out = container.run("sh -c %s", script, env=session.x_env).stdout
    name = re.search(r'_NET_WM_NAME\(UTF8_STRING\) = "([^"]*)"', out)
    clients = {m.group(1): tuple(re.findall(r'"([^"]*)"', m.group(2)))
               for m in re.finditer(r"^(0x[0-9a-f]+) WM_CLASS\(STRING\) = (.*)$", out, re.M)}
    return (name.group(1) if name else ""), clients


def test_autostarted_app_is_on_the_display(desktop: Container, shared: SharedDesktop):
    session = desktop.desktop()
    assert has_xwininfo(desktop), "x11-utils is one of the desktop's base packages"
    tree = ""

    def app() -> Optional[tuple]:
        nonlocal tree
        window, tree = app_window(desktop, session, shared.expected.app)
        return window

    window = wait_for(app, 30, lambda: f"no viewable {shared.expected.app} window on :{session.display}:\n"
                      f"{tree[-3000:]}", 0.5)
    print(f"\n[{shared.name}] {shared.expected.app[1]} window at {window}")
    if shared.expected.window_manager:
        name, clients = managed_clients(desktop, session)
        assert name == shared.expected.window_manager, (name, clients)
        assert shared.expected.app in clients.values(), clients


def test_no_zombies_under_pid_1(desktop: Container, shared: SharedDesktop):
    """Background programs of the desktop (autostart's `sh -c APP &`) outlive their shells; PID 1
    (repo2docker's entrypoint) never reaps, so supervisord does (a child subreaper)."""
    session = desktop.desktop()

    def zombies():
        rows = [line.split(None, 3) for line in
                desktop.host.check_output("ps -eo pid=,ppid=,stat=,args=").splitlines()]
        return {(r[0], r[1], r[3] if len(r) > 3 else "") for r in rows if r[2].startswith("Z")}

    # A child that just ended is a zombie until its parent's next wait (supervisord reaps
    # once a second): only one still there 2.5 s later has no reaper.
    lasting = set()
    for _ in range(3):
        seen = zombies()
        if seen:
            time.sleep(2.5)
            lasting = seen & zombies()
            if lasting:
                break
        time.sleep(0.5)
    parents = {ppid: desktop.host.check_output("ps -o args= -p %s", ppid) for _, ppid, _ in lasting}
    assert not lasting, f"zombies in {shared.name} that nobody reaps: {lasting}; their parents: {parents}"
    orphans = [p for p in desktop.processes() if p.ppid == 1 and p.pid != session.session.pid
               and "jupyter" not in p.args]
    assert orphans == [], f"desktop processes re-parented to PID 1: {[p.args for p in orphans]}"


# -- from the host ---------------------------------------------------------------------------

def test_desktop_page_needs_the_token(desktop: Container, shared: SharedDesktop):
    for headers in ({}, {"Authorization": "token not-the-token"}):
        refused = desktop.get("desktop/", auth=False, headers=headers)
        assert refused.status_code in (302, 403), (refused.status_code, refused.text[:300])
        if refused.status_code == 302:
            assert refused.headers["Location"].split("?")[0].endswith("/login"), refused.headers
        assert "Generated by repo2desktop" not in refused.text
    page = desktop.get("desktop/")
    assert page.status_code == 200, page.status_code
    assert "text/html" in page.headers.get("Content-Type", "")
    assert "Generated by repo2desktop" in page.text and 'id="headline"' in page.text, page.text[:500]
    assert f"<title>{shared.expected.title}</title>" in page.text


def test_websocket_needs_the_token_and_speaks_rfb(desktop: Container, shared: SharedDesktop):
    for headers in ({}, {"Authorization": "token not-the-token"}):
        with pytest.raises(ConnectionError, match=r"refused: HTTP/1\.1 403"):
            desktop.rfb(headers=headers)
    assert GREETING.fullmatch(desktop.rfb()), desktop.rfb()

    # The whole security handshake, as noVNC does it.
    with closing(rfb.open_url(f"ws://127.0.0.1:{desktop.port}/desktop/websockify",
                              headers={"Authorization": f"token {desktop.token}"})) as stream:
        if shared.expected.server == "tigervnc":
            # None: the socket is private, Jupyter authenticates.
            assert rfb.log_in(stream) == 0
        else:
            status = desktop.get("desktop/session.json").json()
            assert status["state"] == "ready" and status["password"], status.keys()
            assert rfb.log_in(stream, status["password"]) == 0


def test_no_vnc_port_reachable_from_the_host(desktop: Container):
    info = desktop.inspect()
    bindings = info["HostConfig"]["PortBindings"]
    assert list(bindings) == ["8888/tcp"], bindings
    published = {port: hosts for port, hosts in info["NetworkSettings"]["Ports"].items() if hosts}
    assert list(published) == ["8888/tcp"], published
    assert {h["HostIp"] for h in published["8888/tcp"]} == {"127.0.0.1"}, published
    ip = desktop.ip
    for port in [*range(5900, 5911), 6080, 6081]:
        with socket.socket() as sock:
            sock.settimeout(3)
            try:
                sock.connect((ip, port))
            except ConnectionRefusedError:
                continue
            except OSError as e:
                pytest.fail(f"{ip}:{port} neither accepted nor refused: {e!r}")
            pytest.fail(f"{ip}:{port} (the container's own address) accepted a connection")
    with socket.create_connection((ip, 8888), timeout=3):
        pass  # the container is reachable there at all: the refusals above are real


def test_screenshot_shows_the_app(desktop: Container, shared: SharedDesktop, chromium):
    """Chromium opens /desktop/ with the token in a header; the starting page hands over to
    noVNC, whose canvas must show the app: where xwininfo is in the image, inside the app's
    window rectangle; otherwise as pixels other than the background's colour."""
    session = desktop.desktop()
    exact = has_xwininfo(desktop)
    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    context.set_extra_http_headers(desktop.headers)
    page = context.new_page()
    shot = SCREENSHOTS / f"image-{shared.name}.png"
    result, window = None, None
    try:
        began = time.monotonic()
        page.goto(desktop.url("desktop/"))
        # The page the Jupyter server serves itself connects where it is (no hand-over).
        size = page.wait_for_function(CANVAS_SIZE, timeout=30_000, polling=100).json_value()
        print(f"\n[{shared.name}] canvas {size[0]}x{size[1]} {time.monotonic() - began:.1f} s after page.goto")
        assert "token" not in page.url
        def visible() -> bool:
            nonlocal window, result
            if exact:
                window, _ = app_window(desktop, session, shared.expected.app)
                screen = list(screen_size(desktop, session))
                result = page.evaluate(APP_ON_CANVAS, list(window)) if window else None
                return bool(result and result["canvas"] == screen
                            and result["distinct"] >= max(4, result["insideTiles"] // 10))
            result = page.evaluate(NOT_BACKGROUND)
            return bool(result and result["other"] >= 0.02 and result["white"] >= shared.expected.white)

        wait_for(visible, 30, lambda: f"{shared.expected.app} not visible on the canvas: window {window}, "
                 f"canvas check {result}; see {shot}", 0.5)
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=str(shot))
        finally:
            context.close()
    print(f"[{shared.name}] {shared.expected.app[1]}: window {window}, canvas {result}; screenshot {shot}")


# The session probes RFB only until the desktop first answers: an idle desktop's logs stay
# quiet (each probe would log 5-11 lines in the VNC server's log).
def test_idle_desktop_keeps_its_logs_quiet(desktop: Container, shared: SharedDesktop):
    session = desktop.desktop()
    command = f"cat {session.runtime_dir}/logs/*.log | wc -c"
    # Start-up messages first: wait (at most 10 s) for a second that adds under 100 bytes.
    before, deadline = int(desktop.host.check_output(command)), time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(1)
        now = int(desktop.host.check_output(command))
        quiet, before = now - before < 100, now
        if quiet:
            break
    time.sleep(5)  # the observation: five seconds of an idle desktop
    grown = int(desktop.host.check_output(command)) - before
    print(f"\n[{shared.name}] logs grew by {grown} bytes in 5 s of idling")
    if grown >= 500:
        tails = desktop.run(f"tail -n 6 {session.runtime_dir}/logs/*.log").stdout
        pytest.fail(f"the logs of an idle desktop grew by {grown} bytes in 5 s:\n{tails}")


def test_docker_stop_is_clean_and_quick(desktop: Container, shared: SharedDesktop):
    """SIGTERM reaches PID 1, repo2docker's entrypoint, which relays it to its child (Jupyter;
    the repository's start script exec'd into it). Jupyter stops its servers, the desktop
    with them, and exits 0; the entrypoint exits with its child's code: 0. (143 would be a
    shell killed by SIGTERM; this entrypoint reports a child killed by a signal as 241.)"""
    session = desktop.desktop()
    assert session.processes
    seconds, code = desktop.stop(grace=20)
    print(f"\n[{shared.name}] docker stop took {seconds:.2f} s, exit code {code}")
    logs = desktop.logs()
    assert seconds < 10, f"docker stop took {seconds:.1f} s:\n{logs[-2000:]}"
    assert code == 0, f"exit code {code}:\n{logs[-2000:]}"
    assert not desktop.running()


# -- fixture-specific --------------------------------------------------------------------------

TONE_WAV = ("import math, struct, sys, wave; w = wave.open(sys.argv[1], 'wb'); w.setnchannels(1); "
            "w.setsampwidth(2); w.setframerate(48000); w.writeframes(b''.join(struct.pack('<h', "
            "int(12000 * math.sin(2 * math.pi * 440 * i / 48000))) for i in range(96000)))")


def test_sound_in_the_container_reaches_the_page_socket_as_opus(images: ImageBuilder, containers: ContainerPool):
    """tigervnc has audio: true: a tone played in the container (paplay, as the notebook user,
    with the desktop's PULSE_SERVER) comes out of /desktop/audio as Opus packets."""
    import threading

    import websocket

    container = containers.start(images.build("tigervnc"))
    container.open_desktop()
    session = container.desktop()
    wait_all_running(container, session.runtime_dir, EXPECTED["tigervnc"].programs)
    pulse = f"unix:{session.runtime_dir}/sound/pulse/native"
    wait_for(lambda: "Default Sink: desktop" in container.run("pactl info", env={"PULSE_SERVER": pulse}).stdout,
             30, lambda: f"the desktop's sink: {container.run('pactl info', env={'PULSE_SERVER': pulse})}", 0.3)
    assert container.run("python3 -c %s /tmp/a440.wav", TONE_WAV).rc == 0

    ws = websocket.create_connection(f"ws://127.0.0.1:{container.port}/desktop/audio",
                                     header=[f"Authorization: token {container.token}"], timeout=10)
    try:
        ws.send('{"codec": "opus"}')
        assert ws.recv() == '{"codec": "opus", "rate": 48000, "channels": 2, "frame": 960}'
        player = threading.Thread(target=container.run, args=("paplay /tmp/a440.wav",),
                                  kwargs={"env": {"PULSE_SERVER": pulse}})
        player.start()
        packets = []
        ws.settimeout(5)
        while len(packets) < 50:  # one second of sound
            packets.append(ws.recv())
        player.join(30)
    finally:
        ws.close()
    assert all(isinstance(p, bytes) and 0 < len(p) < 1000 for p in packets), [len(p) for p in packets]
    # 64 kbit/s Opus: about 160 bytes per 20 ms, far below the 3840 of the same frame as PCM.
    assert sum(len(p) for p in packets) / len(packets) < 400, [len(p) for p in packets]

def test_own_start_runs_and_eager_desktop_needs_no_visit(images: ImageBuilder, containers: ContainerPool):
    """A fresh own-start container: nobody has opened /desktop/, yet the desktop runs, after
    the repository's start script, with what that script exported."""
    container = containers.start(images.build("own-start"))
    try:
        session = container.desktop(timeout=60)
        # Started by the Jupyter server itself when it loaded the Desktop entry (jupyter/page.py).
        assert "jupyter" in session.session.args, session.session.args
        states = wait_all_running(container, session.runtime_dir, EXPECTED["own-start"].programs)
        assert set(states.values()) == {"RUNNING"}, states
        host = container.host
        ran = host.file("/tmp/own-start-ran")
        assert ran.exists and ran.content_string.strip() == f"own start ran as {NB_USER}"
        wait_for(lambda: host.file("/tmp/desktop-saw-marker").exists, 20, "the desktop's marker file", 0.3)
        assert host.file("/tmp/desktop-saw-marker").content_string.strip() == "from-own-start"
        jupyter = [p for p in container.processes() if "jupyter-notebook" in p.args]
        assert jupyter, [p.args for p in container.processes()]
        environ = host.check_output("tr '\\0' '\\n' < /proc/%s/environ", str(jupyter[0].pid))
        assert "OWN_START_MARKER=from-own-start" in environ.splitlines()
        assert "/desktop" not in container.logs(), "someone opened /desktop/"
        assert GREETING.fullmatch(container.rfb())
    finally:
        container.remove()


def test_eager_desktop_page_answers_the_first_request(images: ImageBuilder, containers: ContainerPool):
    """As soon as Jupyter answers, /desktop/ serves the starting page (Binder opens it then)."""
    container = containers.start(images.build("own-start"))
    try:
        page = container.get("desktop/")
        assert page.status_code == 200, (page.status_code, container.logs()[-1500:])
        assert "Generated by repo2desktop" in page.text
    finally:
        container.remove()
