"""The fast path behind Jupyter: the Desktop page served by the Jupyter server itself, the
desktop started beside it the moment it is asked for, and no websockify.

- ``<base>/desktop/`` answers at once (a page rendered when the server started) and starts
  the desktop in a thread of the server (no Python start-up of a session process on the way:
  supervisord is spawned straight away);
- ``<base>/desktop/desktop.js`` is the bundled noVNC client (one module, cacheable);
- ``<base>/desktop/session.json?wait=S`` tells the page the desktop's state, holding the
  request until it is ready or failed (one request instead of a poll loop); the VNC password
  travels only here, to the authenticated page;
- ``<base>/desktop/websockify`` is relay.py: the Jupyter server relays the websocket straight
  to the VNC server (TigerVNC's private unix socket, TightVNC's loopback port).

Every handler is the server's own and requires its login like any other Jupyter page. The
server extension (extension.py) adds them; install_handlers lists them all.

Configurations this path cannot honour (nbnovnc's ``novnc.directory``, ``vnc.command``,
``websockify.command``) keep the session process with websockify (server_desktop.py decides).
"""
from __future__ import annotations

import asyncio
import atexit
import json
import os
import signal
import threading
import time
from typing import Dict, Optional
from urllib.parse import quote

from repo2desktop.config.model import DesktopConfig
from repo2desktop.errors import Repo2DesktopError, RuntimeStartError
from repo2desktop.jupyter import audio, extras, upload
from repo2desktop.render import VNC_BASE_PORT, _environment
from repo2desktop.resources import viewer_files
from repo2desktop.runtime import probe
from repo2desktop.runtime.session import DesktopSession, log_tail


def applies(config: DesktopConfig) -> bool:
    """True when the desktop needs nothing the fast path leaves out."""
    return (config.novnc.directory is None and config.vnc.command is None
            and config.websockify.command is None)


class DirectDesktop:
    """One desktop run by the Jupyter server's process (a monitoring thread, no session process)."""

    def __init__(self, config: DesktopConfig, display: int, xauthority: str, private_dir: str,
                 lock_holder: int = 0):
        self.config = config
        self.display = display
        self.private_dir = private_dir
        # LOCK_HOLDER: the process named by the X lock that reserves the display (this
        # server, server_desktop.py); the session hands it over just before the X server starts.
        self.session = DesktopSession(config, listen="", display=display, xauthority=xauthority,
                                      display_lock_holder=lock_holder)
        # A fixed path in the server's private folder, known before the desktop starts; it
        # becomes a link to the VNC server's socket in the session's runtime folder.
        self.vnc_socket = os.path.join(private_dir, "vnc.sock")
        self.status: Dict = {"state": "starting", "programs": {}}
        self._lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None
        self._stopping = threading.Event()
        self._stopped = threading.Lock()
        atexit.register(self.stop)

    def stop_first_on_sigterm(self) -> None:
        """On SIGTERM stop the desktop at once, then let the server's own handler run: atexit
        alone comes only after the server's whole shutdown (a second or more)."""
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum, frame):
            self.stop()
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL:
                raise SystemExit(128 + signum)

        signal.signal(signal.SIGTERM, on_sigterm)

    @property
    def target(self) -> str:
        if self.config.vnc.uses_unix_socket:
            return f"unix:{self.vnc_socket}"
        return f"tcp:{VNC_BASE_PORT + self.display}"

    def ensure_started(self) -> None:
        with self._lock:
            if self._thread is None and not self._stopping.is_set():
                # supervisord is spawned from this thread with PR_SET_PDEATHSIG, which fires
                # when the *thread* ends: it lives as long as the desktop.
                self._thread = threading.Thread(target=self._run, name="repo2desktop", daemon=True)
                self._thread.start()

    def _fail(self, failure: RuntimeStartError, programs: Dict[str, str]) -> None:
        self.status = {"state": "failed", "programs": programs,
                       "failed": {"program": failure.program, "reason": failure.reason,
                                  "log_tail": failure.log_tail}}
        print(f"repo2desktop: {failure}", flush=True)

    def _run(self) -> None:
        session = self.session
        try:
            session.prepare()
            if self.config.vnc.uses_unix_socket:
                if os.path.lexists(self.vnc_socket):
                    os.unlink(self.vnc_socket)
                os.symlink(session.session.vnc_socket, self.vnc_socket)
            session.start()
        except RuntimeStartError as failure:
            self._fail(failure, {})
            return
        except (OSError, Repo2DesktopError) as e:
            self._fail(RuntimeStartError("x-session", str(e)), {})
            return
        print(f"repo2desktop: starting display :{self.display} ({self.config.vnc.server}); "
              f"logs in {session.session.log_dir}", flush=True)
        began = time.monotonic()
        while not self._stopping.is_set():
            states = session.states()
            programs = {info["name"]: info["statename"] for info in states}
            failure = session.check_failed(states)
            if failure is not None:
                self._fail(failure, programs)
                if session.process.poll() is not None:
                    return
            elif not session.ready:
                if programs.get("x-session") in ("STARTING", "RUNNING") and self._answers():
                    session.ready = True
                    print(f"repo2desktop: display :{self.display} is ready "
                          f"{time.monotonic() - began:.2f} s after the request", flush=True)
                elif time.monotonic() - began > 60:
                    self._fail(RuntimeStartError("x-session", "no RFB answer within 60 s", log_tail(
                        os.path.join(session.session.log_dir, "x-session.log"))), programs)
            if failure is None and self.status.get("state") != "failed":
                self.status = {"state": "ready" if session.ready else "starting", "programs": programs}
            self._stopping.wait(0.05 if not session.ready else 1.0)

    def _answers(self) -> bool:
        """*Our* VNC server answers: it accepts the session's own password (or offers no
        authentication on TigerVNC's private socket with vnc.auth none), as `up` checks."""
        try:
            probe.rfb_authenticate(self.target, self.session.password, path=None, timeout=0.5)
            return True
        except OSError:
            return False

    def public_status(self) -> Dict:
        status = dict(self.status)
        if status["state"] == "ready" and self.session.password:
            status["password"] = self.session.password
        return status

    async def wait(self, seconds: float) -> Dict:
        deadline = time.monotonic() + seconds
        while self.status["state"] == "starting" and time.monotonic() < deadline:
            await asyncio.sleep(0.03)
        return self.public_status()

    def stop(self) -> None:
        """Stop the desktop and every process it started (within about a second)."""
        self._stopping.set()
        if not self._stopped.acquire(blocking=False):
            return  # stopped (or stopping) already
        if self._thread is not None:
            self.session.stop(timeout=2.0)
        if os.path.lexists(self.vnc_socket):
            os.unlink(self.vnc_socket)


