"""Pick display numbers and ports that no other session on this host is using.

Two users running `repo2desktop up` on one host must not clash: an X display is taken when
its socket or lock file exists (whoever owns it), a port when it cannot be bound.
"""
from __future__ import annotations

import os
import socket

from ..render import VNC_BASE_PORT


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def display_is_free(number: int, needs_vnc_port: bool) -> bool:
    if os.path.exists(f"/tmp/.X11-unix/X{number}") or os.path.exists(f"/tmp/.X{number}-lock"):
        return False
    return not needs_vnc_port or port_is_free(VNC_BASE_PORT + number)


def free_display(start: int = 1, needs_vnc_port: bool = True, limit: int = 200) -> int:
    for number in range(start, start + limit):
        if display_is_free(number, needs_vnc_port):
            return number
    raise RuntimeError(f"no free X display between :{start} and :{start + limit - 1}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
