"""The desktop behind a real Jupyter server, as on JupyterHub: /user/alice/desktop/ through
jupyter-server-proxy, the launcher tile, a real Chromium, nbnovnc's traitlets, failures.

Every server here is a `jupyter server` subprocess on a free loopback port with a random token
(passed in the environment, never in a URL or on the command line), under a sub-path. Stopping
it must leave no process of its desktop behind.
"""
from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import requests

from repo2desktop.runtime import probe
from repo2desktop.runtime.allocate import free_port
from repo2desktop.runtime.session import MARKER as SESSION_MARKER
from tests.polling import wait_for

from .browser import CANVAS_SIZE, launched_chromium

pytestmark = pytest.mark.jupyter

SERVERS = ["tightvnc", "tigervnc"]
BASE = "/user/alice/"
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "build" / "screenshots"
X_SERVERS = ("Xtightvnc", "Xtigervnc")
# A bare greeting. A VNC server that refuses the client answers "RFB 003.003\n" followed by
# the reason in the same frame (TigerVNC: "Too many security failures"): not a success.
GREETING = re.compile(r"RFB 003\.00[3-8]")
RUNTIME_DIR = re.compile(r"/[^\s'\"]*/repo2desktop-\d+-[A-Za-z0-9_]+")
PROXY_DIR = re.compile(r"/[^\s'\"]*/jupyter-server-proxy-[A-Za-z0-9_]+")

DESKTOP_YML = """\
version: 1
vnc:
  server: {server}
window_manager: openbox
autostart: [xterm]
"""


# -- processes --------------------------------------------------------------------------

