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
        # The server may already have dropped us (a refused client): still free the socket.
        try:
            self.ws.close(timeout=1)
        except Exception:
            pass
        finally:
            self.ws.shutdown()


def vnc_auth_response(password: str, challenge: bytes) -> bytes:
    """RFB's VNC authentication: DES-encrypt the challenge, keyed by the bit-mirrored password."""
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    key = bytes(int(f"{b:08b}"[::-1], 2) for b in password.encode()[:8].ljust(8, b"\0"))
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
    return encryptor.update(challenge) + encryptor.finalize()


def authenticate(client: RfbOverWebsocket, password: str) -> int:
    """Full VNC authentication with PASSWORD; return the SecurityResult (0 = accepted)."""
    offered = client.security_types()
    assert 2 in offered, offered
    client.send(bytes([2]))
    challenge = client.read(16)
    client.send(vnc_auth_response(password, challenge))
    return struct.unpack("!I", client.read(4))[0]
