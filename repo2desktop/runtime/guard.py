"""A desktop's processes and files end with whoever owns them, however that owner ends.

`up`, a Jupyter session and a Jupyter server each own things that outlive them if they are
killed with SIGKILL or stopped by a path that runs no clean-up code (``POST /api/shutdown``):
the desktop's processes, its runtime folder (password file, Xauthority), an X lock, a
display reservation. So each owner starts a *guard*: a small process that reads a pipe
whose only writer is the owner. The pipe's end-of-file means the owner is gone (the kernel
closes it whatever killed the owner); the guard then kills every process carrying the
session's marker variable, removes the X server's stale lock and socket, the folders it
was given and the display reservation, and exits. A clean stop does the same clean-up
itself and then lets the guard finish.

Standard library only: the guard runs as ``python -m repo2desktop.runtime.guard``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from typing import Iterable, List, Optional, Sequence, Tuple

MARKER = "REPO2DESKTOP_SESSION"


# -- processes --------------------------------------------------------------------------

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> None:
    import ctypes
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(option, value, 0, 0, 0)


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send SIG to this process when its parent dies (even by SIGKILL)."""
    _prctl(PR_SET_PDEATHSIG, int(sig))


def reap_orphans() -> None:
    """Make this process the reaper of its descendants' orphans (instead of PID 1); the
    attribute survives execve."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)


def is_alive(pid: int) -> bool:
    """True for a running process of anyone; False for no process or a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True


def marked_processes(session_id: str) -> List[int]:
    """PIDs of this user's processes that carry the session's marker variable."""
    return processes_with(MARKER, session_id)


def processes_with(variable: str, value: str, exclude: Iterable[int] = ()) -> List[int]:
    """PIDs of this user's processes (not ours, not EXCLUDE) whose environment has
    VARIABLE=VALUE (inherited through every fork and exec)."""
    wanted = f"{variable}={value}".encode()
    skip = {os.getpid(), *exclude}
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in skip:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                if wanted in f.read().split(b"\0"):
                    found.append(int(name))
        except OSError:
            continue
    return found


