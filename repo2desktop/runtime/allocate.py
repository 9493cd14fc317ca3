"""Pick display numbers and ports that no other session on this host is using.

Two users (or five `repo2desktop up` started at once) must not clash, and no user may keep
another from getting a display with files alone. A reservation of display N is:

- an flock() on display-N.lock in **this user's own folder** (/tmp/.repo2desktop-UID, mode
  0700, checked to be ours), held by the owner and its guard for the session's life. It
  keeps this user's processes apart; no other account can create, open or lock it.
- an **X lock** /tmp/.XN-lock naming the reserving process, created with O_EXCL: every X
  server and every repo2desktop of every user reads a lock of a live process as "display
  in use". Just before our X server starts, the lock is *handed over*: replaced (rename, so
  it never disappears) by one naming a pid no process can have. Our X server, finding our
  own stale lock, replaces it; other users can neither remove it (sticky /tmp) nor take it
  for free (occupancy.py), so nobody can slip in between.
- for X servers that do not bind their abstract socket name themselves (TightVNC), that
  name, bound without listening (xsocket.py).

The kernel drops an flock when its holders die, and our own dead X server's lock and socket
count as free: nothing a killed process leaves behind loses a display number. Files other
users leave in /tmp count only as what they are: a display whose X lock, socket or abstract
name they hold is skipped, and the error says who holds what.
"""
from __future__ import annotations

import fcntl
import os
import socket
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from repo2desktop.errors import Repo2DesktopError
from repo2desktop.vncservers import VNC_BASE_PORT
from repo2desktop.runtime import occupancy
from repo2desktop.runtime.guard import release_lock_file, x_lock_path, x_lock_pid
from repo2desktop.runtime.xsocket import hold_abstract_name, user_name

# Above PID_MAX_LIMIT (2**22): kill(pid, 0) says "no such process" for it, always.
NO_PROCESS = 2 ** 22 + 1


class DisplayUnavailable(Repo2DesktopError):
    """No display could be reserved; the message says who holds the ones tried."""


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- this user's reservation folder -----------------------------------------------------------

def reservation_folder() -> str:
    """This user's folder for reservations, made (0700) and checked to be ours on each call.

    If another account made /tmp/.repo2desktop-UID first, the user's home keeps them
    instead (one folder per host name, as flock() on a shared home would span machines):
    a folder in the home cannot be made by others, so nobody can block reservations.
    """
    uid = os.getuid()
    for path in (f"/tmp/.repo2desktop-{uid}",
                 os.path.join(os.path.expanduser("~"), ".cache", "repo2desktop", f"displays-{os.uname().nodename}")):
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)
            info = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == uid:
            if stat.S_IMODE(info.st_mode) & 0o077:
                os.chmod(path, 0o700)
            return path
        print(f"repo2desktop: warning: {path} belongs to {user_name(info.st_uid)}, not to you; "
              "keeping display reservations elsewhere", file=sys.stderr)
    raise DisplayUnavailable(f"no folder for display reservations: /tmp/.repo2desktop-{uid} is not "
                             "yours and your home has no writable .cache folder")


def reservation_path(number: int) -> str:
    return os.path.join(reservation_folder(), f"display-{number}.lock")


def legacy_reservation_path(number: int) -> str:
    """Where repo2desktop before issue 16 reserved displays (shared by every user)."""
    return f"/tmp/.repo2desktop-display-{number}.lock"


# -- a reservation ----------------------------------------------------------------------------

@dataclass
class Reservation:
    """Display NUMBER, held through an flock() on PATH by FD until release(); also the X lock
    naming X_LOCK_PID (0: none) and whatever else is in LOCKS (path, fd) and HELD (sockets)."""

    number: int
    path: str
    fd: int
    x_lock_pid: int = 0
    locks: List[Tuple[str, int]] = field(default_factory=list)
    held: List[socket.socket] = field(default_factory=list)

    @property
    def lock_files(self) -> List[Tuple[str, int]]:
        """Every (path, fd) to unlink and close at the end, for the guard."""
        return [(self.path, self.fd), *self.locks] if self.fd >= 0 else []

    @property
    def held_fds(self) -> List[int]:
        return [s.fileno() for s in self.held if s.fileno() >= 0]

    def release(self) -> None:
        remove_x_lock(self.number, self.x_lock_pid)
        self.x_lock_pid = 0
        for path, fd in self.lock_files:
            release_lock_file(path, fd)
        self.fd, self.locks = -1, []
        for sock in self.held:
            sock.close()
        self.held = []

    def close(self) -> None:
        """Close our descriptors without releasing anything (the guard holds copies now)."""
        for _, fd in self.lock_files:
            os.close(fd)
        for sock in self.held:
            sock.close()
        self.fd, self.locks, self.held = -1, [], []


def _flock_checked(fd: int, path: str) -> bool:
    """flock() FD (opened from PATH) without waiting; True when we hold it on the file PATH
    still names. Otherwise FD is closed: someone holds it, or the holder before us removed the
    file after we opened it (our lock would then be on a dead inode and worth nothing)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.stat(path).st_ino == os.fstat(fd).st_ino:
            return True
    except OSError:
        pass
    os.close(fd)
    return False


def _lock_own_file(path: str) -> Tuple[Optional[int], str]:
    """flock() PATH in our own folder; (fd, "") or (None, why it is held)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    if not _flock_checked(fd, path):
        try:
            with open(path) as f:
                pid = int(f.read(20).strip() or 0)
        except (OSError, ValueError):
            pid = 0
        return None, f"reserved by your repo2desktop (pid {pid})" if pid else "reserved by another repo2desktop of yours"
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd, ""


