"""Overrides of desktop.yml keys: command-line flags and nbnovnc's ``c.NBNoVNC`` settings.

Which keys may be overridden, their flags and traitlet names are rows of the schema table;
this module turns them into argparse options and back. Each override remembers where it came
from, so that a bad value is reported there (``--geometry: display.geometry: ...``), not at a
line of desktop.yml that holds something else.
"""
from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

from ruamel.yaml.comments import CommentedMap

from repo2desktop.config import schema

NBNOVNC = "c.NBNoVNC."
# `repo2desktop session` is given c.NBNoVNC settings as flags by the Jupyter server (tile.py);
# this flag says so, and its errors then name the settings rather than the flags.
FROM_NBNOVNC = "--from-nbnovnc"


@dataclass(frozen=True)
class Override:
    key: str  # dotted desktop.yml key
    value: Any
    origin: str  # where it came from: "--geometry", "c.NBNoVNC.geometry"


Overrides = Union[Iterable[Override], Mapping[str, Any], None]


def typed(row: schema.Key, value: Any) -> Any:
    """A flag's text as YAML would read it for ROW: integers for integer keys."""
    if isinstance(value, str) and row.kind in ("int", "depth") and re.fullmatch(r"-?[0-9]{1,9}", value.strip()):
        return int(value)
    return value


def _dest(row: schema.Key) -> str:
    return "override_" + row.path.replace(".", "_")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("overrides (nbnovnc's settings, win over desktop.yml)")
    for row in schema.overridable():
        shown = f"; default {row.default}" if row.default is not None else ""
        group.add_argument(row.flag, dest=_dest(row), metavar=row.name.upper(),
                           help=f"{row.path}: {row.doc}{shown}")
    parser.add_argument(FROM_NBNOVNC, action="store_true", help=argparse.SUPPRESS)


def from_args(args: argparse.Namespace) -> List[Override]:
    nbnovnc = getattr(args, FROM_NBNOVNC[2:].replace("-", "_"), False)
    result = []
    for row in schema.overridable():
        value = getattr(args, _dest(row), None)
        if value is not None:
            origin = NBNOVNC + row.trait if nbnovnc and row.trait else row.flag
            result.append(Override(row.path, typed(row, value), origin))
    return result


def from_traits(values: Mapping[str, Any]) -> List[Override]:
    """Overrides from c.NBNoVNC settings (TRAIT: value; None means not set)."""
    return [Override(row.path, typed(row, values[row.trait]), NBNOVNC + row.trait)
            for row in schema.overridable() if row.trait and values.get(row.trait) is not None]


def as_arguments(overrides: Overrides) -> List[str]:
    """The `repo2desktop session` flags carrying OVERRIDES."""
    args: List[str] = []
    listed = normalise(overrides)
    for item in listed:
        args += [schema.KEYS[item.key].flag, str(item.value)]
    if any(item.origin.startswith(NBNOVNC) for item in listed):
        args.append(FROM_NBNOVNC)
    return args


def normalise(overrides: Overrides) -> List[Override]:
    """A list of Override; a plain mapping KEY: value is taken as the keys' flags."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [Override(key, value, schema.KEYS[key].flag or key)
                for key, value in overrides.items() if value is not None]
    return [item for item in overrides if item.value is not None]


def apply(document: Any, overrides: Overrides) -> Dict[str, str]:
    """Put OVERRIDES into DOCUMENT (a parsed desktop.yml); return key path -> origin."""
    origins: Dict[str, str] = {}
    if not isinstance(document, dict):
        return origins
    for item in normalise(overrides):
        section: Optional[str]
        section, key = item.key.split(".", 1) if "." in item.key else (None, item.key)
        target = document
        if section is not None:
            if not isinstance(document.get(section), dict):
                document[section] = CommentedMap()
            target = document[section]
        target[key] = item.value
        origins[item.key] = item.origin
    return origins
