"""The generic located reader: walks a parsed desktop.yml along the schema table.

Each problem is located (line:col of the offending key or value, or the flag or setting an
override came from) and names the dotted key path; reading goes on after a problem, so that
every problem is reported at once. What is specific to one key lives in validate.py.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from ruamel.yaml.comments import CommentedSeq

from repo2desktop.config import repofiles, schema
from repo2desktop.config.checks import (MAX_SHOWN_DIGITS, check, describe, encoding_problem,
                                        int_text, suggest)
from repo2desktop.config.schema import MAX_NAME
from repo2desktop.errors import Problem

# ruamel's scalars (quoted strings, hex integers) as the plain Python values they are.
PLAIN = {"str": str, "geometry": str, "choice": str, "int": int, "depth": int, "version": int,
         "bool": bool}


class Ctx:
    """The problems found so far. ORIGINS: key path -> where an override came from (a flag
    or a c.NBNoVNC setting); problems of that path are located there, not in the file."""

    def __init__(self, file: str, origins: Optional[Dict[str, str]] = None):
        self.file = file
        self.origins = origins or {}
        self.problems: List[Problem] = []

    def add(self, pos: Tuple[int, int], path: str, message: str, severity: str = "error") -> None:
        origin = self.origins.get(path)
        if origin is not None:
            self.problems.append(Problem(origin, 0, 0, path, message, severity))
        else:
            self.problems.append(Problem(self.file, pos[0], pos[1], path, message, severity))


def pos_key(node: Any, key: Any) -> Tuple[int, int]:
    try:
        line, col = node.lc.key(key)
        return line + 1, col + 1
    except Exception:
        return pos_node(node)


def pos_value(node: Any, key: Any) -> Tuple[int, int]:
    try:
        if isinstance(node, dict) and node.get(key) is None:
            return pos_key(node, key)  # ruamel places a null value at the next token
        if isinstance(node, CommentedSeq):
            line, col = node.lc.item(key)
        else:
            line, col = node.lc.value(key)
        return line + 1, col + 1
    except Exception:
        return pos_key(node, key)


def pos_node(node: Any) -> Tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is not None and lc.line is not None:
        return lc.line + 1, lc.col + 1
    return 1, 1


def join(path: str, key: Any) -> str:
    if isinstance(key, bool) or not isinstance(key, int):
        shown = str(key) if isinstance(key, str) and key.isprintable() and " " not in key else repr(key)
    else:
        shown = int_text(key)
    if len(shown) > 2 * MAX_NAME:
        shown = shown[:MAX_NAME] + "..."
    return f"{path}.{shown}" if path else shown


def child(path: str, key: Any) -> str:
    """PATH.KEY as these messages always wrote it, with control characters escaped, huge
    integers summarised and very long keys cut."""
    if isinstance(key, int) and not isinstance(key, bool):
        shown = int_text(key)
    else:
        shown = repofiles.escape_controls(str(key))
    if len(shown) > 2 * MAX_NAME:
        shown = shown[:MAX_NAME] + "..."
    return f"{path}.{shown}"


def unknown(key: str, allowed: Sequence[str]) -> str:
    hint = suggest(key, allowed)
    if hint:
        return f"unknown key; did you mean {hint!r}?"
    return f"unknown key (allowed here: {', '.join(allowed)})"


class Section:
    """One mapping of the document, read along the table's rows under TABLE_PATH ("" for
    the top level, "home[]", "programs.<name>"); unknown keys are reported at once."""

    def __init__(self, ctx: Ctx, node: Any, path: str, table_path: str, parent=None, key=None):
        self.ctx, self.path, self.table_path = ctx, path, table_path
        self.allowed = schema.allowed(table_path)
        self.node: Optional[dict] = None
        if node is None:
            return
        if not isinstance(node, dict):
            pos = pos_value(parent, key) if parent is not None else pos_node(node)
            ctx.add(pos, path, f"expected a mapping, got {describe(node)}")
            return
        self.node = node
        for k in node:
            if not isinstance(k, str):
                ctx.add(pos_key(node, k), join(path, k), "keys must be strings")
            elif k not in self.allowed:
                ctx.add(pos_key(node, k), join(path, k), unknown(k, self.allowed))

    def row(self, key: str) -> schema.Key:
        return schema.KEYS[f"{self.table_path}.{key}" if self.table_path else key]

    def has(self, key: str) -> bool:
        return self.node is not None and key in self.node

    def raw(self, key: str) -> Any:
        return self.node[key] if self.has(key) else None

    def section(self, key: str) -> "Section":
        return Section(self.ctx, self.raw(key), join(self.path, key), self.row(key).path,
                       self.node, key)

    def error(self, key: str, message: str, at_key: bool = False) -> None:
        pos = pos_key(self.node, key) if at_key else pos_value(self.node, key)
        self.ctx.add(pos, join(self.path, key), message)

    def warn(self, key: str, message: str) -> None:
        self.ctx.add(pos_value(self.node, key), join(self.path, key), message, "warning")

    def failed(self, key: str) -> bool:
        """Has KEY's value been reported as an error?"""
        path = join(self.path, key)
        return any(p.key_path == path and p.severity == "error" for p in self.ctx.problems)

    def missing_required(self) -> None:
        """Report each required key of this section that is not there (at the mapping)."""
        for row in schema.children(self.table_path):
            if row.required and self.node is not None and not self.has(row.name):
                self.ctx.add(pos_node(self.node), f"{self.path}.{row.name}", "required key is missing")

    def values(self) -> Dict[str, Any]:
        """Every leaf key of this section: its value, or the table's default (after
        reporting a problem, or when it is left out)."""
        return {row.name: self.value(row.name) for row in schema.children(self.table_path)
                if row.kind not in ("section", "items", "named")}

    def value(self, key: str) -> Any:
        row = self.row(key)
        fallback = schema.default(row.path)
        if not self.has(key):
            return fallback
        value = self.raw(key)
        if row.auto is not None and value == row.auto:
            return None
        if row.kind == "strings":
            return self._strings(key, fallback)
        if row.kind == "env":
            return self._env(key)
        message = check(row, value)
        if message:
            self.error(key, message)
            return fallback
        return None if value is None else PLAIN[row.kind](value)

    def _strings(self, key: str, fallback: Tuple[str, ...]) -> Tuple[str, ...]:
        value = self.raw(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            self.error(key, f"expected a list of strings, got {describe(value)}")
            return fallback
        items = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip() or "\0" in item:
                self.ctx.add(pos_value(value, i), f"{join(self.path, key)}[{i}]",
                             f"expected a non-empty string, got {describe(item)}")
            elif encoding_problem(item):
                self.ctx.add(pos_value(value, i), f"{join(self.path, key)}[{i}]", encoding_problem(item))
            else:
                items.append(str(item))
        return tuple(items)

    def _env(self, key: str) -> Tuple[Tuple[str, str], ...]:
        value = self.raw(key)
        if value is None:
            return ()
        if not isinstance(value, dict):
            self.error(key, f"expected a mapping of NAME: value, got {describe(value)}")
            return ()
        pairs = []
        for name, item in value.items():
            path = child(join(self.path, key), name)
            if not isinstance(name, str) or not schema.ENV_NAME.fullmatch(name):
                self.ctx.add(pos_key(value, name), path, "is not a valid variable name")
            elif isinstance(item, int) and not isinstance(item, bool) and abs(item) >= 10 ** MAX_SHOWN_DIGITS:
                self.ctx.add(pos_value(value, name), path,
                             f"{describe(item)} is too large for a number; quote it as a string")
            elif isinstance(item, (dict, list)) or item is None or not isinstance(item, (str, int, float)) \
                    or "\0" in str(item):
                self.ctx.add(pos_value(value, name), path,
                             f"expected a string or number, got {describe(item)}")
            elif isinstance(item, str) and encoding_problem(item):
                self.ctx.add(pos_value(value, name), path, encoding_problem(item))
            else:
                text = str(item).lower() if isinstance(item, bool) else str(item)
                pairs.append((str(name), text))
        return tuple(pairs)

    def items(self, key: str) -> List["Section"]:
        """The sections of a list of mappings under KEY (an `items` row), one per item."""
        node = self.raw(key)
        if node is None:
            return []
        if not isinstance(node, list):
            self.error(key, f"expected a list, got {describe(node)}")
            return []
        return [Section(self.ctx, item, f"{key}[{i}]", f"{self.row(key).path}[]", node, i)
                for i, item in enumerate(node)]
