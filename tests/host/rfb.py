"""A tiny RFB client over websockify's websocket, enough to probe authentication."""
from __future__ import annotations

import struct

import websocket  # websocket-client


class RfbOverWebsocket:
    def __init__(self, url: str, header=None):
        self.ws = websocket.create_connection(url, subprotocols=["binary"], timeout=5, header=header)
        self.buffer = b""

    def read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            frame = self.ws.recv()
            self.buffer += frame if isinstance(frame, bytes) else frame.encode("latin-1")
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def send(self, data: bytes) -> None:
        self.ws.send_binary(data)

    def security_types(self) -> list:
        """Do the version exchange (3.8) and return the security types the server offers."""
        greeting = self.read(12)
        assert greeting.startswith(b"RFB 003."), greeting
        self.send(b"RFB 003.008\n")
        count = self.read(1)[0]
        if count == 0:
            length = struct.unpack("!I", self.read(4))[0]
            raise ConnectionError(self.read(length).decode(errors="replace"))
        return list(self.read(count))

    def try_vnc_auth(self, response: bytes = b"\0" * 16) -> int:
        """Choose VNC authentication, answer the challenge with RESPONSE; return SecurityResult."""
        self.send(bytes([2]))
        self.read(16)  # the challenge
        self.send(response)
        return struct.unpack("!I", self.read(4))[0]

    def try_none(self) -> int:
        self.send(bytes([1]))
        return struct.unpack("!I", self.read(4))[0]

    def close(self) -> None:
        self.ws.close()
