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
from typing import Iterable, List, Optional, Sequence

MARKER = "REPO2DESKTOP_SESSION"


# -- processes --------------------------------------------------------------------------

def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send SIG to this process when its parent dies (even by SIGKILL)."""
    import ctypes
    import ctypes.util

    PR_SET_PDEATHSIG = 1
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


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


def remove_stale_x_files(display: int, also_pids: Sequence[int] = ()) -> None:
    """Remove display's X lock and socket if they are ours and nobody uses them any more.

    A lock is stale when the process it names is gone (or is one of ALSO_PIDS, e.g. the
    guard's own reservation); a socket when nothing accepts connections on it.
    """
    uid = os.getuid()
    pid = x_lock_pid(display)
    lock = x_lock_path(display)
    try:
        if pid is not None and (pid in also_pids or (pid and not is_alive(pid))) \
                and (uid == 0 or os.stat(lock).st_uid == uid):
            os.unlink(lock)
    except OSError:
        pass
    sock = x_socket_path(display)
    try:
        if (uid == 0 or os.stat(sock).st_uid == uid) and not os.path.exists(lock) \
                and not socket_answers(sock):
            os.unlink(sock)
    except OSError:
        pass


# -- the whole clean-up -----------------------------------------------------------------

def clean_up(session_id: str = "", display: Optional[int] = None, remove: Sequence[str] = (),
             x_lock_pids: Sequence[int] = (), lock_path: str = "", lock_fd: Optional[int] = None) -> None:
    """Everything an owner leaves: processes, X files, folders, the display reservation."""
    if session_id:
        end_session_processes(session_id)
    if display is not None:
        remove_stale_x_files(display, x_lock_pids)
    for path in remove:
        shutil.rmtree(path, ignore_errors=True)
    if lock_path and lock_fd is not None:
        release_lock_file(lock_path, lock_fd)


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
                x_lock_pids: Sequence[int] = (), hold_x_lock: bool = False,
                lock_path: str = "", lock_fd: Optional[int] = None) -> Guard:
    """Start a guard for the calling process. HOLD_X_LOCK: an X lock for DISPLAY naming the
    guard is written (a Jupyter server's reservation); the guard removes it when it ends."""
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
    pass_fds = ()
    if lock_path and lock_fd is not None:
        command += ["--lock-path", lock_path, "--lock-fd", str(lock_fd)]
        pass_fds = (lock_fd,)
    # Not the session's marker: the guard must outlive the processes it kills.
    env = {k: v for k, v in os.environ.items() if k != MARKER}
    process = subprocess.Popen(command, stdin=read_end, stdout=subprocess.DEVNULL, env=env,
                               pass_fds=pass_fds, start_new_session=True)
    os.close(read_end)
    if hold_x_lock and display is not None:
        # Written here, before anyone can start a session for DISPLAY, naming the guard:
        # X servers treat a lock of a live process as "display in use".
        write_x_lock(display, process.pid)
    return Guard(process, write_end)


def write_x_lock(display: int, pid: int) -> bool:
    remove_stale_x_files(display)  # a killed process's lock counts as free: replace it
    try:
        fd = os.open(x_lock_path(display), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o444)
    except OSError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(f"{pid:10d}\n")  # the X servers' own lock format
    return True


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m repo2desktop.runtime.guard")
    parser.add_argument("--session", default="")
    parser.add_argument("--display", type=int)
    parser.add_argument("--remove", action="append", default=[])
    parser.add_argument("--x-lock-pid", type=int, action="append", default=[])
    parser.add_argument("--lock-path", default="")
    parser.add_argument("--lock-fd", type=int)
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
    clean_up(args.session, args.display, args.remove, own, args.lock_path, args.lock_fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
