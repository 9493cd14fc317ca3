"""What a person does, read from the bytes an RFB client (the page's noVNC) sends its server.

The page's relay (jupyter/relay.py) counts the desktop as used only when this says so: a key
(KeyEvent, QEMU's extended key event), the mouse (PointerEvent) or text the person gave the
browser (ClientCutText with text, the extended clipboard's "notify"). What the viewer sends by
itself (frame requests, encodings, fences, resizes, clipboard capabilities and answers,
audio control) is not a person.

Pure and incremental: ``feed`` takes the stream in any pieces (websocket messages need not
match RFB messages), keeps at most one message header (a few bytes; long cut texts are skipped,
never buffered), and returns how many input messages it recognised in the piece. The stream starts
with the client's half of the handshake: ProtocolVersion (12 bytes), with 3.7/3.8 the chosen
security type (1 byte), its answer (None: nothing; VNC authentication: 16 bytes), ClientInit
(1 byte). Where the client's bytes alone cannot tell a length (RFB 3.3, where the server picks
the security type; other security types; an unknown message type; a pointer event with the
8th button bit while the client offered ExtendedMouseButtons, which is 6 or 7 bytes depending
on the server's answer), ``broken`` says why and nothing more is parsed: the caller counts
every message again, as before this module.
"""
from __future__ import annotations

import struct
from typing import Optional, Tuple

# Client message types (RFB 3.8 and the community extensions noVNC 1.7 sends).
SET_PIXEL_FORMAT, SET_ENCODINGS, FRAMEBUFFER_UPDATE_REQUEST = 0, 2, 3
KEY_EVENT, POINTER_EVENT, CLIENT_CUT_TEXT = 4, 5, 6
ENABLE_CONTINUOUS_UPDATES, CLIENT_FENCE, XVP, SET_DESKTOP_SIZE, QEMU = 150, 248, 250, 251, 255
QEMU_EXTENDED_KEY, QEMU_AUDIO = 0, 1
EXTENDED_MOUSE_BUTTONS = -316  # pseudo-encoding: pointer events may carry a 7th byte
# Extended clipboard (negative ClientCutText length): the action bits of its flags word.
CLIPBOARD_NOTIFY = 0x08000000
SECURITY_NONE, SECURITY_VNC_AUTH = 1, 2

_FIXED = {SET_PIXEL_FORMAT: 20, FRAMEBUFFER_UPDATE_REQUEST: 10, KEY_EVENT: 8,
          ENABLE_CONTINUOUS_UPDATES: 10, XVP: 4}

# (bytes needed to tell, None) or (whole length, is it input?)
_Measure = Tuple[int, Optional[bool]]