def process_table() -> Dict[int, tuple]:
    """pid -> (ppid, argv) for every process we can see."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except (OSError, ValueError, IndexError):
            continue
        table[int(name)] = (ppid, argv)
    return table


def descendants(root: int) -> Dict[int, tuple]:
    table = process_table()
    found, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, argv) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = (ppid, argv)
                frontier.append(pid)
    return found


def environment_of(pid: int) -> List[bytes]:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def processes_mentioning(markers: List[str], variables: List[str]) -> Dict[int, str]:
    """Live processes whose command line contains one of MARKERS (a runtime dir, the proxy's
    socket dir) or whose environment holds one of VARIABLES (the session's NAME=VALUE marker,
    which every desktop process inherits: openbox and xterm too)."""
    wanted = {v.encode() for v in variables}
    found = {}
    for pid, (_, argv) in process_table().items():
        line = " ".join(argv)
        if pid == os.getpid() or not argv:
            continue
        if any(m in line for m in markers) or (wanted and wanted & set(environment_of(pid))):
            found[pid] = line
    return found


def is_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True



def x_client(session: "DesktopProcesses", *argv: str) -> subprocess.CompletedProcess:
    """An X client on the session's display, holding its cookie (as the server's kernels do)."""
    env = dict(os.environ, DISPLAY=f":{session.display}", XAUTHORITY=session.xauthority)
    return subprocess.run(list(argv), env=env, capture_output=True, text=True, timeout=10)


# -- one desktop session as the Jupyter server's descendants show it ----------------------

@dataclass
class DesktopProcesses:
    session_pid: int
    display: int
    proxy_socket: str
    xauthority: str = ""
    runtime_dir: str = ""
    supervisord_pid: int = 0
    x_server_pid: int = 0
    names: Dict[int, str] = field(default_factory=dict)


def find_session(jupyter_pid: int) -> Optional[DesktopProcesses]:
    procs = descendants(jupyter_pid)
    found = None
    for pid, (_, argv) in procs.items():
        if "repo2desktop" in argv and "session" in argv and "--display" in argv:
            found = DesktopProcesses(pid, int(argv[argv.index("--display") + 1]),
                                     argv[argv.index("--unix-socket") + 1],
                                     argv[argv.index("--xauthority") + 1])
    if found is None:
        # The fast path (jupyter/page.py): no session process; the Jupyter server runs supervisord.
        for pid, (_, argv) in procs.items():
            if any(os.path.basename(a) in X_SERVERS for a in argv[:1]) and "-auth" in argv:
                display = next(int(a[1:]) for a in argv if re.fullmatch(r":\d+", a))
                auth = argv[argv.index("-auth") + 1]
                # jupyter-server-proxy's way in: a link to the VNC socket in the server's
                # private folder (TigerVNC), beside the X cookie.
                found = DesktopProcesses(jupyter_pid, display, os.path.join(os.path.dirname(auth), "vnc.sock"), auth)
        if found is None:
            return None
    for pid, (ppid, argv) in procs.items():
        name = os.path.basename(argv[0]) if argv else ""
        found.names[pid] = name
        if "--configuration" in argv and any(os.path.basename(a) == "supervisord" for a in argv[:2]):
            found.runtime_dir = os.path.dirname(argv[argv.index("--configuration") + 1])
            found.supervisord_pid = pid
        parent = procs.get(ppid, (0, []))[1]
        if name in X_SERVERS and parent and os.path.basename(parent[0]) == "xinit":
            found.x_server_pid = pid
    return found


# -- the Jupyter server -----------------------------------------------------------------

class JupyterServer:
    """`python -m jupyter server` in FOLDER (which holds the desktop.yml), under /user/alice/."""

    def __init__(self, folder: Path, desktop_yml: str, config_py: Optional[str] = None,
                 extra_env: Optional[Dict[str, str]] = None):
        self.folder = folder
        self.token = secrets.token_hex(24)
        self.port = free_port()
        self.log_path = folder / "jupyter.log"
        (folder / "desktop.yml").write_text(desktop_yml)
        home = folder / "home"
        home.mkdir()
        command = [
            sys.executable, "-m", "jupyter_server", "--allow-root", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--ServerApp.base_url={BASE}", f"--ServerApp.root_dir={folder}",
            # No traffic to package indexes or news feeds from a test.
            "--LabApp.extension_manager=readonly",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        if config_py is not None:
            config = folder / "jupyter_server_config.py"
            config.write_text(config_py)
            command.append(f"--config={config}")
        env = {k: v for k, v in os.environ.items()
               if k not in ("DISPLAY", "REPO2DESKTOP_CONFIG") and not k.startswith("JUPYTER")}
        # A private HOME: no ~/.xinitrc or ~/.jupyter of whoever runs the tests.
        env.update(HOME=str(home), JUPYTER_TOKEN=self.token,
                   JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
                   JUPYTER_RUNTIME_DIR=str(folder / "jupyter-runtime"))
        env.update(extra_env or {})
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(command, cwd=folder, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        self.markers: List[str] = []
        self.variables: List[str] = []
        self.vnc_server = ""

    # requests ---------------------------------------------------------------------------
    @property
    def headers(self) -> Dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{BASE}{path}"

    def get(self, path: str, auth: bool = True, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 90)
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("headers", self.headers if auth else {})
        return requests.get(self.url(path), **kwargs)

    def session_post(self, path: str, **kwargs) -> requests.Response:
        response = requests.post(self.url(path), headers=self.headers, timeout=60, **kwargs)
        assert response.status_code in (200, 201), (response.status_code, response.text)
        return response

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> "JupyterServer":
        def answers() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"jupyter server exited ({self.proc.returncode}):\n{self.log()}")
            try:
                return self.get("api/status", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for(answers, timeout, lambda: f"jupyter server answering:\n{self.log()}")
        return self

    # the desktop ------------------------------------------------------------------------
    def start_desktop(self) -> requests.Response:
        """What clicking the launcher tile does: GET <base>/desktop/ (starts the session)."""
        response = self.get("desktop/")
        assert response.status_code == 200, (response.status_code, self.log())
        self.remember_session()
        return response

    def session(self, timeout: float = 30.0) -> DesktopProcesses:
        def running() -> Optional[DesktopProcesses]:
            found = find_session(self.proc.pid)
            return found if found is not None and found.runtime_dir and found.x_server_pid else None

        found = wait_for(running, timeout, lambda: f"a desktop session under the Jupyter server "
                         f"({find_session(self.proc.pid)}):\n{self.log()}")
        self.remember(found)
        return found

    def remember(self, found: DesktopProcesses) -> None:
        for marker in (found.runtime_dir, os.path.dirname(found.proxy_socket)):
            if marker and marker not in self.markers:
                self.markers.append(marker)
        for variable in environment_of(found.supervisord_pid) if found.supervisord_pid else []:
            text = variable.decode(errors="replace")
            if text.startswith(f"{SESSION_MARKER}=") and text not in self.variables:
                self.variables.append(text)

    def remember_session(self) -> None:
        found = find_session(self.proc.pid)
        if found is not None:
            self.remember(found)

    def rfb(self, headers: Optional[Dict[str, str]] = None, timeout: float = 2.0) -> str:
        """One RFB handshake through the authenticated proxy; the VNC server's greeting."""
        return probe.rfb_version(f"tcp:{self.port}", path=f"{BASE}desktop/websockify", timeout=timeout,
                                 headers=self.headers if headers is None else headers)

    def wait_rfb(self, timeout: float) -> float:
        """Seconds until a handshake through the proxy gets a clean greeting."""
        began = time.monotonic()
        last = ""

        def greets() -> bool:
            nonlocal last
            try:
                greeting = self.rfb(timeout=1.0)
                last = f"refused by the VNC server: {greeting!r}"
                return bool(GREETING.fullmatch(greeting))
            except OSError as e:
                last = repr(e)
                return False

        wait_for(greets, timeout, lambda: f"a clean RFB handshake through {BASE}desktop/websockify ({last})", 0.1)
        return time.monotonic() - began

    # stopping ---------------------------------------------------------------------------
    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, wait, then require that none of the desktop's processes remain."""
        self.remember_session()
        for marker in RUNTIME_DIR.findall(self.log()) + PROXY_DIR.findall(self.log()):
            if marker not in self.markers:
                self.markers.append(marker)
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    for pid in [*descendants(self.proc.pid), self.proc.pid]:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    self.proc.wait()
                    raise AssertionError(f"jupyter server ignored SIGTERM for {timeout} s")
            if self.markers:
                wait_for(lambda: not processes_mentioning(self.markers, self.variables), 10,
                         lambda: "processes of the desktop survived the Jupyter server: "
                         f"{processes_mentioning(self.markers, self.variables)}")
        finally:
            self._log.close()


