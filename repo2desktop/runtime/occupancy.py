"""Who holds an X display number, in words a user can act on.

A display is taken when an X lock /tmp/.XN-lock names a live process, when a lock or socket
of another user is left over (only they or root can remove it, and an X server of ours
could not replace it), when something answers on its X socket or holds its abstract name,
or when its VNC port is bound. Each check returns None (free) or a phrase such as
"held by user bob's Xtigervnc (pid 123)", which reserve_display's errors list.

A stale lock or socket of *our own* counts as free (we can remove it), and so does one of
root's only for root: unlike before, root no longer takes over other users' stale files,
because a lock handed over to a starting X server names no live process (allocate.py).
"""
from __future__ import annotations

import os
import socket
from typing import Optional

from repo2desktop.runtime.guard import is_alive, socket_answers, x_lock_path, x_lock_pid, x_socket_path
from repo2desktop.runtime.xsocket import abstract_name, abstract_name_taken, user_name


def whose(uid: int) -> str:
    return "your" if uid == os.getuid() else f"user {user_name(uid)}'s"


def _owner(path: str) -> Optional[int]:
    try:
        return os.lstat(path).st_uid
    except OSError:
        return None


def _process(pid: int) -> str:
    """"user bob's Xtigervnc (pid 123)": who runs PID and what it is."""
    try:
        uid = os.stat(f"/proc/{pid}").st_uid
        with open(f"/proc/{pid}/comm") as f:
            name = f.read().strip()
    except OSError:
        return f"process {pid}"
    return f"{whose(uid)} {name} (pid {pid})"


def x_lock(number: int) -> Optional[str]:
    pid = x_lock_pid(number)
    if pid is None:
        return None
    path = x_lock_path(number)
    owner = _owner(path)
    if owner is None:
        return None  # removed meanwhile
    if pid == 0:
        return f"held by {path} of {user_name(owner)}, which is not a readable X lock"
    if is_alive(pid):
        try:
            runner = os.stat(f"/proc/{pid}").st_uid
        except OSError:
            runner = owner
        if runner == owner:
            return f"held by {_process(pid)}"
        return f"held by {path}, a lock file of user {user_name(owner)} naming {_process(pid)}"
    if owner == os.getuid():
        return None  # our own stale lock: we may remove it
    name = user_name(owner)
    return (f"held by {path}, a stale lock file of user {name} (pid {pid} has ended; "
            f"only {name} or root can remove it)")


def x_socket(number: int) -> Optional[str]:
    path = x_socket_path(number)
    if not os.path.lexists(path):
        return None
    owner = _owner(path)
    if owner is None:
        return None
    if socket_answers(path):
        return f"held by {path} of user {user_name(owner)}, a live X socket without a lock file"
    if owner == os.getuid():
        return None
    name = user_name(owner)
    return f"held by {path}, a left-over socket of user {name} (only {name} or root can remove it)"


def _abstract_socket_holder(number: int) -> str:
    """Whose process has the abstract name bound: findable for our own processes (root: all)."""
    wanted = "@" + abstract_name(number)[1:]
    inode = None
    try:
        with open("/proc/net/unix") as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 8 and fields[7] == wanted:
                    inode = fields[6]
                    break
    except OSError:
        pass
    if inode:
        target = f"socket:[{inode}]"
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                        return _process(int(pid))
            except OSError:
                continue
    return "a process of another user"


def abstract_socket(number: int) -> Optional[str]:
    if not abstract_name_taken(number):
        return None
    return f"held by {_abstract_socket_holder(number)}, bound to the abstract X socket @{abstract_name(number)[1:]}"


def vnc_port(port: int) -> Optional[str]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return f"busy: its VNC port 127.0.0.1:{port} is in use"
    return None


def holder(number: int, vnc_port_number: Optional[int]) -> Optional[str]:
    """Why display NUMBER is taken (None: free). VNC_PORT_NUMBER: the TCP port its VNC server
    would need, if it needs one."""
    for check in (x_lock, x_socket, abstract_socket):
        found = check(number)
        if found:
            return found
    return vnc_port(vnc_port_number) if vnc_port_number else None
