"""runtime/rfb.py, the websocket side of every readiness check (the session's probe and
`serve`'s), against a scripted server on the other end of a socket pair."""
from __future__ import annotations

import socket
import struct
import threading
from typing import List

import pytest

from repo2desktop.runtime import probe, rfb
from repo2desktop.runtime.vncpasswd import challenge_response

UPGRADED = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"


def frame(payload: bytes, opcode: int = 0x2) -> bytes:
    """A server frame (unmasked) carrying PAYLOAD."""
    if len(payload) < 126:
        return bytes([0x80 | opcode, len(payload)]) + payload
    return bytes([0x80 | opcode, 126]) + struct.pack("!H", len(payload)) + payload


def unmask(data: bytes) -> bytes:
    """The payload of one masked client frame."""
    assert data[0] == 0x82 and data[1] & 0x80, data[:2]
    length, at = data[1] & 0x7F, 2
    if length == 126:
        length, at = struct.unpack("!H", data[2:4])[0], 4
    mask = data[at:at + 4]
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data[at + 4:at + 4 + length]))


class Server:
    """Reads the upgrade request, sends REPLY and nothing more; keeps what the client sent."""

    def __init__(self, reply: bytes):
        self.client, self._server = socket.socketpair()
        self.client.settimeout(5)
        self.request = b""
        self.received: List[bytes] = []
        self._thread = threading.Thread(target=self._run, args=(reply,), daemon=True)
        self._thread.start()

    def _run(self, reply: bytes) -> None:
        with self._server:
            while b"\r\n\r\n" not in self.request:
                self.request += self._server.recv(4096)
            self._server.sendall(reply)
            self._server.shutdown(socket.SHUT_WR)  # all it will say: the client sees the end
            self._server.settimeout(2)
            try:
                while chunk := self._server.recv(4096):
                    self.received.append(chunk)
            except OSError:
                pass

    def close(self) -> bytes:
        self.client.close()
        self._thread.join(5)
        return b"".join(self.received)


def test_greeting_through_the_upgraded_websocket():
    server = Server(UPGRADED + frame(b"RFB 003.008\n"))
    stream = rfb.open_websocket(server.client, "/user/a/desktop/websockify", host="127.0.0.1:8888",
                                headers={"Authorization": "token abc"})
    assert rfb.greeting(stream) == "RFB 003.008"
    stream.send(b"RFB 003.008\n")
    assert unmask(server.close()) == b"RFB 003.008\n"
    lines = server.request.decode().split("\r\n")
    assert lines[0] == "GET /user/a/desktop/websockify HTTP/1.1"
    assert {"Host: 127.0.0.1:8888", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: binary",
            "Authorization: token abc"} <= set(lines)


def test_read_spans_frames_and_long_frames():
    payload = bytes(range(256)) * 2
    server = Server(UPGRADED + frame(b"RFB 0") + frame(b"03.008\n") + frame(payload))
    stream = rfb.open_websocket(server.client, "/websockify")
    assert stream.read(12) == b"RFB 003.008\n"
    assert stream.read(len(payload)) == payload
    stream.send(payload)  # a masked frame with a 16-bit length
    assert unmask(server.close()) == payload


@pytest.mark.parametrize("reply, message", [
    pytest.param(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
                 "websocket upgrade refused: HTTP/1.1 403 Forbidden", id="refused-upgrade"),
    pytest.param(b"HTTP/1.1 101 Switch", "the connection closed during the websocket upgrade",
                 id="closed-in-upgrade"),
    pytest.param(UPGRADED + frame(b"", opcode=0x8),
                 "the websocket was closed: the VNC server is not answering", id="close-frame"),
    # TigerVNC's blacklist: a 3.3 greeting with its reason in the same frame.
    pytest.param(UPGRADED + frame(b"RFB 003.003\n\x00\x00\x00\x00\x00\x00\x00\x0ftoo many tries"),
                 "not a plain RFB greeting: 'RFB 003.003\\n", id="refusal-with-reason"),
    pytest.param(UPGRADED + frame(b"SSH-2.0-OpenSSH\n"), "not a plain RFB greeting: 'SSH-2.0",
                 id="not-vnc"),
    pytest.param(UPGRADED + bytes([0x82, 12]) + b"RFB 003.0", "the websocket closed during the RFB handshake",
                 id="cut-short"),
])
def test_anything_but_a_greeting_is_a_connection_error(reply, message):
    server = Server(reply)
    with pytest.raises(ConnectionError) as info:
        rfb.greeting(rfb.open_websocket(server.client, "/websockify"))
    server.close()
    assert str(info.value).startswith(message), str(info.value)