@pytest.fixture
def jupyter(tmp_path):
    """Start Jupyter servers for one test; stop each one (and check its cleanup) afterwards."""
    started: List[JupyterServer] = []

    def start(desktop_yml: str, config_py: Optional[str] = None,
              extra_env: Optional[Dict[str, str]] = None) -> JupyterServer:
        folder = tmp_path / f"server{len(started)}"
        folder.mkdir()
        server = JupyterServer(folder, desktop_yml, config_py, extra_env)
        started.append(server)
        return server.wait_ready()
    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module", params=SERVERS)
def desktop_server(request, tmp_path_factory):
    """One Jupyter server per VNC server, shared by the tests of this module."""
    folder = tmp_path_factory.mktemp(f"jupyter-{request.param}")
    server = JupyterServer(folder, DESKTOP_YML.format(server=request.param))
    server.vnc_server = request.param
    try:
        yield server.wait_ready()
    finally:
        server.stop()


# -- the browser ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium():
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def open_page(chromium):
    """A fresh browser context authenticated by header (a token in a URL ends up in logs)."""
    contexts = []

    def open_page(server: JupyterServer, authenticated: bool = True):
        context = chromium.new_context(viewport={"width": 1280, "height": 860})
        if authenticated:
            context.set_extra_http_headers(server.headers)
        contexts.append(context)
        return context.new_page()
    yield open_page
    for context in contexts:
        context.close()


OPEN_WEBSOCKET = """(path) => new Promise((resolve) => {
  const ws = new WebSocket('ws://' + location.host + path, ['binary']);
  ws.onopen = () => { ws.close(); resolve('open'); };
  ws.onerror = () => resolve('refused');
})"""

