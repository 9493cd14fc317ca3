"""The VNC server's and websockify's settings: command templates and VNC arguments.

A command override (vnc.command, websockify.command; nbnovnc's vnc_command and
websockify_command) is a template with replacement fields; VNC arguments may weaken the
desktop's protection. Both are checked here, located like every other problem.
"""
from __future__ import annotations

import shlex
import string
from typing import Optional

from repo2desktop.config import formatspec, vncargs
from repo2desktop.config.model import Vnc, Websockify
from repo2desktop.config.reader import Section, pos_value


def read_vnc(s: Section) -> Vnc:
    values = s.values()
    _check_fields(s, "command", values["command"])
    vnc = Vnc(**values)
    _check_vnc_args(s, vnc)
    command = vnc.command
    if command and not s.failed("command"):
        # With auth 'none', {rfbauth} is empty: the X server must still be named.
        fields = {f: "1" for f in s.row("command").fields}
        fields["rfbauth"] = "" if vnc.auth == "none" else "1"
        words = [w for w in shlex.split(command.format(**fields))]
        if words and words[0].rsplit("/", 1)[-1] == "xinit":
            words = words[words.index("--") + 1:] if "--" in words else ["default"]
        if not words or not words[0]:
            s.error("command", "names no X server to run")
        else:
            missing = vncargs.missing_protections(shlex.split(command))
            if missing:
                s.warn("command", "lacks what the default command has: " + "; ".join(missing)
                       + "; other local users may reach the desktop (README: Security)")
    return vnc


def _check_vnc_args(s: Section, vnc: Vnc) -> None:
    """Arguments that weaken authentication or listening: refused unless vnc.unsafe_args."""
    args = s.raw("args")
    unsafe = [arg for arg in vnc.args if vncargs.unsafe_reason(arg) is not None]
    if unsafe and vnc.unsafe_args:
        names = ", ".join(dict.fromkeys(arg.split("=", 1)[0][:40] for arg in unsafe))
        s.warn("unsafe_args", f"vnc.args change the desktop's protection ({names}); other "
                              "local users may reach or control the desktop")
        return
    if not isinstance(args, list):
        return
    for index, arg in enumerate(args):
        reason = vncargs.unsafe_reason(arg) if isinstance(arg, str) else None
        if reason is None:
            continue
        s.ctx.add(pos_value(args, index), f"{s.path}.args[{index}]",
                  f"{arg[:40]!r} changes {reason}; refused (set 'vnc.unsafe_args: true' to "
                  "allow it at your own risk)")


def read_websockify(s: Section) -> Websockify:
    values = s.values()
    _check_fields(s, "command", values["command"])
    return Websockify(**values)


def _check_fields(section: Section, key: str, command: Optional[str]) -> None:
    if command is None:
        return
    fields = section.row(key).fields
    # Specs first: the dry run below formats with them (a huge width is gigabytes).
    problem = formatspec.template_problem(command)
    if problem:
        section.error(key, problem)
        return
    used = {name for _, name, _, _ in string.Formatter().parse(command) if name is not None}
    unknown = sorted(u for u in used if u not in fields)
    if unknown:
        section.error(key, f"unknown replacement field {{{unknown[0]}}} (known: "
                      + ", ".join("{" + f + "}" for f in sorted(fields)) + ")")
        return
    try:
        # A dry run with stand-in values catches conversions and format specs ({port!x}).
        words = shlex.split(command.format(**{f: "1" for f in fields}))
    except (ValueError, IndexError, KeyError) as e:
        section.error(key, f"is not a valid command template: {e}")
        return
    if not words:
        section.error(key, "must name a program to run")
