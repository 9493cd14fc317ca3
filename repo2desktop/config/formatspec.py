"""Format specs of command templates ({display:>10}), judged as str.format reads them.

A width or precision is memory: '{display:>999999999}' is a gigabyte string. str.format
reads any Unicode decimal digit there ('٩٩٩٩٩٩٩٩٩' is 999999999 too), after an optional
fill character that may itself be a digit, so the spec is parsed here the way CPython's
format-spec parser walks it (Python/formatter_unicode.c), not searched with an ASCII
pattern. Nested replacement fields ({x:{y}}) would be filled in before that parse, with
values this check cannot see: they are refused.
"""
from __future__ import annotations

import string
import unicodedata
from typing import Optional, Tuple

# Widths and precisions in command templates; a command line needs no more.
MAX_FORMAT_WIDTH = 200
ALIGN = "<>=^"
SIGN = "+- "
SHOWN_DIGITS = 12


def _digits(spec: str, pos: int) -> Tuple[str, int]:
    """The run of decimal digits (any script) at POS, and the position after it."""
    end = pos
    while end < len(spec) and unicodedata.decimal(spec[end], None) is not None:
        end += 1
    return spec[pos:end], end


def _number_problem(what: str, digits: str) -> Optional[str]:
    start = 0
    while start < len(digits) - 1 and unicodedata.decimal(digits[start]) == 0:
        start += 1  # leading zeros ('0' of any script) add nothing
    significant = digits[start:]
    # More than 3 significant digits is over the limit; int() of thousands of digits is not
    # even attempted (Python refuses over 4300).
    value = int(significant) if len(significant) <= 3 else None
    if value is not None and value <= MAX_FORMAT_WIDTH:
        return None
    if len(digits) > SHOWN_DIGITS:
        shown = f"{digits[:9]}... ({len(digits)} digits)"
    elif digits.isascii():
        shown = digits
    else:
        shown = f"{digits} ({int(digits)})"  # the value str.format reads in those digits
    return f"{what} {shown} is too large (at most {MAX_FORMAT_WIDTH})"


def spec_problem(spec: str) -> Optional[str]:
    """What is wrong with one replacement field's format spec, or None."""
    if "{" in spec:
        return "nested fields in a format spec are not supported"
    pos = 0
    if len(spec) >= 2 and spec[1] in ALIGN:
        pos = 2  # a fill character (any character, a digit too) and the alignment
    elif spec[:1] and spec[0] in ALIGN:
        pos = 1
    for flag in (SIGN, "z", "#", "0"):
        if pos < len(spec) and spec[pos] in flag:
            pos += 1
    width, pos = _digits(spec, pos)
    if width:
        problem = _number_problem("width", width)
        if problem:
            return problem
    while pos < len(spec) and spec[pos] in ",_":
        pos += 1
    if pos < len(spec) and spec[pos] == ".":
        precision, pos = _digits(spec, pos + 1)
        if precision:
            problem = _number_problem("precision", precision)
            if problem:
                return problem
        while pos < len(spec) and spec[pos] in ",_":  # grouping of the fraction (3.14)
            pos += 1
    if len(spec) - pos > 1:
        # str.format refuses this spec too; said here so that nothing is formatted with it.
        return f"{spec!r} is not a format spec (see Python's Format Specification Mini-Language)"
    return None


def template_problem(template: str) -> Optional[str]:
    """The first problem of TEMPLATE's replacement fields' specs (or its syntax), or None."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        return f"cannot be formatted: {e}"
    for _, name, spec, _ in parsed:
        problem = spec_problem(spec or "") if name is not None else None
        if problem:
            return f"replacement field {{{name}}}: {problem}"
    return None