# Count 32x32 tiles of noVNC's 2D canvas that are at least 90 % near-white (xterm's background).
WHITE_TILES = """() => {
  const canvas = document.querySelector('canvas');
  if (!canvas || canvas.width <= 100) return 0;
  const {data, width, height} = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  const T = 32;
  let tiles = 0;
  for (let ty = 0; ty + T <= height; ty += T) {
    for (let tx = 0; tx + T <= width; tx += T) {
      let white = 0;
      for (let y = ty; y < ty + T; y += 2) {
        for (let x = tx; x < tx + T; x += 2) {
          const i = (y * width + x) * 4;
          if (data[i] > 235 && data[i + 1] > 235 && data[i + 2] > 235) white++;
        }
      }
      if (white >= 0.9 * (T / 2) * (T / 2)) tiles++;
    }
  }
  return tiles;
}"""


# -- tests against the shared servers ----------------------------------------------------

def test_desktop_requires_the_token(desktop_server):
    server = desktop_server
    refused = server.get("desktop/", auth=False)
    assert refused.status_code in (302, 403), refused.status_code
    if refused.status_code == 302:
        assert refused.headers["Location"].split("?")[0].endswith(f"{BASE}login"), refused.headers
    wrong = server.get("desktop/", auth=False, headers={"Authorization": "token not-the-token"})
    assert wrong.status_code in (302, 403), wrong.status_code

    page = server.start_desktop()
    assert "Generated by repo2desktop" in page.text and 'id="headline"' in page.text, page.text[:500]
    assert "text/html" in page.headers.get("Content-Type", "")

    path = f"{BASE}desktop/websockify"
    for headers in ({}, {"Authorization": "token not-the-token"}):
        with pytest.raises(ConnectionError, match=r"refused: HTTP/1\.1 403"):
            probe.rfb_version(f"tcp:{server.port}", path=path, headers=headers, timeout=10)
    took = server.wait_rfb(timeout=30)
    print(f"\n[{server.vnc_server}] clean RFB handshake through the proxy {took:.1f} s after the page")


def test_launcher_tile(desktop_server, open_page):
    server = desktop_server
    info = server.get("server-proxy/servers-info")
    assert info.status_code == 200, info.text
    entries = {s["name"]: s for s in info.json()["server_processes"]}
    assert "desktop" in entries, entries
    launcher = entries["desktop"]["launcher_entry"]
    assert launcher["enabled"] is True and launcher["title"] == "Desktop", launcher
    assert launcher["path_info"] == "desktop/", launcher
    icon = server.get(launcher["icon_url"][len(BASE):])
    assert icon.status_code == 200 and b"<svg" in icon.content, icon.status_code

    page = open_page(server)
    began = time.monotonic()
    page.goto(server.url("lab"))
    tile = page.locator(".jp-LauncherCard", has=page.locator(".jp-LauncherCard-label", has_text="Desktop"))
    tile.first.wait_for(state="visible", timeout=90_000)
    print(f"\n[{server.vnc_server}] JupyterLab launcher with the Desktop tile in {time.monotonic() - began:.1f} s")
    assert "token" not in page.url


def test_browser_websocket_is_authenticated_by_the_header(desktop_server, open_page):
    """Chromium sends the extra Authorization header on the websocket handshake too."""
    server = desktop_server
    server.start_desktop()
    path = f"{BASE}desktop/websockify"

    # A same-origin document with no script of its own (that could fetch more and get a login
    # cookie back) and without the API's CSP (default-src 'none' would block any websocket).
    anonymous = open_page(server, authenticated=False)
    anonymous.goto(server.url("desktop/session.json"))  # ends on the login page
    assert anonymous.evaluate(OPEN_WEBSOCKET, path) == "refused"

    page = open_page(server)
    handshakes = []
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.on("Network.webSocketWillSendHandshakeRequest",
           lambda event: handshakes.append({k.lower() for k in event["request"]["headers"]}))
    page.goto(server.url("desktop/session.json"))
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()  # no login cookie: only the header can authenticate
    assert page.evaluate(OPEN_WEBSOCKET, path) == "open"
    # Playwright hands over CDP events only while it runs: wait inside it until one came.
    wait_for(lambda: handshakes or page.wait_for_timeout(20), 5, "the websocket handshake's CDP event", 0)
    assert handshakes and "authorization" in handshakes[-1], handshakes
    assert "cookie" not in handshakes[-1], "the login cookie came back before the handshake"


