"""The client side of RFB through a websocket (websockify, or jupyter-server-proxy's relay),
as far as a readiness check needs it: the HTTP upgrade, binary frames both ways, and the VNC
server's greeting.

Used by the session's own probe (runtime/probe.py, over a unix socket or loopback TCP) and by
`serve`'s check of a pooled container (serve/readiness.py, over HTTP to the container).
Standard library only; the caller opens and closes the socket.
"""
from __future__ import annotations

import base64
import os
import re
import socket
import struct
from typing import Dict, Optional

# What a VNC server that accepts us sends first, and nothing more before our answer (a server
# that refuses us, e.g. TigerVNC's blacklist, sends "RFB 003.003\n" and a reason at once).
GREETING = re.compile(r"RFB 003\.00[3-8]\n")


class WebsocketStream:
    """The server side of an open websocket, read as frames or as a byte stream."""

    def __init__(self, sock: socket.socket, buffered: bytes = b""):
        self.sock = sock
        self._buffered = buffered  # raw bytes after the upgrade response, not yet framed
        self._data = b""  # payload bytes not yet read

    def _take(self, n: int) -> bytes:
        while len(self._buffered) < n:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the websocket closed during the RFB handshake")
            self._buffered += chunk
        out, self._buffered = self._buffered[:n], self._buffered[n:]
        return out

    def frame(self) -> bytes:
        """The payload of the next frame (a close frame raises ConnectionError)."""
        first, second = self._take(2)
        opcode, length = first & 0x0F, second & 0x7F
        if opcode == 0x8:
            raise ConnectionError("the websocket was closed: the VNC server is not answering")
        if length == 126:
            length = struct.unpack("!H", self._take(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._take(8))[0]
        return self._take(length)

    def read(self, n: int) -> bytes:
        """Exactly N payload bytes, across frames."""
        while len(self._data) < n:
            self._data += self.frame()
        out, self._data = self._data[:n], self._data[n:]
        return out

    def send(self, payload: bytes) -> None:
        """PAYLOAD as one binary frame; client frames are masked (RFC 6455 5.3)."""
        mask = os.urandom(4)
        header = bytes([0x82])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        else:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def open_websocket(sock: socket.socket, path: str, host: str = "localhost",
                   headers: Optional[Dict[str, str]] = None) -> WebsocketStream:
    """Upgrade the connection SOCK to a websocket at PATH; ConnectionError unless 101."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
             "Sec-WebSocket-Protocol: binary"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("the connection closed during the websocket upgrade")
        response += chunk
    head, _, rest = response.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    if " 101 " not in status + " ":
        raise ConnectionError(f"websocket upgrade refused: {status}")
    return WebsocketStream(sock, rest)


def greeting(stream: WebsocketStream) -> str:
    """The VNC server's greeting ("RFB 003.008"), the first frame on STREAM; ConnectionError
    when that frame is anything else (a refusal with its reason, not a VNC server)."""
    text = stream.frame().decode("latin-1")
    if not GREETING.fullmatch(text):
        raise ConnectionError(f"not a plain RFB greeting: {text[:40]!r}")
    return text.strip()
