"""Domain errors. Every problem a user can cause carries a location an editor can jump to."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Problem:
    """One located finding in a desktop.yml: ``FILE:LINE:COL: key.path: message``.

    ``line`` and ``col`` are 1-based, as editors count them; 0 when the value did not come
    from the file but from an override, whose origin (``--geometry``, ``c.NBNoVNC.geometry``)
    is then ``file``: ``--geometry: display.geometry: message``.
    """

    file: str
    line: int
    col: int
    key_path: str
    message: str
    severity: str = "error"  # "error" stops the build; "warning" is printed only

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        prefix = "warning: " if self.severity == "warning" else ""
        key = f"{self.key_path}: " if self.key_path else ""
        return f"{where}: {prefix}{key}{self.message}"


class Repo2DesktopError(Exception):
    """Base class: the CLI prints these without a traceback and exits non-zero."""

    exit_code = 1


class ConfigError(Repo2DesktopError):
    """A desktop.yml that cannot be used; holds *all* problems found, not just the first."""

    exit_code = 2

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class RuntimeStartError(Repo2DesktopError):
    """The desktop could not start: names the failing program and the tail of its log."""

    def __init__(self, program: str, reason: str, log_tail: str = ""):
        self.program = program
        self.reason = reason
        self.log_tail = log_tail
        text = f"desktop program '{program}' failed: {reason}"
        if log_tail:
            text += "\n--- last lines of its log ---\n" + log_tail.rstrip()
        super().__init__(text)


class BuildError(Repo2DesktopError):
    """An image build that failed for a reason we can state in one line."""
