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


def _lock(number: int) -> str:
    return f"/tmp/.X{number}-lock"


def reserve_display(start: int = 1, needs_vnc_port: bool = True, limit: int = 200) -> int:
    """Pick a free display and hold it with an X lock file naming *this* process.

    A Jupyter server decides the display when it starts (to export DISPLAY to kernels) but
    the X server starts on the first visit; the lock keeps a second server from picking the
    same number meanwhile. X servers treat a lock whose process is gone as stale.
    """
    for number in range(start, start + limit):
        if not display_is_free(number, needs_vnc_port):
            continue
        try:
            fd = os.open(_lock(number), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid():10d}\n")  # the X servers' own lock format
        return number
    raise RuntimeError(f"no free X display between :{start} and :{start + limit - 1}")


def release_reservation(number: int, holder: int) -> None:
    """Remove the lock of display NUMBER if HOLDER (our parent) reserved it."""
    try:
        with open(_lock(number)) as f:
            pid = int(f.read().strip() or 0)
        if pid == holder:
            os.unlink(_lock(number))
    except (OSError, ValueError):
        pass