def _signal_all(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _wait_gone(pids: Sequence[int], timeout: float) -> List[int]:
    deadline = time.monotonic() + timeout
    alive = [p for p in pids if is_alive(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if is_alive(p)]
    return alive


def end_session_processes(session_id: str, grace: float = 3.0) -> None:
    """SIGTERM every marked process (an X server then removes its own lock), SIGKILL the rest."""
    pids = marked_processes(session_id)
    if not pids:
        return
    _signal_all(pids, signal.SIGTERM)
    left = _wait_gone(pids, grace)
    # A process may have started a child between the listing and the signal.
    left = sorted(set(left) | set(marked_processes(session_id)))
    if left:
        _signal_all(left, signal.SIGKILL)
        _wait_gone(left, 2.0)


# -- X files ----------------------------------------------------------------------------

def x_lock_path(display: int) -> str:
    return f"/tmp/.X{display}-lock"


def x_socket_path(display: int) -> str:
    return f"/tmp/.X11-unix/X{display}"


def x_lock_pid(display: int) -> Optional[int]:
    """The pid an X lock names; None without a lock, 0 for one we cannot read or parse."""
    try:
        with open(x_lock_path(display)) as f:
            return int(f.read(64).strip() or 0)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return 0


def socket_answers(path: str) -> bool:
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(path)
            return True
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        except OSError:
            return True  # e.g. no permission: someone's live socket


def _ours(path: str) -> bool:
    return os.lstat(path).st_uid == os.getuid()


def remove_stale_x_files(display: int, also_pids: Sequence[int] = ()) -> None:
    """Remove display's X lock and socket if they are ours and nobody uses them any more.

    A lock is stale when the process it names is gone (or is one of ALSO_PIDS, e.g. the
    guard's own reservation); a socket when nothing accepts connections on it. Another
    user's files stay, even for root: a lock handed over to a starting X server names no
    live process but is not free (allocate.py).
    """
    pid = x_lock_pid(display)
    lock = x_lock_path(display)
    try:
        if pid is not None and (pid in also_pids or (pid and not is_alive(pid))) and _ours(lock):
            os.unlink(lock)
    except OSError:
        pass
    if not os.path.exists(lock):
        remove_stale_x_socket(display)


def remove_stale_x_socket(display: int) -> None:
    """Remove display's X socket if it is ours and nothing accepts connections on it."""
    sock = x_socket_path(display)
    try:
        if _ours(sock) and not socket_answers(sock):
            os.unlink(sock)
    except OSError:
        pass


# -- the whole clean-up -----------------------------------------------------------------

def clean_up(session_id: str = "", display: Optional[int] = None, remove: Sequence[str] = (),
             x_lock_pids: Sequence[int] = (), locks: Sequence[Tuple[str, int]] = ()) -> None:
    """Everything an owner leaves: processes, X files, folders, the display reservation."""
    if session_id:
        end_session_processes(session_id)
    if display is not None:
        remove_stale_x_files(display, x_lock_pids)
    for path in remove:
        shutil.rmtree(path, ignore_errors=True)
    for path, fd in locks:
        release_lock_file(path, fd)


def release_lock_file(path: str, fd: int) -> None:
    """Remove a flock()ed reservation file we hold, then drop the lock.

    Unlinking while holding the lock is safe because whoever locks a file checks afterwards
    that the path still names the inode it locked (allocate.lock_display).
    """
    try:
        if os.stat(path).st_ino == os.fstat(fd).st_ino:
            os.unlink(path)
    except OSError:
        pass
    try:
        os.close(fd)
    except OSError:
        pass


# -- starting and being the guard -------------------------------------------------------

class Guard:
    """The owner's side: a running guard process and the pipe it watches."""

    def __init__(self, process: subprocess.Popen, pipe_fd: int):
        self.process = process
        self._pipe_fd = pipe_fd

    def finish(self, timeout: float = 15.0) -> None:
        """Close the pipe (the guard then cleans up as if we had died) and wait for it."""
        if self._pipe_fd >= 0:
            os.close(self._pipe_fd)
            self._pipe_fd = -1
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_guard(session_id: str = "", display: Optional[int] = None, remove: Sequence[str] = (),
                x_lock_pids: Sequence[int] = (), locks: Sequence[Tuple[str, int]] = (),
                held_fds: Sequence[int] = ()) -> Guard:
    """Start a guard for the calling process. LOCKS: flock()ed reservation files (path, fd)
    it holds too and removes at the end; HELD_FDS: descriptors it keeps open as long as it
    lives (a bound abstract socket name); X_LOCK_PIDS: an X lock naming one of them is ours."""
    read_end, write_end = os.pipe()  # both non-inheritable: no other child holds the writer
    command = [sys.executable, "-m", "repo2desktop.runtime.guard"]
    if session_id:
        command += ["--session", session_id]
    if display is not None:
        command += ["--display", str(display)]
    for path in remove:
        command += ["--remove", path]
    for pid in x_lock_pids:
        command += ["--x-lock-pid", str(pid)]
    for path, fd in locks:
        command += ["--lock", f"{fd}:{path}"]
    # Not the session's marker: the guard must outlive the processes it kills.
    env = {k: v for k, v in os.environ.items() if k != MARKER}
    process = subprocess.Popen(command, stdin=read_end, stdout=subprocess.DEVNULL, env=env,
                               pass_fds=(*[fd for _, fd in locks], *held_fds), start_new_session=True)
    os.close(read_end)
    return Guard(process, write_end)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m repo2desktop.runtime.guard")
    parser.add_argument("--session", default="")
    parser.add_argument("--display", type=int)
    parser.add_argument("--remove", action="append", default=[])
    parser.add_argument("--x-lock-pid", type=int, action="append", default=[])
    parser.add_argument("--lock", action="append", default=[], metavar="FD:PATH")
    args = parser.parse_args(argv)
    # A terminal's Ctrl-C or hang-up is for the owner, who then closes the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    own = [os.getpid(), *args.x_lock_pid]
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    locks = [(path, int(fd)) for fd, path in (lock.split(":", 1) for lock in args.lock)]
    clean_up(args.session, args.display, args.remove, own, locks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
