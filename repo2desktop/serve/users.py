"""The user a container runs as, resolved the way Docker resolves it (pure; no engine).

Docker reads ``--user`` and an image's ``USER`` as USER[:GROUP] and looks USER up as runc's
user library does (checked against dockerd 20.10 here):
- a USER that Go's ``strconv.Atoi`` reads is a uid, whatever /etc/passwd says: ``00``,
  ``+0`` and ``-0`` are uid 0;
- an empty USER (``:1000``, ``:``) keeps the default, which is root;
- any other USER is a name, looked up in the image's /etc/passwd (the first line with that
  name); a line whose uid field is not a number gives uid 0.
So refusing the words ``root`` and ``0`` is not enough: every form above runs as root.
"""
from __future__ import annotations

import re
from typing import Optional, Tuple

ROOT_UID = 0
MAX_UID = 2 ** 31 - 1  # runc refuses larger (and negative) ids
GO_INT = re.compile(r"[+-]?[0-9]+")  # what strconv.Atoi reads (ASCII digits, no spaces)
GO_INT_MAX = 2 ** 63 - 1


NEVER_ROOT = "visitor containers never run as root"


class Refused(ValueError):
    """A user that visitor containers must not, or cannot, run as; str() says why."""


def split(spec: str) -> Tuple[str, Optional[str]]:
    """USER and GROUP of SPEC (GROUP None when there is no colon)."""
    user, colon, rest = spec.partition(":")
    return user, (rest.split(":", 1)[0] if colon else None)


def go_atoi(text: str) -> Optional[int]:
    """TEXT as Go's strconv.Atoi reads it, or None where Atoi fails."""
    if not GO_INT.fullmatch(text):
        return None
    value = int(text)
    return value if -GO_INT_MAX - 1 <= value <= GO_INT_MAX else None


def uid_in_passwd(name: str, passwd: str) -> Optional[int]:
    """The uid of NAME's first line in the passwd text, read as runc reads it."""
    for line in passwd.splitlines():
        fields = line.strip().split(":")
        if fields[0] == name:
            # A missing or non-numeric uid field is 0 to runc: such a line runs as root.
            return go_atoi(fields[2]) or 0 if len(fields) > 2 else 0
    return None


def needs_passwd(spec: str) -> bool:
    """Does resolving SPEC need the image's /etc/passwd (is its USER a name)?"""
    user, _ = split(spec)
    return bool(user) and go_atoi(user) is None


def early_problem(spec: str) -> Optional[str]:
    """Why SPEC is root (or no user) before the image is seen, or None."""
    user, _ = split(spec)
    if not user:
        return f"{spec!r} names no user, so Docker runs it as root; {NEVER_ROOT}"
    number = go_atoi(user)
    if number == ROOT_UID or user == "root":
        return f"{spec!r} is root (uid 0) as Docker reads it; {NEVER_ROOT}"
    if number is not None and not 0 <= number <= MAX_UID:
        return f"{spec!r} is not a uid Docker accepts (0 to {MAX_UID})"
    return None


def pinned(spec: str, passwd: Optional[str]) -> str:
    """SPEC as 'UID[:GROUP]' with the uid Docker would use, so that the image (a tag that
    may move) cannot change it later; Refused when that is root or cannot be resolved.
    PASSWD is the image's /etc/passwd text (None: the image has none)."""
    problem = early_problem(spec)
    if problem:
        raise Refused(problem)
    user, group = split(spec)
    uid = go_atoi(user)
    if uid is None:
        uid = uid_in_passwd(user, passwd or "")
        if uid is None:
            raise Refused(f"{spec!r}: no user {user!r} in the image's /etc/passwd (Docker could not start it)")
        if uid == ROOT_UID:
            raise Refused(f"{spec!r} is root (uid 0) in the image's /etc/passwd; {NEVER_ROOT}")
        if not 0 <= uid <= MAX_UID:
            raise Refused(f"{spec!r} has uid {uid} in the image's /etc/passwd, which Docker refuses")
    return str(uid) + (f":{group}" if group is not None else "")
