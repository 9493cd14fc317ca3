"""The VNC server's and websockify's settings: command templates and VNC arguments.

A command override (vnc.command, websockify.command; nbnovnc's vnc_command and
websockify_command) is a template with replacement fields; VNC arguments may weaken the
desktop's protection. Both are checked here, located like every other problem.
"""
from __future__ import annotations

import re
import shlex
import string
from typing import Optional

from repo2desktop.config import vncargs
from repo2desktop.config.model import Vnc, Websockify
from repo2desktop.config.reader import Section, pos_value

# Widths and precisions in command templates ({display:>10}); a huge one is gigabytes.
MAX_FORMAT_WIDTH = 200


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
    try:
        parsed = list(string.Formatter().parse(command))
    except ValueError as e:
        section.error(key, f"cannot be formatted: {e}")
        return
    used = {name for _, name, _, _ in parsed if name is not None}
    for _, name, spec, _ in parsed:
        problem = _format_spec_problem(name, spec or "")
        if problem:
            section.error(key, problem)
            return
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


def _format_spec_problem(name: Optional[str], spec: str) -> Optional[str]:
    """Refuse format specs that would make formatting slow or huge ({display:>999999999})."""
    if "{" in spec:
        return f"replacement field {{{name}}}: nested fields in a format spec are not supported"
    for number in re.findall(r"[0-9]+", spec):
        if len(number) > 6 or int(number) > MAX_FORMAT_WIDTH:
            shown = number if len(number) <= 12 else f"{number[:9]}... ({len(number)} digits)"
            return (f"replacement field {{{name}}}: width or precision {shown} is too large "
                    f"(at most {MAX_FORMAT_WIDTH})")
    return None
