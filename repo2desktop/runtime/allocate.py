"""Pick display numbers and ports that no other session on this host is using.

Two users (or five `repo2desktop up` started at once) must not clash. A display is taken
when a live process holds its X lock, something answers on its X socket, its VNC port is
bound, or another repo2desktop process holds its *reservation*: an flock() on
/tmp/.repo2desktop-display-N.lock, held by the owner (and its guard) for the session's whole
life, so there is no moment between "picked" and "the X server owns it" when a second
process can pick the same number. The kernel drops an flock when its holders die, and the
lock and socket of a dead X server count as free: nothing a killed process leaves behind
loses a display number.
"""
from __future__ import annotations

import fcntl
import os
import socket
from dataclasses import dataclass
from typing import Optional

from repo2desktop.render import VNC_BASE_PORT
from repo2desktop.runtime.guard import is_alive, release_lock_file, socket_answers, x_lock_path, x_lock_pid, x_socket_path


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ours_or_root(path: str) -> bool:
    try:
        return os.getuid() == 0 or os.stat(path).st_uid == os.getuid()
    except FileNotFoundError:
        return True
    except OSError:
        return False


def display_is_free(number: int, needs_vnc_port: bool) -> bool:
    """No live X server or reservation uses NUMBER (stale files we can remove count as free)."""
    pid = x_lock_pid(number)
    if pid is not None and (pid == 0 or is_alive(pid) or not _ours_or_root(x_lock_path(number))):
        return False
    sock = x_socket_path(number)
    if os.path.lexists(sock) and (socket_answers(sock) or not _ours_or_root(sock)):
        return False
    return not needs_vnc_port or port_is_free(VNC_BASE_PORT + number)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reservation_path(number: int) -> str:
    return f"/tmp/.repo2desktop-display-{number}.lock"


@dataclass
class Reservation:
    """Display NUMBER, held through an flock() on PATH by FD until release()."""

    number: int
    path: str
    fd: int

    def release(self) -> None:
        if self.fd >= 0:
            release_lock_file(self.path, self.fd)
            self.fd = -1


def _open_lock_file(path: str) -> Optional[int]:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(3):
        try:
            # Another user's file in sticky /tmp can be opened (not created over) for reading;
            # flock() works on a read-only descriptor.
            return os.open(path, flags)
        except FileNotFoundError:
            pass
        except OSError:
            return None  # e.g. someone else's file with no read permission: not for us
        try:
            fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o644)
            os.fchmod(fd, 0o644)  # whatever our umask, others must be able to lock it too
            return fd
        except FileExistsError:
            continue
        except OSError:
            return None
    return None


def lock_display(number: int) -> Optional[Reservation]:
    """Take display NUMBER's reservation without waiting; None if someone holds it."""
    path = reservation_path(number)
    fd = _open_lock_file(path)
    if fd is None:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # The holder before us may have removed the file after we opened it: our lock is
        # then on a dead inode and worth nothing.
        if os.stat(path).st_ino != os.fstat(fd).st_ino:
            raise OSError("reservation file replaced")
    except OSError:
        os.close(fd)
        return None
    return Reservation(number, path, fd)


def reserve_display(start: int = 1, needs_vnc_port: bool = True, limit: int = 200,
                    number: Optional[int] = None) -> Reservation:
    """Reserve the first free display from START (or exactly NUMBER) for this process."""
    candidates = [number] if number is not None else range(start, start + limit)
    for candidate in candidates:
        if not display_is_free(candidate, needs_vnc_port):
            continue
        reservation = lock_display(candidate)
        if reservation is None:
            continue
        # Checked again under the lock: an X server may have started meanwhile.
        if display_is_free(candidate, needs_vnc_port):
            return reservation
        reservation.release()
    if number is not None:
        raise RuntimeError(f"display :{number} is in use")
    raise RuntimeError(f"no free X display between :{start} and :{start + limit - 1}")


def release_x_lock(number: int, holder: int) -> None:
    """Remove display NUMBER's X lock if HOLDER (a Jupyter server's guard) wrote it, so that
    our X server can take the display."""
    if holder and x_lock_pid(number) == holder:
        try:
            os.unlink(x_lock_path(number))
        except OSError:
            pass
