"""What the runtime cannot guarantee on this host, said out loud before it matters.

TightVNC 1.3 cannot listen on a unix socket, so its RFB port (127.0.0.1:59NN) is reachable by
every local user. They cannot get in (the per-session password), but TightVNC counts wrong
passwords for the whole server: after 5 it refuses *every* login, the owner's too, for a
while that doubles with each further failure. No TightVNC option turns that off; TigerVNC
on its private socket has no such port. So where other people have accounts on the host
that runs the desktop, `up` and the Jupyter server's log say so. (`validate` does not: it
judges the file, often on another machine, and its output must not depend on who has an
account where it runs.)
"""
from __future__ import annotations

import os
import pwd
from typing import List

from repo2desktop.config.model import DesktopConfig

NO_LOGIN_SHELLS = ("nologin", "false", "sync", "halt", "shutdown")


def other_local_users() -> List[str]:
    """Accounts of people (uid >= 1000, a login shell) other than the one running us, sorted
    (the warning names the first three, so it says the same on every run)."""
    me = os.getuid()
    found = []
    for entry in pwd.getpwall():
        if entry.pw_uid == me or entry.pw_uid < 1000 or entry.pw_uid == 65534:
            continue
        if os.path.basename(entry.pw_shell or "") in NO_LOGIN_SHELLS:
            continue
        found.append(entry.pw_name)
    return sorted(found)


def shared_host_warnings(config: DesktopConfig) -> List[str]:
    if not config.vnc.uses_tcp_port:
        return []
    others = other_local_users()
    if not others:
        return []
    shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
    return [f"{config.source}: warning: vnc.server: TightVNC listens on a loopback TCP port that "
            f"other local users ({shown}) can reach; 5 wrong passwords from any of them make it "
            "refuse every login for a while, yours too. On a shared host use vnc.server: tigervnc "
            "(a private socket)."]
