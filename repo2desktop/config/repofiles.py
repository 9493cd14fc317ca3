"""Files a repository provides, read as untrusted input.

A repository is anyone's: its desktop.yml, and every file desktop.yml names, may be a
symlink to a host file (/etc/shadow, a private key), a FIFO that blocks a reader forever,
/dev/zero, or a folder. Only regular files whose real path is inside the repository are
read; for anything else the caller gets a one-line reason that shows none of the target's
content (nor where a symlink points).

The repository is the folder holding desktop.yml, or its parent when desktop.yml is in
binder/ or .binder/ (repo2docker's places).

read_bytes is the one reader of repository files: desktop.yml (loader.py), home: sources
(runtime/home.py), apt.txt (the buildpack) and requirements.txt, environment.yml and
runtime.txt (envfiles.py) all go through it.
"""
from __future__ import annotations

import os
import re
import stat
from typing import Optional

BINDER_FOLDERS = ("binder", ".binder")
# C0 and C1 control characters and Unicode's line/paragraph separators: none belongs in a
# name, title, path or key (each ends up in a line of a generated file).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Lone surrogates: what YAML's "\ud800" gives, and what Python makes of a flag's or a file
# name's bytes that are not UTF-8. No file, page or terminal can be written with them.
SURROGATE = re.compile(r"[\ud800-\udfff]")
UNSHOWABLE = re.compile(f"{CONTROL.pattern}|{SURROGATE.pattern}")
OUTSIDE = "is outside the repository (a symlink pointing out of it); only files inside the repository are read"


class Refused(Exception):
    """A repository file that must not be read; str() is the reason, without content."""


def escape_controls(text: str) -> str:
    """TEXT with each control character and lone surrogate written as a Python escape
    (\\n, \\x1b, \\udcff, ...)."""
    return UNSHOWABLE.sub(lambda m: repr(m.group())[1:-1], text)


def repo_root(config_dir: str) -> str:
    """The repository of a desktop.yml in CONFIG_DIR (binder/ and .binder/ count as inside)."""
    folder = os.path.abspath(config_dir)
    return os.path.dirname(folder) if os.path.basename(folder) in BINDER_FOLDERS else folder


class TooLarge(Refused):
    def __init__(self, size: int, limit: int):
        super().__init__(f"is {size} bytes; the limit is {limit} bytes")
        self.size, self.limit = size, limit


def not_regular(mode: int) -> str:
    """The reason for a file of MODE that is not a regular file."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return f"is {name}, not a regular file"
    return "is not a regular file"


def inside(path: str, root: str) -> bool:
    """True when PATH's real location (all symlinks resolved) is within ROOT's."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    try:
        return os.path.commonpath([real, top]) == top
    except ValueError:
        return False


def problem(path: str, root: str) -> Optional[str]:
    """Why PATH must not be read (missing, outside ROOT, not a regular file), or None."""
    if not os.path.lexists(path):
        return "does not exist"
    if not inside(path, root):
        return OUTSIDE
    try:
        mode = os.stat(os.path.realpath(path)).st_mode
    except OSError as e:
        return f"cannot be read: {e.strerror}"
    if not stat.S_ISREG(mode):
        return not_regular(mode)
    return None


def read_bytes(path: str, root: str, limit: int) -> bytes:
    """At most LIMIT bytes of the regular file PATH inside ROOT; Refused otherwise.

    Raises Refused for a file outside ROOT, a non-regular file or one larger than LIMIT,
    and OSError (with its strerror) when the file cannot be opened.
    """
    if os.path.lexists(path) and not inside(path, root):
        raise Refused(OUTSIDE)
    real = os.path.realpath(path)
    # O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: a symlink swapped
    # in after the check above is refused, not followed.
    fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Refused(not_regular(st.st_mode))
        if st.st_size > limit:
            raise TooLarge(st.st_size, limit)
        os.set_blocking(fd, True)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:  # it grew while we read it
            raise TooLarge(total, limit)
        return b"".join(chunks)
    finally:
        os.close(fd)
