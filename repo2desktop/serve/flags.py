"""Command-line options declared once, as rows of a table (as config/schema.py does for
desktop.yml): each row's flag, default, type and one line of help feed argparse (the help
shows the default), the frozen options object (one field per row) and the README's table
of options (tests/unit/test_serve_options.py compares it with this table).

`serve` (options.SERVE) and `hub-config` (huboptions.HUB) each have a table of these rows.
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Tuple

# A row's check: the value in, a message out when it is wrong (None when it is right).
Check = Callable[[Any], Optional[str]]


@dataclass(frozen=True)
class Flag:
    name: str  # "--pool-size"; a positional argument has no dashes ("image")
    doc: str  # one line, without the default
    default: Any = None
    type: Callable[[str], Any] = str  # bool: a switch (store_true)
    shown: Optional[str] = None  # the default as people read it, when repr() is not that
    check: Optional[Check] = None
    field: Optional[str] = None  # the options object's field; default: the flag's words
    metavar: Optional[str] = None
    nargs: Optional[str] = None  # a positional argument's: "?" when it may be left out

    def __post_init__(self):
        if self.type is bool and self.default is None:  # a switch is off unless given
            object.__setattr__(self, "default", False)

    @property
    def dest(self) -> str:
        return self.field or self.name.lstrip("-").replace("-", "_")

    @property
    def default_text(self) -> str:
        if self.shown is not None:
            return self.shown
        if not self.name.startswith("-"):
            return "required"
        if self.type is bool:
            return "off"
        return "none" if self.default is None else f"`{self.default}`"

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        if not self.name.startswith("-"):
            parser.add_argument(self.dest, nargs=self.nargs, metavar=self.metavar or self.name.upper(),
                                help=self.doc)
            return
        kwargs = dict(dest=self.dest, help=f"{self.doc} (default: {self.default_text.replace('`', '')})")
        if self.type is bool:
            parser.add_argument(self.name, action="store_true", default=self.default, **kwargs)
        else:
            parser.add_argument(self.name, type=self.type, default=self.default,
                                metavar=self.metavar, **kwargs)


def add_arguments(parser: argparse.ArgumentParser, table: Sequence[Flag]) -> None:
    for flag in table:
        flag.add_to(parser)


def first_problem(args: argparse.Namespace, table: Sequence[Flag]) -> Optional[Tuple[str, str]]:
    """(flag, message) of the first row whose check refuses its value in ARGS, or None."""
    for flag in table:
        message = flag.check(getattr(args, flag.dest)) if flag.check else None
        if message:
            return flag.name, message
    return None


def options_class(name: str, table: Sequence[Flag], extra: Sequence[tuple] = (), base: type = object,
                  defaults: bool = False, doc: str = "") -> type:
    """A frozen dataclass with one field per row of TABLE plus EXTRA (name, type) fields
    derived from them. With DEFAULTS, a row's default is its field's (positional rows have
    none); without, every field is given (from the checked arguments, where argparse
    applied the defaults)."""
    def spec(flag: Flag) -> tuple:
        if defaults and flag.name.startswith("-"):
            return flag.dest, Any, dataclasses.field(default=flag.default)
        return flag.dest, Any
    fields = [spec(flag) for flag in table] + list(extra)
    return dataclasses.make_dataclass(name, fields, bases=(base,), frozen=True,
                                      namespace={"__doc__": doc})


def markdown(table: Sequence[Flag]) -> str:
    """The README's table of TABLE's options: flag, default, what it does."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| option | default | what it does |", "|---|---|---|"]
    for flag in table:
        name = flag.name if flag.name.startswith("-") else flag.name.upper()
        lines.append(f"| `{name}` | {cell(flag.default_text)} | {cell(flag.doc)} |")
    return "\n".join(lines) + "\n"


def positive(zero_ok: bool = False) -> Check:
    def check(value) -> Optional[str]:
        if value < 0 or (value == 0 and not zero_ok):
            return f"must be {'>= 0' if zero_ok else '> 0'}, got {value}"
        return None
    return check


def at_least(low: int) -> Check:
    return lambda value: None if value >= low else f"must be at least {low}, got {value}"


def tcp_port(zero_ok: bool = False) -> Check:
    return lambda port: None if 1 <= port <= 65535 or (zero_ok and port == 0) else f"{port} is not a TCP port"
