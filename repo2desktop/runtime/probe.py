"""Ask the running desktop whether it really answers.

- ``rfb_version``: an RFB handshake *through websockify* (HTTP upgrade, then the server's
  first websocket frame must carry "RFB 003.00x"), over a unix socket or loopback TCP.
- ``program_states``: supervisord's view of every program, over its private XML-RPC socket.
"""
from __future__ import annotations

import base64
import http.client
import os
import re
import socket
import struct
import xmlrpc.client
from typing import Dict, List, Optional


def _connect(listen: str, timeout: float) -> socket.socket:
    kind, _, where = listen.partition(":")
    if kind == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(where)
        except OSError:
            sock.close()
            raise
    else:
        sock = socket.create_connection(("127.0.0.1", int(where)), timeout=timeout)
    return sock


def _read_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


def rfb_version(listen: str, path: str = "/websockify", timeout: float = 2.0,
                headers: Optional[Dict[str, str]] = None) -> str:
    """Return the RFB version line the VNC server sends through websockify, or raise OSError."""
    with _connect(listen, timeout) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", "Host: localhost", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
                 "Sec-WebSocket-Protocol: binary"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("websockify closed the connection during the handshake")
            response += chunk
        head, _, rest = response.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0].decode(errors="replace")
        if " 101 " not in status + " ":
            raise ConnectionError(f"websocket upgrade refused: {status}")
        buffered = rest
        def take(n: int) -> bytes:
            nonlocal buffered
            while len(buffered) < n:
                chunk = sock.recv(4096)
                if not chunk:
                    raise ConnectionError("closed before the RFB greeting")
                buffered += chunk
            out, buffered = buffered[:n], buffered[n:]
            return out
        first, second = take(2)
        opcode, length = first & 0x0F, second & 0x7F
        if opcode == 0x8:
            raise ConnectionError("websockify closed the websocket (VNC server not answering)")
        if length == 126:
            length = struct.unpack("!H", take(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", take(8))[0]
        payload = take(length)
        text = payload.decode("latin-1")
        # A server that refuses us (e.g. TigerVNC's blacklist) sends "RFB 003.003\n" and a
        # reason at once; a working one sends exactly the 12-byte greeting and waits.
        if not re.fullmatch(r"RFB \d{3}\.\d{3}\n", text):
            raise ConnectionError(f"not a plain RFB greeting: {text[:40]!r}")
        return text.strip()


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class _UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path: str, timeout: float):
        super().__init__()
        self._path, self._timeout = path, timeout

    def make_connection(self, host):
        # Kept in _connection so that ServerProxy's close() closes the socket.
        connection = _UnixHTTPConnection(self._path, self._timeout)
        self._connection = host, connection
        return connection


def supervisor(runtime_dir: str, timeout: float = 3.0):
    """An XML-RPC proxy for the session's supervisord."""
    transport = _UnixTransport(os.path.join(runtime_dir, "supervisor.sock"), timeout)
    return xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=transport)


def program_states(runtime_dir: str) -> List[dict]:
    """supervisord's getAllProcessInfo(): name, statename, pid, spawnerr, stdout_logfile…"""
    with supervisor(runtime_dir) as proxy:
        return proxy.supervisor.getAllProcessInfo()
