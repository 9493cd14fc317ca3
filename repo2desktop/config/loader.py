"""Read desktop.yml: the only module that parses YAML.

It returns ruamel.yaml's round-trip document, which remembers the line and column of
every key and value, so that validation can point at the exact spot of each problem.
Everything that can go wrong while *reading* (not validating) becomes a located Problem.
"""
from __future__ import annotations

import os
import warnings
from typing import Any, Optional

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import (AliasEvent, CollectionEndEvent, CollectionStartEvent,
                                ScalarEvent)
from ruamel.yaml.parser import RoundTripParser
from ruamel.yaml.scanner import RoundTripScanner

from repo2desktop.config import repofiles
from repo2desktop.errors import ConfigError, Problem

# A desktop.yml is a few dozen lines; anything this big is a mistake (a log, a dataset).
# ruamel's pure-Python scanner needs ~3 us per character (a 256 KiB comment took 0.9 s):
# 64 KiB keeps the worst case well under the one second any input may take.
MAX_BYTES = 64 * 1024
# Keys, items and scalars, each alias counted as what it expands to. A real desktop.yml has
# a few hundred at most; the cap keeps reading (pure-Python ruamel) well under a second and
# defuses alias bombs ("billion laughs") for everything that walks the document later.
MAX_NODES = 2000
# Nesting that deep is no configuration; ruamel's composer recurses per level.
MAX_DEPTH = 50


def _problem(file: str, line: int, col: int, message: str, key_path: str = "") -> ConfigError:
    return ConfigError([Problem(file, line, col, key_path, message)])


def shown_path(path: str) -> str:
    """PATH as messages show it: relative paths stay relative; control characters escaped
    (a line break in a file name must not start a new line of output or of a generated file)."""
    shown = os.path.relpath(path) if not os.path.isabs(path) else path
    return repofiles.escape_controls(shown)


def read_text(path: str, root: Optional[str] = None) -> str:
    """Return the file's text, or raise a located ConfigError for unreadable input.

    Only a regular file whose real path is inside ROOT (default: the repository of PATH,
    see repofiles.repo_root) is read: a symlink pointing elsewhere, a FIFO, a device or a
    folder is refused without showing anything of it.
    """
    shown = shown_path(path)
    if repofiles.SURROGATE.search(path):
        # Bytes that are not UTF-8 in a folder's name: the generated files' header names it.
        raise _problem(shown, 1, 1, "the path of desktop.yml is not valid UTF-8")
    if shown != (os.path.relpath(path) if not os.path.isabs(path) else path):
        raise _problem(shown, 1, 1, "the path of desktop.yml contains a control character")
    root = root if root is not None else repofiles.repo_root(os.path.dirname(os.path.abspath(path)))
    try:
        data = repofiles.read_bytes(path, root, MAX_BYTES)
    except repofiles.TooLarge as e:
        raise _problem(shown, 1, 1, f"the file is {e.size} bytes; desktop.yml is limited to {MAX_BYTES} bytes") from None
    except repofiles.Refused as e:
        raise _problem(shown, 1, 1, f"the file {e}") from None
    except OSError as e:
        raise _problem(shown, 1, 1, f"cannot read the file: {e.strerror}") from None
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
    try:
        document = _load(text, allow_duplicates=False)
    except _TooDeep as e:
        raise _problem(file, e.line, e.col, f"nested more than {MAX_DEPTH} levels deep") from None
    except _TooManyNodes as e:
        raise _problem(file, e.line, e.col, f"more than {MAX_NODES} YAML nodes (keys, items and values, "
                       f"each alias counted as what it expands to); desktop.yml is limited to "
                       f"{MAX_NODES}") from None
    except DuplicateKeyError as e:
        mark = e.problem_mark
        key = _duplicate_key_name(e)
        try:
            lenient = _load(text, allow_duplicates=True)  # the first of each duplicate kept
        except Exception:
            lenient = None
        parent = _mapping_path(lenient, e.context_mark)
        path = f"{parent}.{key}" if parent and key else key
        first = e.context_mark.line + 1 if e.context_mark else None
        message = "duplicate key" + (f" (the mapping starts at line {first})" if first else "")
        raise DuplicateKey([Problem(file, mark.line + 1, mark.column + 1, path, message)],
                           lenient) from e
    except MarkedYAMLError as e:
        _check_tabs(text, file)  # ruamel's message for a tab in indentation is cryptic
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join((e.problem or e.context or "invalid YAML").split())
        raise _problem(file, line, col, f"invalid YAML: {what}") from e
    except ValueError as e:
        if "integer string conversion" in str(e):
            # Python refuses to read decimal integers of over 4300 digits.
            raise _problem(file, 1, 1, "invalid YAML: an integer of more than 4300 digits") from None
        _check_tabs(text, file)
        raise _problem(file, 1, 1, _plain_error(e)) from e
    except Exception as e:
        # ruamel raises plain Python errors for some malformed tags and directives
        # (IndexError, KeyError, AttributeError, AssertionError, ...): still one located line.
        _check_tabs(text, file)
        raise _problem(file, 1, 1, _plain_error(e)) from e
    return document