def diagnosis(page, server: JupyterServer) -> str:
    """What a failed browser wait saw (never the URL fragment: it holds the VNC password)."""
    status = page.evaluate("() => (document.getElementById('noVNC_status') || {}).textContent || ''")
    lines = [f"page: {page.url.split('#')[0]}", f"noVNC status: {status.strip()!r}"]
    found = find_session(server.proc.pid)
    if found is not None and found.runtime_dir:
        xterm = x_client(found, "xwininfo", "-name", "xterm")
        state = re.search(r"Map State: \S+", xterm.stdout)
        lines.append(f"xterm on :{found.display}: {state.group(0) if state else xterm.stderr.strip()}")
        try:
            with open(os.path.join(found.runtime_dir, "logs", "x-session.log"), errors="replace") as f:
                lines.append("x-session.log ends:\n" + "".join(f.readlines()[-8:]))
        except OSError:
            pass
    return "\n".join(lines)


def test_xterm_in_the_browser(desktop_server, open_page):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    server = desktop_server
    page = open_page(server)
    websockets = []
    page.on("websocket", lambda ws: websockets.append(ws.url))
    shot = SCREENSHOTS / f"desktop-{server.vnc_server}.png"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    began = time.monotonic()
    page.goto(server.url("desktop/"))
    try:
        # The page the Jupyter server serves itself connects where it is (no hand-over).
        size = page.wait_for_function(CANVAS_SIZE, timeout=60_000, polling=50).json_value()
        to_canvas = time.monotonic() - began
        print(f"\n[{server.vnc_server}] page.goto -> canvas {size[0]}x{size[1]}: {to_canvas:.2f} s")
        # xterm's white background on noVNC's 2D canvas.
        page.wait_for_function(f"() => ({WHITE_TILES})() >= 40", timeout=20_000, polling=250)
    except PlaywrightTimeout as e:
        page.screenshot(path=str(shot))
        raise AssertionError(f"{e.message.splitlines()[0]}\n{diagnosis(page, server)}") from None
    page.screenshot(path=str(shot))
    print(f"[{server.vnc_server}] {page.evaluate(WHITE_TILES)} white 32x32 tiles on the canvas; screenshot {shot}")
    assert websockets and all(f"{BASE}desktop/websockify" in url for url in websockets), websockets
    assert "token" not in page.url and all("token" not in url for url in websockets)

    assert server.token not in server.log()

    # The same xterm, seen from inside the session: it exists, and it is mapped.
    session = server.session()
    tree = x_client(session, "xwininfo", "-root", "-tree")
    assert tree.returncode == 0, tree.stderr
    assert '("xterm" "XTerm")' in tree.stdout, tree.stdout[-2000:]
    xterm = x_client(session, "xwininfo", "-name", "xterm")
    assert "Map State: IsViewable" in xterm.stdout, xterm.stdout
    found = x_client(session, "xdotool", "search", "--onlyvisible", "--class", "xterm")
    if server.vnc_server == "tightvnc" and found.returncode < 0:
        # xdotool 3 crashes (SIGSEGV) on Xtightvnc 1.3's display (no XKB); xwininfo said enough.
        print(f"[tightvnc] xdotool died with signal {-found.returncode}; checked with xwininfo only")
    else:
        assert found.returncode == 0 and found.stdout.split(), (found.returncode, found.stdout, found.stderr)


def test_vnc_server_killed_comes_back_through_the_proxy(desktop_server):
    server = desktop_server
    server.start_desktop()
    server.wait_rfb(timeout=30)
    before = server.session()
    killed_at = time.monotonic()
    os.kill(before.x_server_pid, signal.SIGKILL)
    while not is_gone(before.x_server_pid):
        assert time.monotonic() - killed_at < 2, "the killed X server is still there"
        time.sleep(0.01)
    server.wait_rfb(timeout=5.0 - (time.monotonic() - killed_at))
    print(f"\n[{server.vnc_server}] clean RFB handshake through the proxy again "
          f"{time.monotonic() - killed_at:.2f} s after kill -9 of the X server")
    after = server.session()
    assert after.x_server_pid != before.x_server_pid
    assert after.session_pid == before.session_pid, "the proxy restarted the whole session"


