"""Where the desktop's X clients connect, and why no other local user can sit in between.

An X client (libxcb, so every toolkit) given DISPLAY=:N first tries the *abstract* unix
socket "@/tmp/.X11-unix/XN" and, only if nobody listens there, the file
/tmp/.X11-unix/XN; either way its first message carries the display's MIT cookie. So a
local user who controls either name receives the cookie and can then open the real display
(read keystrokes, inject input). Two ways to get there, both checked on this host:

- **The folder.** Whoever owns /tmp/.X11-unix (or can write to it without the sticky bit)
  can rename the owner's X socket and put a relay in its place. Xtightvnc and Xtigervnc
  (not run as root) both create their socket in a folder another user made first; TigerVNC
  only warns. `check_socket_folder` refuses to start in such a folder.
- **The abstract name.** Xtigervnc binds it itself (and refuses to start when it is taken);
  Xtightvnc 1.3 never does, so anyone may bind it, even while the desktop runs, and receive
  every X client started afterwards. For such servers the display's reservation binds the
  name itself without listening: clients get "connection refused" there and fall back to
  the file, and nobody else can bind it (`hold_abstract_name`).
"""
from __future__ import annotations

import errno
import os
import pwd
import shlex
import shutil
import socket
import stat
from typing import Optional

from repo2desktop.errors import Repo2DesktopError

X11_UNIX = "/tmp/.X11-unix"
# X servers known to bind "@/tmp/.X11-unix/XN" themselves (checked with `ss -xl`).
SERVERS_WITHOUT_ABSTRACT_SOCKET = ("Xtightvnc",)


class UnsafeXSocketFolder(Repo2DesktopError):
    """The folder of the X sockets lets another user replace the desktop's socket."""


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def check_socket_folder(path: str = X11_UNIX) -> None:
    """Make sure PATH is a folder only root or we control (root's, or ours, and sticky when
    others may write to it); create it (1777, as an X server would) when it is missing."""
    try:
        os.mkdir(path, 0o1777)
        os.chmod(path, 0o1777)  # whatever our umask: other users' X servers need it too
    except FileExistsError:
        pass
    except OSError as e:
        raise UnsafeXSocketFolder(f"{path}: cannot create the folder of the X sockets: {e.strerror}") from e
    info = os.lstat(path)
    uid = os.getuid()
    owner = user_name(info.st_uid)
    mode = stat.S_IMODE(info.st_mode)
    fix = (f"ask root to run `chown root:root {path} && chmod 1777 {path}`"
           if uid != 0 else f"run `chown root:root {path} && chmod 1777 {path}`")
    if not stat.S_ISDIR(info.st_mode):
        kind = "a symlink" if stat.S_ISLNK(info.st_mode) else "not a folder"
        raise UnsafeXSocketFolder(
            f"{path} is {kind} (owner: {owner}): X servers would put the desktop's socket "
            f"wherever it leads; not starting. Ask root to remove it and run "
            f"`install -d -m 1777 -o root -g root {path}`")
    if info.st_uid not in (0, uid):
        raise UnsafeXSocketFolder(
            f"{path} belongs to user {owner} (mode {mode:04o}), not to root: {owner} can swap "
            f"the desktop's X socket for a relay and take its X cookie; not starting. To fix it, {fix}")
    if mode & 0o022 and not mode & stat.S_ISVTX:
        raise UnsafeXSocketFolder(
            f"{path} is mode {mode:04o} (owner: {owner}): any user may replace the X sockets in a "
            f"folder others can write to without the sticky bit; not starting. To fix it, "
            + (f"run `chmod 1777 {path}`" if info.st_uid == uid else fix))


def abstract_name(display: int) -> str:
    return f"\0{X11_UNIX}/X{display}"


def hold_abstract_name(display: int) -> Optional[socket.socket]:
    """Bind display's abstract X socket name without listening; None if it is taken."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(abstract_name(display))
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            return None
        raise
    sock.set_inheritable(False)
    return sock


def abstract_name_taken(display: int) -> bool:
    held = hold_abstract_name(display)
    if held is None:
        return True
    held.close()
    return False


def server_binds_abstract_name(x_server_command: str) -> bool:
    """Does the X server of an x-session command line (`xinit RC -- SERVER :N ...`, or a
    bare server) bind its own abstract socket? Unknown servers are assumed to (all X.Org
    based servers of the last decade do); holding the name for one of them would stop it."""
    words = shlex.split(x_server_command)
    server = words[words.index("--") + 1] if "--" in words[:-1] else (words[0] if words else "")
    found = shutil.which(server) or server
    name = os.path.basename(os.path.realpath(found)) if found else ""
    return name not in SERVERS_WITHOUT_ABSTRACT_SOCKET


def config_server_binds_abstract_name(config) -> bool:
    """server_binds_abstract_name for a desktop.yml's VNC server (or its command override)."""
    from repo2desktop import vncservers

    return server_binds_abstract_name(config.vnc.command or vncservers.get(config.vnc.server).executable)