def test_probe_and_serve_share_it(tmp_path):
    """probe.rfb_version over a unix socket: the same upgrade and greeting."""
    path = str(tmp_path / "websockify.sock")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(path)
        listener.listen(1)

        def serve():
            conn, _ = listener.accept()
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(4096)
                conn.sendall(UPGRADED + frame(b"RFB 003.007\n"))
                conn.recv(1)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        assert probe.rfb_version(f"unix:{path}", timeout=2) == "RFB 003.007"
        thread.join(5)


def client_frames(data: bytes) -> List[bytes]:
    """The payloads of the masked client frames in DATA, in order."""
    payloads = []
    while data:
        length = data[1] & 0x7F
        size = 2 + (2 if length == 126 else 0) + 4 + (struct.unpack("!H", data[2:4])[0] if length == 126 else length)
        payloads.append(unmask(data[:size]))
        data = data[size:]
    return payloads


def test_log_in_answers_the_challenge_with_the_password():
    """The one RFB client of the code and the tests: 3.8, VNC authentication, its DES."""
    challenge = bytes(range(16))
    server = Server(UPGRADED + frame(b"RFB 003.008\n") + frame(bytes([2, 1, 2]))
                    + frame(challenge) + frame(struct.pack("!I", 0)))
    assert rfb.log_in(rfb.open_websocket(server.client, "/websockify"), "secret12") == 0
    sent = client_frames(server.close())
    assert sent == [b"RFB 003.008\n", bytes([2]), challenge_response("secret12", challenge)]


def test_log_in_without_a_password_takes_none():
    server = Server(UPGRADED + frame(b"RFB 003.008\n") + frame(bytes([1, 1])) + frame(struct.pack("!I", 0)))
    assert rfb.log_in(rfb.open_websocket(server.client, "/websockify")) == 0
    assert client_frames(server.close()) == [b"RFB 003.008\n", bytes([1])]


def test_a_3_3_server_picks_the_type_and_sends_no_result_for_none():
    server = Server(UPGRADED + frame(b"RFB 003.003\n") + frame(struct.pack("!I", 1)))
    stream = rfb.open_websocket(server.client, "/websockify")
    assert rfb.offered_types(stream) == ("RFB 003.003", 3, [1])
    assert rfb.choose(stream, 3, rfb.NONE) == 0
    assert client_frames(server.close()) == [b"RFB 003.003\n"]  # no choice sent in 3.3


@pytest.mark.parametrize("version, refusal", [
    (b"RFB 003.008\n", bytes([0])), (b"RFB 003.003\n", struct.pack("!I", 0))])
def test_a_refusal_carries_the_servers_reason(version, refusal):
    server = Server(UPGRADED + frame(version) + frame(refusal + struct.pack("!I", 14) + b"too many tries"))
    with pytest.raises(rfb.Refused, match="^refused: too many tries$"):
        rfb.log_in(rfb.open_websocket(server.client, "/websockify"), "secret12")
    server.close()


def test_a_type_not_offered_is_named():
    server = Server(UPGRADED + frame(b"RFB 003.008\n") + frame(bytes([1, 2])))
    with pytest.raises(ConnectionError, match=r"^security type 1 not offered \(offered \[2\]\)$"):
        rfb.log_in(rfb.open_websocket(server.client, "/websockify"))
    server.close()
