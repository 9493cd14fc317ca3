"""The browser's websocket relayed to the desktop's VNC server (TigerVNC's private unix socket,
TightVNC's loopback port), for a tornado WebSocketHandler of any server: the Jupyter server's
(jupyter/relay.py, behind its login) and `repo2desktop up`'s own (runtime/pageserver.py, where
the VNC server's password is the way in). Tornado only: `up` imports no Jupyter server.

A client that comes before the desktop was started (one that skips the page) starts it and is
relayed once it answers; one that cannot be served is closed with the reason (close code 1011,
or 1013 while it is still starting), never left to an unhandled socket error.
"""
from __future__ import annotations

import asyncio
from typing import Optional

from tornado.iostream import StreamClosedError
from tornado.log import app_log
from tornado.websocket import WebSocketClosedError

from repo2desktop.jupyter import idle
from repo2desktop.vncservers import VNC_BASE_PORT
from repo2desktop.runtime.rfbclientstream import ClientStream

# Longer than the desktop's own start limit (runtime/runner.py: 60 s), so a start that
# fails is reported as its failure, not as this wait running out.
START_WAIT = 75.0
# The VNC server restarting under supervisord (it crashed, it was killed) is back within a
# few seconds; a client arriving meanwhile waits rather than failing.
RECONNECT_WAIT = 8.0
CHUNK = 1 << 16
# Close codes (RFC 6455): 1011 the server cannot serve this request, 1013 try again later.
INTERNAL_ERROR, TRY_AGAIN_LATER = 1011, 1013


def _reason(text: str) -> str:
    """A close reason fits a control frame (123 bytes of UTF-8)."""
    return text.encode()[:120].decode(errors="ignore")


class VncRelay:
    """The relay itself, for a tornado WebSocketHandler of any server: the Jupyter server's
    (jupyter/relay.py) and `repo2desktop up`'s own (runtime/pageserver.py). DESKTOP is the
    desktop's runner (runtime/runner.py). Put it before WebSocketHandler among the bases."""

    def initialize(self, desktop) -> None:
        self.desktop = desktop
        self._writer: Optional[asyncio.StreamWriter] = None
        self._pump: Optional[asyncio.Task] = None
        self._stream = ClientStream()

    def select_subprotocol(self, subprotocols):
        # noVNC asks for "binary"; websockify's other protocol ("base64") is long gone.
        return "binary" if "binary" in subprotocols else None

    async def open(self, *args, **kwargs):
        await self.relay()

    async def relay(self) -> None:
        """Wait for the desktop, then carry bytes both ways until either side closes."""
        self.desktop.ensure_started()
        status = await self.desktop.wait(START_WAIT)
        if status["state"] == "failed":
            failed = status.get("failed", {})
            self.close(INTERNAL_ERROR, _reason(f"the desktop failed to start: {failed.get('program', '')}: "
                                               f"{failed.get('reason', '')}"))
            return
        if status["state"] != "ready":
            self.close(TRY_AGAIN_LATER, _reason(f"the desktop is still starting after {START_WAIT:.0f} s"))
            return
        try:
            reader, self._writer = await self._connect()
        except OSError as e:
            getattr(self, "log", app_log).warning("repo2desktop: the desktop's VNC server does not answer: %s", e)
            self.close(INTERNAL_ERROR, _reason(f"the desktop's VNC server does not answer ({e.strerror or e})"))
            return
        if self.ws_connection is None:  # the client left while we waited
            self._writer.close()
            return
        self._pump = asyncio.ensure_future(self._to_browser(reader))

    async def _connect(self):
        deadline = asyncio.get_running_loop().time() + RECONNECT_WAIT
        while True:
            try:
                if self.desktop.config.vnc.uses_unix_socket:
                    return await asyncio.open_unix_connection(self.desktop.vnc_socket)
                return await asyncio.open_connection("127.0.0.1", VNC_BASE_PORT + self.desktop.display)
            except OSError:
                if asyncio.get_running_loop().time() > deadline or self.desktop.status["state"] == "failed":
                    raise
                await asyncio.sleep(0.1)

    async def _to_browser(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    break
                await self.write_message(data, binary=True)  # waits while the browser is slow
        except (WebSocketClosedError, StreamClosedError, OSError):
            pass
        finally:
            self.close()

    async def on_message(self, message):
        if self._writer is None or self._writer.is_closing():
            return
        data = message.encode() if isinstance(message, str) else message
        self._record_activity(data)
        self._writer.write(data)
        try:
            await self._writer.drain()
        except OSError:
            self.close()

    def _record_activity(self, data: bytes) -> None:
        """Keys, the mouse and text the person pasted count as the server's activity (what the
        idle culler reads, under idle.py's key: on TightVNC, which cannot tell its idle time,
        this is the only input Jupyter sees); frame requests and the viewer's other messages do
        not, so an open tab showing a clock is idle. A stream this relay cannot follow (another
        client, another security type) counts every message, as before, said once per connection.
        (Under `up` nobody reads it: harmless.)"""
        was_broken = self._stream.broken
        found = self._stream.feed(data)
        if self._stream.broken and not was_broken:
            getattr(self, "log", app_log).warning(
                "repo2desktop: the desktop's websocket speaks RFB this relay cannot follow (%s): "
                "every message it sends counts as activity", self._stream.broken)
        if found or self._stream.broken:
            idle.record_input(self.settings, 0.0)

    def on_close(self) -> None:
        if getattr(self, "ping_callback", None) is not None:
            self.ping_callback.stop()
        if self._pump is not None:
            self._pump.cancel()
        if self._writer is not None:
            self._writer.close()
