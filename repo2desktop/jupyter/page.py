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

import atexit
import json
import os
import signal
import threading
from urllib.parse import quote

from repo2desktop.config.model import DesktopConfig
from repo2desktop.jupyter import audio, extras, upload
from repo2desktop.render import _environment
from repo2desktop.resources import viewer_files
from repo2desktop.runtime.runner import Runner, needs_websockify
from repo2desktop.runtime.session import DesktopSession
from repo2desktop.viewer import page as viewer_page


def applies(config: DesktopConfig) -> bool:
    """True when the desktop needs nothing the fast path leaves out."""
    return not needs_websockify(config)


class DirectDesktop(Runner):
    """The Jupyter server's desktop: runtime/runner.py's loop in a thread of the server (no
    session process), stopped with the server."""

    def __init__(self, config: DesktopConfig, display: int, xauthority: str, private_dir: str,
                 lock_holder: int = 0):
        # LOCK_HOLDER: the process named by the X lock that reserves the display (this
        # server, server_desktop.py); the session hands it over just before the X server starts.
        session = DesktopSession(config, listen="", display=display, xauthority=xauthority,
                                 display_lock_holder=lock_holder)
        # The VNC server's socket as a fixed path in the server's private folder, known before
        # the desktop starts (a link into the session's runtime folder).
        super().__init__(config, session, vnc_link=os.path.join(private_dir, "vnc.sock"))
        self.private_dir = private_dir
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


def render_page(config: DesktopConfig, module_query: str = "", template=None) -> str:
    """The page; MODULE_QUERY is appended to its module's URL (the XSRF token, see below)."""
    return viewer_page.render_page(config, module_query, upload="upload", template=template)


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
