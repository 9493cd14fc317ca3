"""A per-session X authority file, so that only the session's own user can use its display.

Without `-auth`, an X server lets any local user connect through /tmp/.X11-unix/XN and read
or drive the desktop, bypassing both the Jupyter token and the VNC password. The file is
written in Xauthority's binary format (what `xauth add` writes), so no xauth binary is needed:
one MIT-MAGIC-COOKIE-1 entry for display N on any host (FamilyWild).
"""
from __future__ import annotations

import os
import secrets
import struct

FAMILY_WILD = 0xFFFF
PROTOCOL = b"MIT-MAGIC-COOKIE-1"


def _field(data: bytes) -> bytes:
    return struct.pack("!H", len(data)) + data


def entry(display: int, cookie: bytes) -> bytes:
    return (struct.pack("!H", FAMILY_WILD) + _field(b"") + _field(str(display).encode())
            + _field(PROTOCOL) + _field(cookie))


def write_xauthority(path: str, display: int) -> None:
    """Create PATH (mode 0600) with a fresh random cookie for DISPLAY; replace any old file."""
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(entry(display, secrets.token_bytes(16)))
    os.replace(tmp, path)
