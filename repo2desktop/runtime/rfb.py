"""The client side of RFB through a websocket (websockify, or jupyter-server-proxy's relay),
as far as a readiness check needs it: the HTTP upgrade, binary frames both ways, the VNC
server's greeting and the security handshake (RFB 3.3, 3.7 and 3.8).

Used by the session's own probe (runtime/probe.py, over a unix socket or loopback TCP), by
`serve`'s check of a pooled container (serve/readiness.py, over HTTP to the container), and by
the tests that log in to a desktop. Standard library only (VNC authentication's DES comes from
vncpasswd.py when it is used); the caller opens and closes the socket.
"""
from __future__ import annotations

import base64
import os
import re
import socket
import struct
from typing import Dict, List, Optional, Tuple
from urllib.parse import urlsplit

# What a VNC server that accepts us sends first, and nothing more before our answer (a server
# that refuses us, e.g. TigerVNC's blacklist, sends "RFB 003.003\n" and a reason at once).
GREETING = re.compile(r"RFB 003\.00[3-8]\n")
NONE, VNC_AUTHENTICATION = 1, 2  # security types


class Refused(ConnectionError):
    """The VNC server offered no security type; the message is its reason."""


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

    def close(self) -> None:
        self.sock.close()


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


def open_url(url: str, headers: Optional[Dict[str, str]] = None, timeout: float = 5.0) -> WebsocketStream:
    """A websocket to ws://HOST:PORT/PATH on a new TCP connection (close() closes both)."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
    try:
        return open_websocket(sock, parts.path + (f"?{parts.query}" if parts.query else ""),
                              host=parts.netloc, headers=headers)
    except BaseException:
        sock.close()
        raise


def reason(stream) -> str:
    """The reason string a VNC server sends with a refusal (a length, then the text)."""
    try:
        length = struct.unpack("!I", stream.read(4))[0]
        return stream.read(min(length, 1024)).decode("utf-8", "replace")
    except OSError:
        return ""


def offered_types(stream) -> Tuple[str, int, List[int]]:
    """The version exchange on STREAM (a WebsocketStream, or anything with read and send):
    (the server's greeting, the minor version we answered, the security types it offers).
    Refused when it offers none. In RFB 3.3 the server picks the one type itself."""
    greeting = stream.read(12).decode("latin-1")
    match = re.fullmatch(r"RFB \d{3}\.(\d{3})\n", greeting)
    if not match:
        raise ConnectionError(f"not an RFB greeting: {greeting!r}")
    minor = 8 if int(match.group(1)) >= 8 else (7 if int(match.group(1)) == 7 else 3)
    stream.send(f"RFB 003.00{minor}\n".encode())
    if minor == 3:
        offered = [struct.unpack("!I", stream.read(4))[0]]
    else:
        offered = list(stream.read(stream.read(1)[0]))
    if offered in ([], [0]):
        raise Refused(f"refused: {reason(stream)}")
    return greeting.strip(), minor, offered


def choose(stream, minor: int, kind: int, password: str = "") -> int:
    """Go on with security type KIND (VNC_AUTHENTICATION answers the challenge with
    PASSWORD); the SecurityResult, 0 = accepted (RFB 3.3 and 3.7 send none for NONE: 0)."""
    if minor != 3:
        stream.send(bytes([kind]))
    if kind == VNC_AUTHENTICATION:
        from repo2desktop.runtime.vncpasswd import challenge_response

        stream.send(challenge_response(password, stream.read(16)))
    elif minor != 8:
        return 0
    return struct.unpack("!I", stream.read(4))[0]


def log_in(stream, password: str = "") -> int:
    """The whole handshake: VNC authentication with PASSWORD, or type None without one;
    the SecurityResult (0 = accepted). ConnectionError when that type is not offered."""
    _, minor, offered = offered_types(stream)
    kind = VNC_AUTHENTICATION if password else NONE
    if kind not in offered:
        raise ConnectionError(f"security type {kind} not offered (offered {offered})")
    return choose(stream, minor, kind, password)
