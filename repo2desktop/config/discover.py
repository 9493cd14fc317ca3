"""Find a repository's desktop.yml and turn it (plus any overrides) into a DesktopConfig."""
from __future__ import annotations

import dataclasses
import os
from typing import Optional

from ruamel.yaml.comments import CommentedMap

from repo2desktop import vncservers
from repo2desktop.config import envfiles
from repo2desktop.config.model import DesktopConfig
from repo2desktop.config.loader import DuplicateKey, load_document, shown_path
from repo2desktop.config.overrides import Overrides, apply as apply_overrides
from repo2desktop.config.repofiles import BINDER_FOLDERS
from repo2desktop.config.validate import validate
from repo2desktop.errors import ConfigError, Repo2DesktopError

NAME = "desktop.yml"
DEFAULTS_NAME = "<defaults: version 1>"


class BinderFoldersClash(Repo2DesktopError):
    """A repository with both binder/ and .binder/, which repo2docker refuses to build."""

    exit_code = 2


def binder_folder(folder: str) -> str:
    """repo2docker's ``binder_dir`` for the repository FOLDER: "binder" or ".binder" when that
    folder exists, else "" (the top level). repo2docker refuses a repository with both."""
    present = [name for name in BINDER_FOLDERS if os.path.isdir(os.path.join(folder, name))]
    if len(present) > 1:
        raise BinderFoldersClash(
            f"{shown_path(folder)}: both binder/ and .binder/ exist; repo2docker refuses to build "
            "such a repository (it reads one of them, never both): keep one")
    return present[0] if present else ""


def expected_path(folder: str) -> str:
    """Where FOLDER's desktop.yml is read from: in binder/ (or .binder/) when that folder
    exists, as repo2docker then ignores the top-level files; else at the top level."""
    return os.path.join(folder, binder_folder(folder), NAME)


def find_config(path: Optional[str]) -> Optional[str]:
    """A desktop.yml for PATH (a file or a repository folder), or None for the defaults.

    Whatever is named desktop.yml counts (a symlink, a FIFO, a folder...): the loader then
    refuses what it must not read, with a located error, instead of silently using defaults.
    """
    path = path or "."
    if not os.path.isdir(path):
        return path  # a file, or something the loader reports as a located error
    full = expected_path(path)
    return full if os.path.lexists(full) else None


def ignored_config_warning(path: Optional[str]) -> Optional[str]:
    """The warning for a top-level desktop.yml that a binder/ (or .binder/) folder hides from
    repo2docker, or None. Named both ways so it is never used by surprise."""
    path = path or "."
    if not os.path.isdir(path):
        return None  # a desktop.yml named on the command line is read as named
    folder = binder_folder(path)
    top = os.path.join(path, NAME)
    if not folder or not os.path.lexists(top):
        return None
    inside = os.path.join(path, folder, NAME)
    if os.path.realpath(inside) == os.path.realpath(top):
        return None  # binder/desktop.yml is a link to the top-level one: nothing is ignored
    used = shown_path(inside)
    why = f"{shown_path(top)}:1:1: warning: ignored because {folder}/ exists (repo2docker then reads only {folder}/)"
    if os.path.lexists(inside):
        return f"{why}; {used} is used"
    return f"{why} and there is no {used}: move the file there"


def load(path: Optional[str], overrides: Overrides = None) -> DesktopConfig:
    """Load PATH's desktop.yml (or the defaults), apply overrides, validate.

    OVERRIDES: overrides.Override items (or KEY: value, taken as the keys' flags); their
    problems are reported at their origin."""
    found = find_config(path)
    if found is None:
        # The folder looked in, so that `session --config BASE_DIR` loads the same defaults.
        document, shown, base_dir = CommentedMap(version=1), DEFAULTS_NAME, os.path.abspath(path or ".")
    else:
        shown = shown_path(found)
        base_dir = os.path.dirname(os.path.abspath(found))
        try:
            document = load_document(found)
        except DuplicateKey as e:
            raise _with_other_problems(e, shown, base_dir, overrides) from None
    origins = apply_overrides(document, overrides)
    config = validate(document, shown, base_dir, origins)
    if found is not None and config.vnc.lacks_glx:
        # Notebook apps (requirements.txt, environment.yml beside desktop.yml) open their
        # windows on this desktop too: warn about OpenGL ones as for autostarted apps.
        extra = envfiles.opengl_warnings(base_dir, os.path.dirname(shown),
                                         vncservers.get(config.vnc.server).limits_hint)
        if extra:
            config = dataclasses.replace(config, warnings=config.warnings + extra)
    ignored = ignored_config_warning(path)
    if ignored:
        config = dataclasses.replace(config, warnings=(ignored,) + config.warnings)
    return config


def _with_other_problems(duplicate: DuplicateKey, shown: str, base_dir: str,
                         overrides: Overrides) -> ConfigError:
    """A duplicate key, and every other problem of the file (read with the first of each
    duplicate kept): all problems at once, in the order of the file."""
    if duplicate.document is None:
        return duplicate
    try:
        validate(duplicate.document, shown, base_dir, apply_overrides(duplicate.document, overrides))
    except ConfigError as e:
        problems = list(duplicate.problems) + list(e.problems)
        return ConfigError(sorted(problems, key=lambda p: (p.line, p.col)))
    return duplicate


def defaults() -> DesktopConfig:
    """The built-in desktop (version 1, nothing else), whatever files the folder holds."""
    return validate(CommentedMap(version=1), DEFAULTS_NAME, os.getcwd())
