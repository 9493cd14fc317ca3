"""runtime/rfbclientstream.py: the person's input found in a client's RFB stream, whatever the
pieces it arrives in; what the viewer sends by itself is not input; a stream whose lengths the
client side cannot tell stops being parsed, with the reason."""
from __future__ import annotations

import random
import struct

import pytest

from repo2desktop.runtime.rfbclientstream import ClientStream

# The client's half of the handshakes the page's relay sees: TigerVNC on its private socket
# (security None), TightVNC 1.3 (it offers VNC authentication first, noVNC takes it).
HANDSHAKE_NONE = b"RFB 003.008\n" + bytes([1]) + bytes([1])
HANDSHAKE_VNC_AUTH = b"RFB 003.008\n" + bytes([2]) + bytes(range(16)) + bytes([1])


def pixel_format() -> bytes:
    return bytes([0, 0, 0, 0, 32, 24, 0, 1]) + struct.pack(">HHHBBB", 255, 255, 255, 0, 8, 16) + bytes(3)


def encodings(*values: int) -> bytes:
    return struct.pack(">BBH", 2, 0, len(values)) + struct.pack(f">{len(values)}i", *values)


def update_request(incremental: int = 1) -> bytes:
    return struct.pack(">BBHHHH", 3, incremental, 0, 0, 1280, 800)


def key(keysym: int = 0x61, down: int = 1) -> bytes:
    return struct.pack(">BBHI", 4, down, 0, keysym)


def pointer(x: int = 10, y: int = 20, mask: int = 0) -> bytes:
    return struct.pack(">BBHH", 5, mask, x, y)


def cut_text(text: bytes) -> bytes:
    return struct.pack(">B3xI", 6, len(text)) + text


def extended_clipboard(flags: int, payload: bytes = b"") -> bytes:
    return struct.pack(">B3xiI", 6, -(4 + len(payload)), flags) + payload


def continuous_updates() -> bytes:
    return struct.pack(">BBHHHH", 150, 1, 0, 0, 1280, 800)


def fence(payload: bytes = b"ab") -> bytes:
    return struct.pack(">B3xIB", 248, 1 << 31, len(payload)) + payload


def desktop_size(width: int = 1000, height: int = 700) -> bytes:
    return struct.pack(">BxHHBx", 251, width, height, 1) + struct.pack(">IHHHHI", 0, 0, 0, width, height, 0)


def qemu_key() -> bytes:
    return struct.pack(">BBHII", 255, 0, 1, 0x61, 30)


def qemu_audio(operation: int) -> bytes:
    head = struct.pack(">BBH", 255, 1, operation)
    return head + (struct.pack(">BBI", 3, 2, 44100) if operation == 2 else b"")


# What noVNC 1.7 sends by itself after the handshake and while the screen changes.
VIEWER_ALONE = (pixel_format() + encodings(7, 16, 5, 0, -223, -308, -312, -313, -316, -1063131698)
                + update_request(0) + continuous_updates() + fence() + desktop_size()
                + extended_clipboard(0x01000000 | 1, struct.pack(">I", 1 << 20))  # caps
                + extended_clipboard(0x02000000 | 1)  # request (the server announced text)
                + qemu_audio(2) + qemu_audio(0) + update_request() * 5)


def pieces(data: bytes, seed: int):
    rng = random.Random(seed)
    at = 0
    while at < len(data):
        size = rng.randint(1, 9)
        yield data[at:at + size]
        at += size


def count(data: bytes, split=None) -> tuple:
    stream = ClientStream()
    chunks = [data] if split is None else (pieces(data, split) if split != "bytes" else
                                           [data[i:i + 1] for i in range(len(data))])
    return sum(stream.feed(chunk) for chunk in chunks), stream


@pytest.mark.parametrize("split", [None, "bytes", 1, 2, 3])
@pytest.mark.parametrize("handshake", [HANDSHAKE_NONE, HANDSHAKE_VNC_AUTH])
def test_the_viewer_alone_is_no_input_and_each_key_and_pointer_event_is(handshake, split):
    found, stream = count(handshake + VIEWER_ALONE, split)
    assert (found, stream.broken, stream.phase) == (0, None, "messages")

    person = key() + update_request() + pointer() + key(down=0) + qemu_key() + pointer(mask=1)
    found, stream = count(handshake + VIEWER_ALONE + person + VIEWER_ALONE, split)
    assert (found, stream.broken) == (5, None)


def test_text_the_person_gave_the_browser_is_input_the_clipboards_own_answers_are_not():
    found, stream = count(HANDSHAKE_NONE + cut_text("é".encode("latin-1")) + extended_clipboard(0x08000000 | 1)
                          + extended_clipboard(0x10000000 | 1, b"\x00\x00\x00\x08zlibdata"))
    assert (found, stream.broken) == (2, None)


def test_a_long_cut_text_is_passed_over_not_kept():
    stream = ClientStream()
    stream.feed(HANDSHAKE_NONE)
    message = cut_text(b"x" * 1_000_000)
    assert stream.feed(message[:100]) == 1
    for at in range(100, len(message), 65536):
        assert stream.feed(message[at:at + 65536]) == 0
        assert len(stream._head) <= 12
    assert stream.feed(key()) == 1


def test_a_pointer_event_with_the_8th_button_is_6_bytes_unless_extended_buttons_were_offered():
    plain = HANDSHAKE_NONE + encodings(7, 0) + pointer(mask=0x80) + key()
    assert count(plain)[0] == 2
    found, stream = count(HANDSHAKE_NONE + encodings(7, -316) + pointer() + pointer(mask=0x81) + b"\x01" + key())
    assert found == 1 and "ExtendedMouseButtons" in stream.broken


@pytest.mark.parametrize("data, reason", [
    (HANDSHAKE_NONE + key() + bytes([99]) + key(), "client message type 99"),
    (HANDSHAKE_NONE + struct.pack(">BBH", 255, 1, 7) + key(), "QEMU client message 1 operation 0007"),
    (b"RFB 003.003\n" + bytes(16) + bytes([1]) + key(), "RFB version 003.003"),
    (b"RFB 003.008\n" + bytes([16]) + bytes(4) + key(), "security type 16"),
    (b"GET / HTTP/1.1\r\n" + key(), "not an RFB ProtocolVersion"),
])
def test_what_the_client_side_cannot_measure_stops_the_parse_with_the_reason(data, reason):
    found, stream = count(data, "bytes")
    assert reason in stream.broken
    assert found == (1 if data.startswith(HANDSHAKE_NONE + key()) else 0)
    assert stream.feed(key() * 3) == 0
