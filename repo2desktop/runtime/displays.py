"""The desktops this user runs, as the process table shows them: for `repo2desktop exec-env`.

A shell from `docker exec` (or an operator's ssh session) has neither DISPLAY nor the X
authority file of the desktop, whose path is private and different each start. Each of our
X servers carries both on its command line (`Xtigervnc :1 -auth FILE ...`), so the running
servers of this user are the one source that is always right.
"""
from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from typing import List, Optional

from repo2desktop.vncservers import process_names


@dataclass(frozen=True)
class Display:
    number: int
    xauthority: Optional[str]
    pid: int

    def environment(self) -> dict:
        env = {"DISPLAY": f":{self.number}"}
        if self.xauthority:
            env["XAUTHORITY"] = self.xauthority
        return env


def parse(argv: List[str], pid: int) -> Optional[Display]:
    """The display of an X server's command line, or None if it is not one."""
    if not argv or os.path.basename(argv[0]) not in process_names():
        return None
    number, auth = None, None
    for i, arg in enumerate(argv[1:], start=1):
        if number is None and arg.startswith(":") and arg[1:].isdigit():
            number = int(arg[1:])
        elif arg == "-auth" and i + 1 < len(argv):
            auth = argv[i + 1]
    return Display(number, auth, pid) if number is not None else None


def running(uid: Optional[int] = None) -> List[Display]:
    """This user's X servers, lowest display first."""
    uid = os.getuid() if uid is None else uid
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}").st_uid != uid:
                continue
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        display = parse(argv, int(name))
        if display:
            found.append(display)
    return sorted(found, key=lambda d: d.number)


def exports(display: Display) -> str:
    """Shell lines for `eval "$(repo2desktop exec-env)"`."""
    return "".join(f"export {k}={shlex.quote(v)}\n" for k, v in display.environment().items())