# -- tests with their own server ---------------------------------------------------------

@pytest.mark.parametrize("vnc_server", SERVERS)
def test_nbnovnc_geometry_wins_over_desktop_yml(jupyter, vnc_server):
    desktop_yml = DESKTOP_YML.format(server=vnc_server) + "display:\n  geometry: 1280x800\n"
    server = jupyter(desktop_yml, config_py='c.NBNoVNC.geometry = "1024x640"\n')
    server.start_desktop()
    session = server.session()
    def xdpyinfo():
        run = x_client(session, "xdpyinfo", "-display", f":{session.display}")
        return run if run.returncode == 0 else None

    info = wait_for(xdpyinfo, 30, "xdpyinfo answering")
    dimensions = re.search(r"dimensions:\s+(\S+) pixels", info.stdout)
    assert dimensions and dimensions.group(1) == "1024x640", info.stdout[:1500]


def test_failure_is_shown_in_the_browser_and_logged(jupyter, open_page):
    from playwright.sync_api import expect

    desktop_yml = ("version: 1\nvnc:\n  command: \"/nonexistent/Xvnc :{display} -rfbport {vnc_port}\"\n"
                   "autostart: [xterm]\n")
    server = jupyter(desktop_yml)
    page = open_page(server)
    began = time.monotonic()
    page.goto(server.url("desktop/"))
    server.remember_session()
    expect(page.locator("#headline")).to_contain_text("failed to start", timeout=30_000)
    print(f"\n'failed to start' shown {time.monotonic() - began:.1f} s after page.goto")
    expect(page.locator("#failed-program")).to_have_text("x-session")
    # The reason or the log tail below it names the missing X server.
    expect(page.locator("#failed")).to_be_visible()
    expect(page.locator("#failed")).to_contain_text("/nonexistent/Xvnc")
    assert "/desktop/" in page.url and "vnc.html" not in page.url

    wait_for(lambda: "desktop program 'x-session' failed" in server.log(), 10,
             lambda: f"the failure in the server's log:\n{server.log()}")



def test_eager_desktop_served_by_websockify_runs_before_any_visit(jupyter):
    """start: eager with nbnovnc's novnc.directory (websockify serves the session's files, so
    a session process, not the fast path): the server starts it at once (server_desktop.py),
    the tile's process only attaches to it, and the session ends with the server (stop())."""
    server = jupyter(DESKTOP_YML.format(server="tigervnc")
                     + "start: eager\nnovnc: {directory: /usr/share/novnc}\n")
    session = server.session()  # nobody opened /desktop/
    assert session.session_pid != server.proc.pid, "the fast path ran instead of a session process"
    server.wait_rfb(30)

# -- the fast path: the page from the Jupyter server itself (repo2desktop/jupyter/page.py) ---

@pytest.mark.parametrize("vnc_server", SERVERS)
def test_page_is_served_while_the_desktop_starts(jupyter, vnc_server):
    """The page answers before the desktop exists; one held request then reports it ready."""
    server = jupyter(DESKTOP_YML.format(server=vnc_server))
    assert find_session(server.proc.pid) is None, "a desktop ran before anyone asked for it"
    page = server.get("desktop/")
    early = server.get("desktop/session.json")
    assert page.status_code == 200 and 'id="desktop-config"' in page.text, page.text[:300]
    assert re.search(r'<script type="module" src="desktop.js\?_xsrf=[^"]+"></script>', page.text), page.text[-400:]
    # Asked for just now: the page is there, the desktop is still starting.
    assert early.json()["state"] == "starting", early.json()
    held = server.get("desktop/session.json?wait=25").json()
    assert held["state"] == "ready", held
    # The per-session VNC password (vnc.auth: password, the default) reaches the
    # authenticated page only, through this held request.
    assert len(held.get("password", "")) == 8, held.keys()
    module = server.get("desktop/desktop.js")
    assert module.status_code == 200 and "javascript" in module.headers["Content-Type"]
    assert server.get("desktop/desktop.js", auth=False).status_code in (302, 403)
    assert server.get("desktop/session.json", auth=False).status_code in (302, 403)
    # No websockify and no session process: the Jupyter server relays the websocket.
    names = {os.path.basename(argv[0]) for _, argv in descendants(server.proc.pid).values() if argv}
    assert not any("websockify" in n for n in names), names
    assert GREETING.fullmatch(server.rfb(timeout=5))


