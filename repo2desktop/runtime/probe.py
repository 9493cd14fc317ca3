"""Ask the running desktop whether it really answers.

- ``rfb_version``: an RFB handshake *through websockify* (HTTP upgrade, then the server's
  first websocket frame must carry "RFB 003.00x"), over a unix socket or loopback TCP.
- ``rfb_authenticate``: the same, then a full VNC authentication with the session's own
  password, so that "ready" means *our* VNC server answered, not one that another session
  started on the same display or port.
- ``program_states``: supervisord's view of every program, over its private XML-RPC socket.
"""
from __future__ import annotations

import http.client
import os
import socket
import xmlrpc.client
from typing import Dict, List, Optional

from repo2desktop.runtime import rfb


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
        return rfb.greeting(rfb.open_websocket(sock, path, headers=headers))


class AuthenticationFailed(ConnectionError):
    """A VNC server answered but did not accept this session's password."""


class _RawStream:
    """The VNC server's own socket, read and written like rfb.WebsocketStream."""

    def __init__(self, sock: socket.socket):
        self._sock = sock

    def read(self, n: int) -> bytes:
        return _read_exact(self._sock, n)

    def send(self, payload: bytes) -> None:
        self._sock.sendall(payload)


def rfb_authenticate(listen: str, password: str, path: Optional[str] = "/websockify",
                     timeout: float = 2.0) -> str:
    """An RFB handshake through websockify up to an accepted SecurityResult.

    With PASSWORD: VNC authentication (DES challenge-response) must succeed. Without one
    (vnc.auth none, TigerVNC on a private socket), security type None must be offered.
    Returns the server's RFB version; raises OSError (AuthenticationFailed if refused).
    PATH None: LISTEN is the VNC server itself (no websockify in between).
    """
    with _connect(listen, timeout) as sock:
        stream = _RawStream(sock) if path is None else rfb.open_websocket(sock, path)
        try:
            greeting, minor, offered = rfb.offered_types(stream)
        except rfb.Refused as e:
            raise AuthenticationFailed(str(e)) from e
        wanted = rfb.VNC_AUTHENTICATION if password else rfb.NONE
        if wanted not in offered:
            raise AuthenticationFailed(f"security type {wanted} not offered (offered {offered})")
        result = rfb.choose(stream, minor, wanted, password)
        if result != 0:
            raise AuthenticationFailed(f"authentication refused: {rfb.reason(stream) if minor == 8 else result}")
        return greeting


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
