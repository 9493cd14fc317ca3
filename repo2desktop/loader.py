"""Read desktop.yml: the only module that parses YAML.

It returns ruamel.yaml's round-trip document, which remembers the line and column of
every key and value, so that validation can point at the exact spot of each problem.
Everything that can go wrong while *reading* (not validating) becomes a located Problem.
"""
from __future__ import annotations

import os
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .errors import ConfigError, Problem

# A desktop.yml is a few dozen lines; anything this big is a mistake (a log, a dataset).
MAX_BYTES = 256 * 1024


def _problem(file: str, line: int, col: int, message: str, key_path: str = "") -> ConfigError:
    return ConfigError([Problem(file, line, col, key_path, message)])


def read_text(path: str) -> str:
    """Return the file's text, or raise a located ConfigError for unreadable input."""
    shown = os.path.relpath(path) if not os.path.isabs(path) else path
    try:
        size = os.path.getsize(path)
    except OSError as e:
        raise _problem(shown, 1, 1, f"cannot read the file: {e.strerror}") from e
    if size > MAX_BYTES:
        raise _problem(shown, 1, 1, f"the file is {size} bytes; desktop.yml is limited to {MAX_BYTES} bytes")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise _problem(shown, 1, 1, f"cannot read the file: {e.strerror}") from e
    return decode(data, shown)


def decode(data: bytes, file: str) -> str:
    nul = data.find(b"\0")
    if nul >= 0:
        raise _problem(file, 1, 1, f"not a text file (binary data at byte {nul})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise _problem(file, line, col, "not valid UTF-8 text") from e


def _check_tabs(text: str, file: str) -> None:
    """YAML forbids tabs in indentation; ruamel's own message for it is cryptic."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            col = len(line) - len(stripped) + 1
            raise _problem(file, number, col, "tab character in indentation; YAML needs spaces")


def parse(text: str, file: str) -> Any:
    """Parse YAML text into a round-trip document; located errors only, never a traceback."""
    if not text.strip() or all(
        not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        raise _problem(file, 1, 1, "the file is empty (a minimal desktop.yml is 'version: 1')")
    _check_tabs(text, file)
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        document = yaml.load(text)
    except DuplicateKeyError as e:
        mark = e.problem_mark
        key = _duplicate_key_name(e)
        first = e.context_mark.line + 1 if e.context_mark else None
        message = "duplicate key" + (f" (the mapping starts at line {first})" if first else "")
        raise _problem(file, mark.line + 1, mark.column + 1, message, key) from e
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = (e.problem or e.context or "invalid YAML").strip()
        raise _problem(file, line, col, f"invalid YAML: {what}") from e
    except (YAMLError, RecursionError, ValueError, TypeError) as e:
        # ruamel raises plain errors for a few pathological inputs (deep nesting, bad tags).
        raise _problem(file, 1, 1, f"invalid YAML: {type(e).__name__}: {e}".splitlines()[0]) from e
    return document


def _duplicate_key_name(e: DuplicateKeyError) -> str:
    # ruamel's problem text reads: found duplicate key "NAME" with value ...
    problem = e.problem or ""
    if '"' in problem:
        return problem.split('"')[1]
    return ""


def load_document(path: str) -> Any:
    """Read and parse ``path``; the document may still be any YAML value."""
    shown = os.path.relpath(path) if not os.path.isabs(path) else path
    return parse(read_text(path), shown)


def load_config(path: str):
    """Read, parse and validate ``path`` into a DesktopConfig (raises ConfigError)."""
    from .validate import validate  # validate imports config only; no cycle at import time

    shown = os.path.relpath(path) if not os.path.isabs(path) else path
    return validate(load_document(path), shown)