class DuplicateKey(ConfigError):
    """A key given twice. DOCUMENT is the file read with the first of each duplicate kept
    (None if even that fails), so that its other problems can be reported with it."""

    def __init__(self, problems: Any, document: Any):
        super().__init__(problems)
        self.document = document


def _plain_error(e: Exception) -> str:
    first = (str(e).splitlines() or [""])[0]
    return f"invalid YAML: {type(e).__name__}: {first}".rstrip(": ")


class _TooManyNodes(Exception):
    def __init__(self, mark: Any):
        super().__init__("too many nodes")
        self.line, self.col = (mark.line + 1, mark.column + 1) if mark else (1, 1)


class _TooDeep(_TooManyNodes):
    pass


class _BudgetParser(RoundTripParser):
    """ruamel's round-trip parser that counts the nodes the composer receives, each alias
    as the size of its anchor's node, and stops at MAX_NODES: reading stays one pass."""

    def __init__(self, loader: Any) -> None:
        super().__init__(loader)
        self._total = 0
        self._open: list = []  # [anchor, total when the collection started]
        self._sizes: dict = {}

    def _add(self, count: int, event: Any) -> None:
        self._total += count
        if self._total > MAX_NODES:
            raise _TooManyNodes(event.start_mark)

    def get_event(self) -> Any:
        event = super().get_event()
        if isinstance(event, AliasEvent):
            # An anchor still open (a recursive alias) counts once: nothing expands it.
            self._add(self._sizes.get(event.anchor, 1), event)
        elif isinstance(event, ScalarEvent):
            self._add(1, event)
            if event.anchor:
                self._sizes[event.anchor] = 1
        elif isinstance(event, CollectionStartEvent):
            self._add(1, event)
            self._open.append((event.anchor, self._total - 1))
            if len(self._open) > MAX_DEPTH:
                raise _TooDeep(event.start_mark)
        elif isinstance(event, CollectionEndEvent) and self._open:
            anchor, began = self._open.pop()
            if anchor:
                self._sizes[anchor] = self._total - began
        return event


class _DepthScanner(RoundTripScanner):
    """ruamel's scanner, stopping at MAX_DEPTH open flow collections ('[[[[...'): it scans
    all of them before the parser sees the first, in time quadratic in their number."""

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: Any) -> None:
        if self.flow_level >= MAX_DEPTH:
            raise _TooDeep(self.reader.get_mark())
        super().fetch_flow_collection_start(TokenClass, to_push)


def _load(text: str, allow_duplicates: bool) -> Any:
    yaml = YAML(typ="rt")
    yaml.Scanner = _DepthScanner
    yaml.Parser = _BudgetParser
    yaml.allow_duplicate_keys = allow_duplicates
    with warnings.catch_warnings():
        # ruamel warns (e.g. ReusedAnchorWarning, YAML 1.1 floats) through Python's warnings;
        # such documents are still valid YAML, so the warning is not the user's problem.
        warnings.simplefilter("ignore")
        return yaml.load(text)


def _mapping_path(document: Any, mark: Optional[Any]) -> str:
    """The dotted key path of the mapping that starts at MARK (for duplicate-key errors)."""
    if mark is None or document is None:
        return ""

    seen: set = set()

    def walk(node: Any, path: str) -> Optional[str]:
        # Aliases share nodes: visit each once (linear in the document, and recursion-proof).
        if isinstance(node, (dict, list)):
            if id(node) in seen:
                return None
            seen.add(id(node))
        if isinstance(node, dict):
            lc = getattr(node, "lc", None)
            if lc is not None and (lc.line, lc.col) == (mark.line, mark.column):
                return path
            for key, value in node.items():
                found = walk(value, f"{path}.{key}" if path else str(key))
                if found is not None:
                    return found
        elif isinstance(node, list):
            for index, value in enumerate(node):
                found = walk(value, f"{path}[{index}]")
                if found is not None:
                    return found
        return None

    return walk(document, "") or ""


def _duplicate_key_name(e: DuplicateKeyError) -> str:
    # ruamel's problem text reads: found duplicate key "NAME" with value ...
    problem = e.problem or ""
    if '"' in problem:
        return problem.split('"')[1]
    return ""


def load_document(path: str) -> Any:
    """Read and parse ``path``; the document may still be any YAML value."""
    return parse(read_text(path), shown_path(path))

