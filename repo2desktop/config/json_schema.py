"""desktop.yml's JSON Schema, made from the schema table, for editors (YAML language server).

`repo2desktop schema` prints it, `init` writes it beside the starter desktop.yml and wheels
carry it as repo2desktop/config/desktop.schema.json (setup.py). It accepts what validate
accepts except for what only validate can see (files in the repository, TightVNC's limits,
VNC arguments and command templates), and refuses the same unknown keys, types, ranges and
choices. Draft 7: what the YAML language server reads.
"""
from __future__ import annotations

import json
from typing import Any, Dict

from repo2desktop.config import schema

FILE_NAME = "desktop.schema.json"
NOT_BLANK = r"\S"  # strings must hold more than white space ("must not be empty")


def _pattern(regex) -> str:
    """A Python pattern used with fullmatch, as an anchored ECMA 262 pattern."""
    return f"^(?:{regex.pattern})$"


def _nullable(kind: Any) -> list:
    return [kind, "null"]


def _leaf(row: schema.Key) -> Dict[str, Any]:
    kind = row.kind
    if kind == "version":
        return {"const": row.default}
    if kind == "int":
        number = {"type": _nullable("integer") if row.nullable else "integer",
                  "minimum": row.low, "maximum": row.high}
        return {"anyOf": [number, {"const": row.auto}]} if row.auto else number
    if kind == "depth" or kind == "choice":
        return {"enum": list(row.choices)}
    if kind == "geometry":
        return {"type": "string", "pattern": _pattern(schema.GEOMETRY)}
    if kind == "bool":
        return {"type": "boolean"}
    if kind == "str":
        text: Dict[str, Any] = {"type": _nullable("string") if row.nullable else "string",
                                "pattern": NOT_BLANK}
        if row.max_len is not None:
            text["maxLength"] = row.max_len
        return text
    if kind == "strings":
        return {"type": _nullable("array"), "items": {"type": "string", "pattern": NOT_BLANK}}
    if kind == "env":
        return {"type": _nullable("object"), "propertyNames": {"pattern": _pattern(schema.ENV_NAME)},
                "additionalProperties": {"type": ["string", "number", "boolean"]}}
    raise ValueError(f"{row.path}: no JSON Schema for kind {kind!r}")


def _mapping(table_path: str, nullable: bool = True) -> Dict[str, Any]:
    properties = {row.name: _node(row) for row in schema.children(table_path)}
    result: Dict[str, Any] = {"type": _nullable("object") if nullable else "object",
                              "properties": properties, "additionalProperties": False}
    required = [row.name for row in schema.children(table_path) if row.required]
    if required:
        result["required"] = required
    return result


def _node(row: schema.Key) -> Dict[str, Any]:
    if row.kind == "section":
        node = _mapping(row.path)
    elif row.kind == "items":
        node = {"type": _nullable("array"), "items": _mapping(f"{row.path}[]", nullable=False)}
    elif row.kind == "named":
        node = {"type": _nullable("object"),
                "propertyNames": {"pattern": _pattern(schema.PROGRAM_NAME),
                                  "not": {"enum": list(schema.RESERVED_PROGRAMS)}},
                "additionalProperties": _mapping(f"{row.path}.<name>", nullable=False)}
    else:
        node = _leaf(row)
    node["description"] = row.doc
    if row.kind not in ("section", "items", "named") and row.default is not None:
        node["default"] = row.written_default
    return node


def generate() -> Dict[str, Any]:
    document = _mapping("", nullable=False)
    return {"$schema": "http://json-schema.org/draft-07/schema#",
            "title": "desktop.yml (repo2desktop)",
            "description": "The Linux desktop repo2desktop adds to a repository's image.", **document}


def text() -> str:
    return json.dumps(generate(), indent=2) + "\n"