class ClientStream:
    """One client's stream, from its first byte: feed it every byte the client sends, in order."""

    def __init__(self) -> None:
        self.phase = "version"
        self.broken: Optional[str] = None
        self._head = bytearray()  # the start of the message being read
        self._skip = 0            # bytes of the current message still to pass over
        self._extended_mouse_offered = False

    def feed(self, data: bytes) -> int:
        """How many input messages DATA completes the head of (a key or pointer event whole, a
        cut text's first 8 or 12 bytes); 0 once broken."""
        found = 0
        at, end = 0, len(data)
        while self.broken is None:
            if self._skip:
                passed = min(self._skip, end - at)
                if not passed:
                    break
                self._skip -= passed
                at += passed
                continue
            need, is_input = self._measure(bytes(self._head))
            if self.broken is not None:
                break
            if is_input is None:  # the head is too short to tell the length yet
                if at == end:
                    break
                take = min(need - len(self._head), end - at)
                self._head += data[at:at + take]
                at += take
                continue
            found += is_input
            self._skip = need - len(self._head)
            self._advance(bytes(self._head))
            self._head.clear()
        return found

    # -- lengths --------------------------------------------------------------------------
    def _measure(self, head: bytes) -> _Measure:
        if self.phase == "version":
            return (12, False) if len(head) >= 12 else (12, None)
        if self.phase == "security":
            return (1, False) if head else (1, None)
        if self.phase == "authentication":
            return (16, False) if len(head) >= 16 else (16, None)
        if self.phase == "init":
            return (1, False) if head else (1, None)
        return self._message(head)

    def _message(self, head: bytes) -> _Measure:
        if not head:
            return 1, None
        kind = head[0]
        if kind in _FIXED:
            size = _FIXED[kind]
            return (size, kind == KEY_EVENT) if len(head) >= size else (size, None)
        if kind == POINTER_EVENT:
            if len(head) < 2:
                return 2, None
            if head[1] & 0x80 and self._extended_mouse_offered:
                self._break("a pointer event with the 8th button bit after ExtendedMouseButtons "
                            "was offered (6 or 7 bytes: only the server's answer tells)")
                return 0, False
            return (6, True) if len(head) >= 6 else (6, None)
        if kind == SET_ENCODINGS:
            if len(head) < 4:
                return 4, None
            size = 4 + 4 * struct.unpack_from(">H", head, 2)[0]  # read whole: at most 256 KiB
            return (size, False) if len(head) >= size else (size, None)
        if kind == CLIENT_CUT_TEXT:
            if len(head) < 8:
                return 8, None
            length = struct.unpack_from(">i", head, 4)[0]
            if length >= 0:
                return 8 + length, True
            if len(head) < 12:  # extended clipboard: a flags word first
                return 12, None
            flags = struct.unpack_from(">I", head, 8)[0]
            return 8 - length, bool(flags & CLIPBOARD_NOTIFY)
        if kind == CLIENT_FENCE:
            if len(head) < 9:
                return 9, None
            return 9 + head[8], False
        if kind == SET_DESKTOP_SIZE:
            if len(head) < 8:
                return 8, None
            return 8 + 16 * head[6], False
        if kind == QEMU:
            if len(head) < 2:
                return 2, None
            if head[1] == QEMU_EXTENDED_KEY:
                return (12, True) if len(head) >= 12 else (12, None)
            if head[1] == QEMU_AUDIO:
                if len(head) < 4:
                    return 4, None
                operation = struct.unpack_from(">H", head, 2)[0]
                if operation in (0, 1):  # enable, disable
                    return 4, False
                if operation == 2:  # set format
                    return (10, False) if len(head) >= 10 else (10, None)
            self._break(f"QEMU client message {head[1]}" + (f" operation {head[2:4].hex()}" if len(head) >= 4 else ""))
            return 0, False
        self._break(f"client message type {kind}")
        return 0, False

    # -- phases ---------------------------------------------------------------------------
    def _advance(self, head: bytes) -> None:
        """HEAD (the first bytes of the message just measured) moves the handshake on."""
        if self.phase == "version":
            if head[:4] != b"RFB " or head[11:12] != b"\n":
                self._break(f"not an RFB ProtocolVersion: {head[:12]!r}")
            elif head[4:11] in (b"003.007", b"003.008"):
                self.phase = "security"
            else:  # 3.3: the server picks the security type, which the client side never shows
                self._break(f"RFB version {head[4:11].decode(errors='replace')}")
        elif self.phase == "security":
            if head[0] == SECURITY_NONE:
                self.phase = "init"
            elif head[0] == SECURITY_VNC_AUTH:
                self.phase = "authentication"
            else:
                self._break(f"security type {head[0]}")
        elif self.phase == "authentication":
            self.phase = "init"
        elif self.phase == "init":
            self.phase = "messages"
        elif head[0] == SET_ENCODINGS:  # the last list sent is the one in force
            count = struct.unpack_from(">H", head, 2)[0]
            self._extended_mouse_offered = EXTENDED_MOUSE_BUTTONS in struct.unpack_from(f">{count}i", head, 4)

    def _break(self, reason: str) -> None:
        self.broken = reason
