"""Find a repository's desktop.yml and turn it (plus any overrides) into a DesktopConfig."""
from __future__ import annotations

import os
from typing import Dict, Optional

from ruamel.yaml.comments import CommentedMap

from .config import DesktopConfig
from .loader import load_document
from .validate import validate

# repo2docker's order: a binder/ (or .binder/) folder wins over the top level.
CANDIDATES = ("binder/desktop.yml", ".binder/desktop.yml", "desktop.yml")
DEFAULTS_NAME = "<defaults: version 1>"

# Dotted desktop.yml keys that command-line flags and nbnovnc's traitlets may override.
OVERRIDABLE = ("display.geometry", "display.depth", "display.number", "novnc.directory",
               "vnc.command", "vnc.server", "websockify.command")


def find_config(path: Optional[str]) -> Optional[str]:
    """A desktop.yml for PATH (a file or a repository folder), or None for the defaults."""
    path = path or "."
    if os.path.isfile(path):
        return path
    if not os.path.isdir(path):
        return path  # let the loader report a located "cannot read" error
    for candidate in CANDIDATES:
        full = os.path.join(path, candidate)
        if os.path.isfile(full):
            return full
    return None


def load(path: Optional[str], overrides: Optional[Dict[str, object]] = None) -> DesktopConfig:
    """Load PATH's desktop.yml (or the defaults), apply overrides, validate."""
    found = find_config(path)
    if found is None:
        document, shown, base_dir = CommentedMap(version=1), DEFAULTS_NAME, os.getcwd()
    else:
        document = load_document(found)
        shown = os.path.relpath(found) if not os.path.isabs(found) else found
        base_dir = os.path.dirname(os.path.abspath(found))
    if overrides and isinstance(document, dict):
        for dotted, value in overrides.items():
            if value is None:
                continue
            section, key = dotted.split(".", 1)
            if not isinstance(document.get(section), dict):
                document[section] = CommentedMap()
            document[section][key] = value
    return validate(document, shown, base_dir)