def _lock_legacy_file(number: int) -> Tuple[Optional[int], str]:
    """Keep apart from older repo2desktop processes of this user, which reserve through a
    shared file: hold it too if it is ours (or make it). Another user's file there is
    ignored: it is how one account used to block everyone's displays."""
    path = legacy_reservation_path(number)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o644)
        os.fchmod(fd, 0o644)  # as older versions made it, so theirs can lock it
    except FileExistsError:
        try:
            if os.lstat(path).st_uid != os.getuid():
                return None, ""
            fd = os.open(path, flags)
        except OSError:
            return None, ""
    except OSError:
        return None, ""
    if not _flock_checked(fd, path):
        return None, f"reserved by an older repo2desktop of yours ({path})"
    return fd, ""


def _create_x_lock(number: int) -> str:
    """Write display NUMBER's X lock naming us ("" on success, else who holds it)."""
    path = x_lock_path(number)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o444)
        except FileExistsError:
            busy = occupancy.x_lock(number)
            if busy:
                return busy
            try:
                os.unlink(path)  # our own stale lock (another of ours could not reach here: flock)
            except OSError:
                pass
            continue
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid():10d}\n")  # the X servers' own format
        return ""
    return occupancy.x_lock(number) or f"its X lock {path} could not be written"


def lock_display(number: int, vnc_port: Optional[int] = None,
                 hold_abstract: bool = False) -> Tuple[Optional[Reservation], str]:
    """Reserve display NUMBER without waiting: (reservation, "") or (None, why it is taken)."""
    busy = occupancy.holder(number, vnc_port)
    if busy:
        return None, busy
    path = reservation_path(number)
    fd, busy = _lock_own_file(path)
    if fd is None:
        return None, busy
    reservation = Reservation(number, path, fd)
    legacy, busy = _lock_legacy_file(number)
    if busy:
        reservation.release()
        return None, busy
    if legacy is not None:
        reservation.locks.append((legacy_reservation_path(number), legacy))
    # Checked again under our lock: another user's X server may have started meanwhile.
    busy = occupancy.holder(number, vnc_port) or _create_x_lock(number)
    if busy:
        reservation.release()
        return None, busy
    reservation.x_lock_pid = os.getpid()
    if hold_abstract:
        name = hold_abstract_name(number)
        if name is None:
            reservation.release()
            return None, occupancy.abstract_socket(number) or "its abstract X socket name is taken"
        reservation.held.append(name)
    return reservation, ""


def _summary(start: int, limit: int, busy: Dict[int, str]) -> str:
    shown = [f":{n} is {why}" for n, why in list(busy.items())[:3]]
    rest = list(busy.values())[3:]
    if rest:
        shown.append(f"and {len(rest)} more")
    return f"no free X display between :{start} and :{start + limit - 1}: " + "; ".join(shown)


def reserve_display(start: int = 1, needs_vnc_port: bool = True, limit: int = 200,
                    number: Optional[int] = None, hold_abstract: bool = False) -> Reservation:
    """Reserve the first free display from START (or exactly NUMBER) for this process.
    HOLD_ABSTRACT: also bind its abstract X socket name (for X servers that do not)."""
    candidates = [number] if number is not None else range(start, start + limit)
    busy: Dict[int, str] = {}
    for candidate in candidates:
        port = VNC_BASE_PORT + candidate if needs_vnc_port else None
        reservation, why = lock_display(candidate, port, hold_abstract)
        if reservation is not None:
            return reservation
        busy[candidate] = why
    if number is not None:
        raise DisplayUnavailable(f"display :{number} is {busy[number]}")
    raise DisplayUnavailable(_summary(start, limit, busy))


# -- the X lock, from reservation to X server -----------------------------------------------

def _ours(path: str) -> bool:
    try:
        return os.lstat(path).st_uid == os.getuid()
    except OSError:
        return False


def hand_over_x_lock(number: int, holder: int) -> bool:
    """Just before our X server starts: replace the X lock naming HOLDER by one naming no
    process, in one rename, so that the display is never without a lock another user must
    respect. False if there was no such lock of ours."""
    path = x_lock_path(number)
    if not holder or x_lock_pid(number) != holder or not _ours(path):
        return False
    fd, temporary = tempfile.mkstemp(prefix=f".repo2desktop-X{number}-lock-", dir="/tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(f"{NO_PROCESS:10d}\n")
        os.chmod(temporary, 0o444)
        os.rename(temporary, path)
    except OSError:
        if os.path.exists(temporary):
            os.unlink(temporary)
        return False
    return True


def remove_x_lock(number: int, holder: int) -> None:
    """Remove display NUMBER's X lock if it is ours and still names HOLDER."""
    path = x_lock_path(number)
    if holder and x_lock_pid(number) == holder and _ours(path):
        try:
            os.unlink(path)
        except OSError:
            pass


def display_is_free(number: int, needs_vnc_port: bool) -> bool:
    return occupancy.holder(number, VNC_BASE_PORT + number if needs_vnc_port else None) is None
