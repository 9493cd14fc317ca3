"""Find a repository's desktop.yml and turn it (plus any overrides) into a DesktopConfig."""
from __future__ import annotations

import dataclasses
import os
from typing import Dict, Optional

from ruamel.yaml.comments import CommentedMap

from repo2desktop.config import envfiles
from repo2desktop.config.model import DesktopConfig
from repo2desktop.config.loader import load_document, shown_path
from repo2desktop.config.validate import validate

# repo2docker's order: a binder/ (or .binder/) folder wins over the top level.
CANDIDATES = ("binder/desktop.yml", ".binder/desktop.yml", "desktop.yml")
DEFAULTS_NAME = "<defaults: version 1>"

# Dotted desktop.yml keys that command-line flags and nbnovnc's traitlets may override.
OVERRIDABLE = ("display.geometry", "display.depth", "display.number", "novnc.directory",
               "vnc.command", "vnc.server", "websockify.command")


def find_config(path: Optional[str]) -> Optional[str]:
    """A desktop.yml for PATH (a file or a repository folder), or None for the defaults.

    Whatever is named desktop.yml counts (a symlink, a FIFO, a folder...): the loader then
    refuses what it must not read, with a located error, instead of silently using defaults.
    """
    path = path or "."
    if not os.path.isdir(path):
        return path  # a file, or something the loader reports as a located error
    for candidate in CANDIDATES:
        full = os.path.join(path, candidate)
        if os.path.lexists(full):
            return full
    return None


def load(path: Optional[str], overrides: Optional[Dict[str, object]] = None) -> DesktopConfig:
    """Load PATH's desktop.yml (or the defaults), apply overrides, validate."""
    found = find_config(path)
    if found is None:
        document, shown, base_dir = CommentedMap(version=1), DEFAULTS_NAME, os.getcwd()
    else:
        document = load_document(found)
        shown = shown_path(found)
        base_dir = os.path.dirname(os.path.abspath(found))
    if overrides and isinstance(document, dict):
        for dotted, value in overrides.items():
            if value is None:
                continue
            section, key = dotted.split(".", 1)
            if not isinstance(document.get(section), dict):
                document[section] = CommentedMap()
            document[section][key] = value
    config = validate(document, shown, base_dir)
    if found is not None and config.vnc.server == "tightvnc" and config.vnc.command is None:
        # Notebook apps (requirements.txt, environment.yml beside desktop.yml) open their
        # windows on this desktop too: warn about OpenGL ones as for autostarted apps.
        extra = envfiles.opengl_warnings(base_dir, os.path.dirname(shown))
        if extra:
            config = dataclasses.replace(config, warnings=config.warnings + extra)
    return config


def defaults() -> DesktopConfig:
    """The built-in desktop (version 1, nothing else), whatever files the folder holds."""
    return validate(CommentedMap(version=1), DEFAULTS_NAME, os.getcwd())
