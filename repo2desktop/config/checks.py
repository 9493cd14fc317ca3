"""The check of one value against its row of the schema table: a message, or None.

The messages are the ones users see (and the tests pin): each names what was expected and
what was found. Lists and mappings of values are read by reader.py, item by item.
"""
from __future__ import annotations

import difflib
from typing import Any, Optional, Sequence

from ruamel.yaml.scalarint import BinaryInt, HexCapsInt, HexInt, OctalInt

from repo2desktop.config import repofiles, schema
from repo2desktop.config.schema import MAX_NAME

# Integers whose decimal form is this long are not shown in messages (Python refuses to
# convert ints over 4300 digits to text at all).
MAX_SHOWN_DIGITS = 30


# YAML integers written in another base are shown as written ('geometry: 0x800' is not 2048
# to the user who typed it); ruamel keeps the base in the value's type.
AS_WRITTEN = ((HexCapsInt, "0x{:X}"), (HexInt, "0x{:x}"), (OctalInt, "0o{:o}"), (BinaryInt, "0b{:b}"))


def int_text(value: int) -> str:
    """An integer for a message: its digits as written, or its size when it is huge."""
    if abs(value) < 10 ** MAX_SHOWN_DIGITS:
        shown = next((form for kind, form in AS_WRITTEN if isinstance(value, kind)), "{}")
        return shown.format(value) if value >= 0 else "-" + shown.format(-value)
    digits = int(value.bit_length() * 0.30103) + 1  # log10(2): no conversion of the value
    return f"{'-' if value < 0 else ''}<about {digits} digits>"


def describe(value: Any) -> str:
    """Name a YAML value's type for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({int_text(value)})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    tag = getattr(value, "tag", None)
    if tag is not None and getattr(tag, "value", None):
        return f"a tagged value ({tag.value})"
    if isinstance(value, (bytes, bytearray)):
        return "binary data"
    return f"a {type(value).__name__} ({value})"


def text_problem(value: str, max_len: int = MAX_NAME) -> Optional[str]:
    """What is wrong with a one-line name, title or path (control characters, length)."""
    found = repofiles.CONTROL.search(value)
    if found:
        return (f"must not contain control characters (found {repr(found.group())[1:-1]} "
                f"at position {found.start() + 1})")
    if len(value) > max_len:
        return f"is {len(value)} characters long; at most {max_len} are allowed"
    return None


def encoding_problem(value: str) -> Optional[str]:
    """Text that cannot be written as UTF-8: lone surrogates (YAML's "\\ud800", a flag's
    bytes that are not UTF-8). What validates must render, so they are refused here."""
    found = repofiles.SURROGATE.search(value)
    if found:
        return (f"must be valid Unicode text (found the lone surrogate {repr(found.group())[1:-1]} "
                f"at position {found.start() + 1}; it cannot be written as UTF-8)")
    return None


def suggest(word: str, choices: Sequence[str]) -> Optional[str]:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def check(row: schema.Key, value: Any) -> Optional[str]:
    if isinstance(value, str) and encoding_problem(value):
        return encoding_problem(value)
    for refused, why in row.refuse:
        if value == refused and not isinstance(value, bool):
            return why
    return CHECKS[row.kind](row, value)


def _version(row: schema.Key, v: Any) -> Optional[str]:
    if isinstance(v, bool) or not isinstance(v, int):
        return f"expected the integer {row.default}, got {describe(v)}"
    if v != row.default:
        return f"unsupported version {int_text(v)} (this repo2desktop reads version {row.default})"
    return None


def _str(row: schema.Key, v: Any) -> Optional[str]:
    """A string; with max_len it is one-line text (a name, title or path): no control
    characters, at most max_len characters. Commands (no max_len) may span lines."""
    if v is None and row.nullable:
        return None
    if not isinstance(v, str):
        return f"expected a string, got {describe(v)}"
    if not v.strip():
        return "must not be empty"
    if "\0" in v:
        return "must not contain a NUL character"
    if row.max_len is not None:
        return text_problem(v, row.max_len)
    return None


def _int(row: schema.Key, v: Any) -> Optional[str]:
    if v is None and row.nullable:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        return f"expected an integer, got {describe(v)}"
    if not row.low <= v <= row.high:
        return f"{int_text(v)} is out of range ({row.low} to {row.high})"
    return None


def _depth(row: schema.Key, v: Any) -> Optional[str]:
    if type(v) is not bool and isinstance(v, int) and v in row.choices:
        return None
    return f"expected one of {', '.join(map(str, row.choices))}; got {describe(v)}"


def _geometry(row: schema.Key, v: Any) -> Optional[str]:
    match = schema.GEOMETRY.fullmatch(v) if isinstance(v, str) else None
    if not match:
        shown = repr(v) if isinstance(v, str) and len(v) <= 40 else describe(v)
        return f"{shown} is not WIDTHxHEIGHT (e.g. {row.default})"
    if int(match.group(1)) > row.high or int(match.group(2)) > row.high:
        return f"{v!r} is too large (at most {row.high}x{row.high})"
    return None


def _bool(row: schema.Key, v: Any) -> Optional[str]:
    return None if isinstance(v, bool) else f"expected true or false, got {describe(v)}"


def _choice(row: schema.Key, v: Any) -> Optional[str]:
    choices = row.choices
    if not isinstance(v, str):
        return f"expected one of: {', '.join(choices)}; got {describe(v)}"
    if v not in choices:
        hint = suggest(v, choices)
        return f"{v!r} is not one of: {', '.join(choices)}" + (f"; did you mean {hint!r}?" if hint else "")
    return None


CHECKS = {"version": _version, "str": _str, "int": _int, "depth": _depth, "geometry": _geometry,
          "bool": _bool, "choice": _choice}
