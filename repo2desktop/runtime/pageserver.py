"""The desktop page served by a small tornado server of its own, where no Jupyter server is:
`repo2desktop up` (loopback TCP) and the session process's failure and error pages (the
private unix socket jupyter-server-proxy reaches).

The same routes as the Jupyter server's page (jupyter/page.py), from the same parts:
``/`` the page (viewer/page.py), ``/desktop.js`` the bundled viewer, ``/session.json?wait=S``
the runner's status, ``/websockify`` the relay to the VNC server (runtime/vncrelay.py)
and, with ``audio: true``, ``/audio`` the desktop's sound (jupyter/audio.py's SoundStream).

Who may use it: there is no login here. The VNC server asks for the session's password, as it
did behind websockify; the sound socket takes the same password in the page's first message
(the page has it from the URL's fragment, which browsers never send, so it reaches no log),
and sends nothing to a page without it. Browsers' own same-origin rule for websockets
(tornado's check_origin) keeps other sites' pages out of both sockets.
"""
from __future__ import annotations

import hmac
import os
from tornado import httpserver, netutil, web, websocket

from repo2desktop.jupyter.audio import SoundStream
from repo2desktop.runtime.vncrelay import VncRelay
from repo2desktop.resources import viewer_files
from repo2desktop.runtime.runner import Runner

STATUS_WAIT_LIMIT = 30.0  # seconds a status request may be held


class _Page(web.RequestHandler):
    def initialize(self, html: str) -> None:
        self.html = html

    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(self.html)


class _Module(web.RequestHandler):
    def get(self) -> None:
        with open(viewer_files()["desktop.js"], "rb") as f:
            module = f.read()
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.set_header("Cache-Control", "max-age=3600")
        self.finish(module)


class _Status(web.RequestHandler):
    def initialize(self, desktop: Runner) -> None:
        self.desktop = desktop

    async def get(self) -> None:
        try:
            wait = min(max(float(self.get_argument("wait", "0")), 0.0), STATUS_WAIT_LIMIT)
        except ValueError:
            wait = 0.0
        # Never the password: anyone on this host can ask a loopback port.
        status = await self.desktop.wait(wait, with_password=False)
        self.set_header("Cache-Control", "no-store")
        self.finish(status)


class _Relay(VncRelay, websocket.WebSocketHandler):
    """The VNC server authenticates (the session's password), as behind websockify."""


class _Sound(SoundStream, websocket.WebSocketHandler):
    def admit(self, hello: dict) -> bool:
        given = hello.get("password")
        wanted = self.desktop.password
        return bool(wanted) and isinstance(given, str) and hmac.compare_digest(given.encode(), wanted.encode())


def application(desktop: Runner, html: str) -> web.Application:
    routes = [
        (r"/(?:index\.html)?", _Page, {"html": html}),
        (r"/desktop\.js", _Module),
        (r"/session\.json", _Status, {"desktop": desktop}),
        (r"/websockify", _Relay, {"desktop": desktop}),
    ]
    if desktop.config.audio:
        routes.append((r"/audio", _Sound, {"desktop": desktop}))
    # No access log: nothing of a request is worth keeping, and nothing secret is in one.
    return web.Application(routes, log_function=lambda handler: None)


def serve(desktop: Runner, html: str, port: int = 0, unix_socket: str = "") -> httpserver.HTTPServer:
    """Listen on 127.0.0.1:PORT or on UNIX_SOCKET (mode 0600) in the running event loop."""
    server = httpserver.HTTPServer(application(desktop, html))
    if unix_socket:
        if os.path.lexists(unix_socket):
            os.unlink(unix_socket)
        server.add_socket(netutil.bind_unix_socket(unix_socket, mode=0o600))
    else:
        server.listen(port, address="127.0.0.1")
    return server