def render_page(config: DesktopConfig, module_query: str = "", template=None) -> str:
    """The page; MODULE_QUERY is appended to its module's URL (the XSRF token, see below)."""
    template = template or _environment().get_template("desktop.html.j2")
    return template.render(config=config, module_query=module_query,
                           settings={"path": "websockify", "resize": config.novnc.resize,
                                     "reconnect": "1", "reconnect_delay": "1000",
                                     "audio": config.audio})


def install_handlers(web_app, base_url: str, desktop: DirectDesktop) -> None:
    """Add the page, its module, its status and its websocket to the Jupyter server."""
    from jupyter_server.base.handlers import JupyterHandler
    from jupyter_server.utils import url_path_join
    from tornado import web

    from repo2desktop.jupyter.relay import DesktopSocket

    template = _environment().get_template("desktop.html.j2")
    with open(viewer_files()["desktop.js"], "rb") as f:
        module = f.read()

    class PageHandler(JupyterHandler):
        @web.authenticated
        def get(self):
            # The server's XSRF token (JupyterHub's under the hub, which also sets it as the
            # _xsrf cookie here): JupyterHub takes its login cookie on the page's own requests
            # (the module, session.json) only with it. The script sends the cookie's value
            # with session.json (viewer/desktop.js); the module's URL carries it.
            token = self.xsrf_token
            token = token.decode() if isinstance(token, bytes) else token
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Cache-Control", "no-store")
            self.finish(render_page(desktop.config, f"?_xsrf={quote(token, safe='')}", template))
            # After the page is on its way: the start's first steps hold the interpreter.
            desktop.ensure_started()

    class ModuleHandler(JupyterHandler):
        @web.authenticated
        def get(self):
            self.set_header("Content-Type", "text/javascript; charset=utf-8")
            # Private: behind the login. The bundle changes only with the package.
            self.set_header("Cache-Control", "private, max-age=3600")
            self.finish(module)

    class StatusHandler(JupyterHandler):
        @web.authenticated
        async def get(self):
            desktop.ensure_started()
            try:
                wait = min(max(float(self.get_argument("wait", "0")), 0.0), 30.0)
            except ValueError:
                wait = 0.0
            status = await desktop.wait(wait)
            self.set_header("Content-Type", "application/json")
            self.set_header("Cache-Control", "no-store")
            self.finish(json.dumps(status))

    class AddSlashHandler(JupyterHandler):
        @web.authenticated
        def get(self):
            query = f"?{self.request.query}" if self.request.query else ""
            self.redirect(url_path_join(self.base_url, "desktop/") + query)

    prefix = url_path_join(base_url, "desktop")
    # Every handler of the page, in one list: <base>/desktop/NAME -> handler.
    web_app.add_handlers(".*$", [
        (prefix, AddSlashHandler),
        (prefix + "/", PageHandler),
        (prefix + "/desktop.js", ModuleHandler),
        (prefix + "/session.json", StatusHandler),
        (prefix + "/websockify", DesktopSocket, {"desktop": desktop}),
        *audio.handlers(prefix + "/", desktop),
        *upload.handlers(prefix + "/"),  # upload: files into ~/Desktop
    ])
    extras.install(web_app, desktop)
