"""desktop.yml written out from the schema table: the README's key reference and `init`'s starter.

Each key is a line ``key: value   # allowed values; its documentation; its overrides``; the
value is the default, or the row's example where the default is empty. Pure text: nothing
here reads YAML (loader.py does; a unit test reads these texts back through it).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from repo2desktop.config import schema

COMMENT_COLUMN = 30
# Strings YAML reads back as themselves without quotes: safe characters, and not a number,
# boolean or null in YAML 1.1 or 1.2 ('0x800' is hex, '1:20' sexagesimal, 'on' a boolean).
PLAIN = re.compile(r"[A-Za-z0-9_./$][A-Za-z0-9_./$ +=-]*")
WORDS = re.compile(r"(?i)true|false|yes|no|y|n|on|off|null|~")
NUMBER = re.compile(r"[-+]?(\.[0-9]|[0-9][0-9_]*([.eE:]|$)|0[xXoObB])")
BEGIN = "<!-- desktop.yml keys: generated from repo2desktop/config/schema.py by `make readme-keys` -->"
END = "<!-- end of the generated keys -->"


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if PLAIN.fullmatch(text) and not WORDS.fullmatch(text) and not NUMBER.match(text) \
            and not text.endswith(" "):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def allowed(row: schema.Key) -> str:
    """ROW's allowed values in words ("" where its documentation says it)."""
    if row.kind == "int":
        return f"{row.low} to {row.high}" + (f", or {row.auto}" if row.auto else "") + \
            (", or null" if row.nullable else "")
    if row.kind == "depth":
        return ", ".join(map(str, row.choices[:-1])) + f" or {row.choices[-1]}"
    if row.kind == "choice":
        return " | ".join(row.choices)
    if row.kind == "geometry":
        return f"up to {row.high}x{row.high}"
    return ""


def comment(row: schema.Key, overrides: bool = True, example: bool = False) -> List[str]:
    """ROW's comment lines: allowed values and documentation; with OVERRIDES its flag,
    nbnovnc name and replacement fields on lines of their own."""
    parts = ["required" if row.required else "", allowed(row), row.doc,
             "an example (default: none)" if example else ""]
    lines = ["; ".join(p for p in parts if p)]
    if overrides and row.flag:
        lines.append(f"  overridden by {row.flag}" + (f" and c.NBNoVNC.{row.trait}" if row.trait else ""))
    if overrides and row.fields:
        lines.append("  fields: " + " ".join("{" + f + "}" for f in row.fields))
    return lines


def _line(indent: str, text: str, note: List[str]) -> str:
    if not note:
        return indent + text
    first = f"{indent + text:<{COMMENT_COLUMN - 1}} # {note[0]}"
    return "\n".join([first] + [f"{'':<{COMMENT_COLUMN - 1}} # {more}" for more in note[1:]])


def _example(row: schema.Key, values: Optional[Dict[str, Any]]) -> bool:
    """Is ROW shown with its example (the reference, where the default is empty)?"""
    return values is None and row.example is not None and row.default in (None, (), [])


def _shown(row: schema.Key, values: Optional[Dict[str, Any]]) -> Any:
    if values is not None:
        return values[row.path]
    return row.example if _example(row, values) else row.default


def _key(row: schema.Key, value: Any, indent: str, notes: str, first: str = "",
         example: bool = False) -> List[str]:
    """ROW with VALUE at INDENT (FIRST: "- " for the first key of a list item)."""
    lead = indent + first
    note = comment(row, notes == "all", example) if notes else []
    name = row.name
    if row.kind == "strings" and value:
        return [_line(lead, f"{name}:", note)] + [f"{indent}  - {scalar(v)}" for v in value]
    if row.kind in ("strings", "env") and not value:
        return [_line(lead, f"{name}: {'[]' if row.kind == 'strings' else '{}'}", note)]
    if row.kind == "env":
        pairs = value.items() if isinstance(value, dict) else value
        return [_line(lead, f"{name}:", note)] + [f"{indent}  {k}: {scalar(v)}" for k, v in pairs]
    if row.kind == "named":
        lines = [_line(lead, f"{name}:", note)]
        for entry, body in value.items():
            lines.append(_line(indent + "  ", f"{entry}:", ["a name: letters, digits, '-' and '_'"] if notes else []))
            lines += _item(f"{row.path}.<name>", body, indent + "    ", notes, "")
        return lines
    if row.kind == "items":
        lines = [_line(lead, f"{name}:", note)]
        for body in value:
            lines += _item(f"{row.path}[]", body, indent + "  ", notes, "- ")
        return lines
    return [_line(lead, f"{name}: {scalar(value)}", note)]


def _item(table_path: str, body: Dict[str, Any], indent: str, notes: str, first: str) -> List[str]:
    lines: List[str] = []
    for row in schema.children(table_path):
        if not notes and row.name not in body:
            continue
        value = body.get(row.name, schema.default(row.path))
        lines += _key(row, value, indent + ("  " if lines and first else ""), notes, "" if lines else first)
    return lines


def yaml_text(values: Optional[Dict[str, Any]] = None, notes: str = "all", spaced: bool = True) -> str:
    """desktop.yml text: every key (VALUES None: defaults, or examples where those are
    empty), or only the key paths VALUES names, with those values. NOTES: "all" (comments
    with overrides and fields), "short" (allowed values and documentation) or ""."""
    blocks = []
    for row in schema.children(""):
        if row.kind == "section":
            rows = [r for r in schema.children(row.path) if values is None or r.path in values]
            if not rows:
                continue
            lines = [_line("", f"{row.name}:", [row.doc] if notes else [])]
            for child in rows:
                lines += _key(child, _shown(child, values), "  ", notes, example=_example(child, values))
        elif values is None or row.path in values:
            lines = _key(row, _shown(row, values), "", notes, example=_example(row, values))
        else:
            continue
        blocks.append("\n".join(lines))
    return ("\n\n" if spaced else "\n").join(blocks) + "\n"


def markdown() -> str:
    """The README's block: every key with its default (or an example), fenced, with markers."""
    return f"{BEGIN}\n```yaml\n{yaml_text()}```\n{END}\n"


def splice(readme: str) -> str:
    """README text with its generated block (between BEGIN and END) replaced by markdown()."""
    start, end = readme.index(BEGIN), readme.index(END) + len(END) + 1
    return readme[:start] + markdown() + readme[end:]


if __name__ == "__main__":  # `make readme-keys`
    import sys

    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        f.write(splice(text))
