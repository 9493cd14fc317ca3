"""``<base>/desktop/websockify``: the browser's websocket relayed by the Jupyter server itself
to the desktop's VNC server (TigerVNC's private unix socket, TightVNC's loopback port).

The handler is the server's own (WebSocketMixin + JupyterHandler, as Jupyter's terminals):
no login, or a user the server's authorizer refuses, is answered 403 before the upgrade.
The relay itself (waiting for the desktop, both directions, close reasons, the input that
counts as activity) is runtime/vncrelay.py's, shared with `repo2desktop up`'s own server.
"""
from __future__ import annotations

from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.utils import ensure_async
from tornado import web
from tornado.websocket import WebSocketHandler

from repo2desktop.runtime.vncrelay import VncRelay


class DesktopSocket(WebSocketMixin, JupyterHandler, VncRelay, WebSocketHandler):
    """``<base>/desktop/websockify`` of the Jupyter server, behind its login."""
    # A desktop runs anything the user types, as a terminal does: custom authorizers that
    # refuse terminals refuse it too.
    auth_resource = "terminals"
    # No keep-alive pings of our own: through JupyterHub's proxy every frame counts as the
    # server's activity, so pings every 30 s would keep an untouched tab's server from the idle
    # culler forever (websockify's heartbeat did). What the user sends counts (vncrelay.py).
    ping_interval = 0

    @ws_authenticated  # 403 without a login (no redirect: a websocket cannot follow one)
    async def get(self, *args, **kwargs):
        if not await ensure_async(self.authorizer.is_authorized(self, self.current_user, "execute",
                                                                self.auth_resource)):
            raise web.HTTPError(403)
        await ensure_async(super().get(*args, **kwargs))

    async def open(self, *args, **kwargs):
        super().open(*args, **kwargs)  # WebSocketMixin's (the server's ping bookkeeping)
        await self.relay()