def test_bundled_page_reaches_the_canvas_in_five_requests(jupyter, open_page):
    server = jupyter(DESKTOP_YML.format(server="tigervnc"))
    page = open_page(server)
    fetched = []
    page.on("request", lambda request: fetched.append(request.url.split("?")[0]))
    page.on("websocket", lambda ws: fetched.append(ws.url))
    page.goto(server.url("desktop/"))
    page.wait_for_function(CANVAS_SIZE, timeout=60_000, polling=50)
    page.wait_for_function(f"() => ({WHITE_TILES})() >= 40", timeout=30_000, polling=250)
    # The page, its one module, one held status request and the websocket.
    assert len(fetched) <= 5, fetched
    assert not any("/app/" in u or "/core/" in u for u in fetched), fetched


def _close_frame(url: str, headers: Dict[str, str], timeout: float):
    """Open a websocket as noVNC does and read until the server closes it: (code, reason),
    or ("data", first bytes) when the server sends data instead."""
    import websocket

    ws = websocket.create_connection(url, header=[f"{k}: {v}" for k, v in headers.items()],
                                     subprotocols=["binary"], timeout=timeout)
    try:
        opcode, data = ws.recv_data(control_frame=True)
        while opcode in (websocket.ABNF.OPCODE_PING, websocket.ABNF.OPCODE_PONG):  # keep-alive
            opcode, data = ws.recv_data(control_frame=True)
    finally:
        try:
            ws.close(timeout=2)
        finally:
            ws.shutdown()  # close() leaves the socket open when the server closed first
    if opcode == websocket.ABNF.OPCODE_CLOSE:
        return int.from_bytes(data[:2], "big"), data[2:].decode()
    return "data", data


@pytest.mark.parametrize("vnc_server", SERVERS)
def test_websocket_before_the_page_starts_the_desktop_and_waits(jupyter, vnc_server):
    """A client that skips the page (its own noVNC, a readiness probe) opens the websocket
    first: the server starts the desktop and relays once it answers; nothing is logged as an
    uncaught error (before: FileNotFoundError on the VNC socket, the handshake refused)."""
    server = jupyter(DESKTOP_YML.format(server=vnc_server))
    assert find_session(server.proc.pid) is None, "a desktop ran before anyone asked for it"
    greeting = server.rfb(timeout=60)
    assert GREETING.fullmatch(greeting), greeting
    assert server.get("desktop/session.json").json()["state"] == "ready"
    server.remember_session()
    log = server.log()
    for bad in ("Uncaught exception", "Traceback", "FileNotFoundError"):
        assert bad not in log, log[-3000:]
    # The relay is the Jupyter server's own: no websockify, no session process.
    names = [" ".join(argv) for _, argv in descendants(server.proc.pid).values() if argv]
    assert not any("websockify" in n or "repo2desktop session" in n for n in names), names


def test_websocket_to_a_desktop_that_cannot_start_is_closed_with_the_reason(jupyter):
    # An option Xtigervnc does not know: the X server exits at once, every time.
    server = jupyter("version: 1\nvnc:\n  server: tigervnc\n  args: [-no-such-option]\nwindow_manager: openbox\n")
    url = f"ws://127.0.0.1:{server.port}{BASE}desktop/websockify"
    code, reason = _close_frame(url, server.headers, timeout=90)
    server.remember_session()
    assert code == 1011, (code, reason)
    assert reason.startswith("the desktop failed to start: x-session"), reason
    assert "Traceback" not in server.log() and "Uncaught exception" not in server.log()
