"""The repository's own environment files, beside desktop.yml, as far as the desktop cares.

repo2docker reads requirements.txt, environment.yml and runtime.txt from the folder that
holds the configuration (binder/, .binder/ or the top level), which is also desktop.yml's
folder. Two things here need them:

- ``opengl_warnings``: an OpenGL app opened from a notebook (napari in requirements.txt) on
  TightVNC, which has no GLX: the same warning as for an autostarted one, located in the
  file that names it;
- ``runtime_python``: what runtime.txt asks for, for the lean Python path (``python: venv``).

Read through repofiles, as every repository file is: only regular files of at most MAX_BYTES
whose real path is inside the repository (a symlink within it is followed, as repo2docker
follows it); anything else is treated as absent (these are hints, not validation).
"""
from __future__ import annotations

import os
import re
from typing import List, Optional, Tuple

from repo2desktop.config import opengl, repofiles
from repo2desktop.errors import Problem

MAX_BYTES = 1 << 20
# A requirement's or a conda spec's name: up to the first version, extra, marker or space.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def read_text(folder: str, name: str) -> Optional[str]:
    """FOLDER/NAME as text when repofiles would read it (a regular file of at most MAX_BYTES
    whose real path is inside the repository of FOLDER), else None."""
    try:
        data = repofiles.read_bytes(os.path.join(folder, name), repofiles.repo_root(folder), MAX_BYTES)
    except (repofiles.Refused, OSError):
        return None
    return data.decode("utf-8", errors="replace")


def package_names(text: str, conda: bool) -> List[Tuple[int, int, str]]:
    """(line, col, lower-case name) of each package a requirements.txt / environment.yml names.

    Line-based on purpose: a broken environment.yml is repo2docker's to report, and the
    names are all this needs."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0]
        stripped = content.lstrip()
        col = len(content) - len(stripped) + 1
        if conda:
            if not stripped.startswith("- "):
                continue
            rest = stripped[2:].lstrip()
            col += len(stripped) - len(rest)
            stripped = rest.split("::")[-1] if "::" in rest else rest  # conda-forge::napari
            col += len(rest) - len(stripped)
        elif stripped.startswith("-"):  # -r other.txt, -e ., --index-url
            continue
        match = NAME.match(stripped)
        if match:
            found.append((number, col, match.group(0).lower().replace("_", "-")))
    return found


def opengl_warnings(folder: str, shown_folder: str, hint: str) -> Tuple[str, ...]:
    """Located warnings for OpenGL packages in FOLDER's requirements.txt / environment.yml,
    each ending in HINT.

    Call only for desktops whose VNC server has no GLX (the caller knows the server)."""
    warnings = []
    for name, conda in (("requirements.txt", False), ("environment.yml", True)):
        text = read_text(folder, name)
        if text is None:
            continue
        shown = os.path.join(shown_folder, name) if shown_folder else name
        for line, col, package in package_names(text, conda):
            if package in opengl.NEEDS_GLX:
                warnings.append(str(Problem(
                    shown, line, col, "",
                    f"{package} needs OpenGL (GLX) when a notebook opens its windows on the "
                    f"desktop; {hint}", "warning")))
    return tuple(warnings)


def runtime_python(folder: str) -> Optional[str]:
    """The Python version runtime.txt names ('3.11' for 'python-3.11'), '' when it names
    something else (r-..., a date), None when there is no runtime.txt."""
    text = read_text(folder, "runtime.txt")
    if text is None:
        return None
    match = re.fullmatch(r"\s*python-(\d+\.\d+)(?:\.\d+)?\s*", text)
    return match.group(1) if match else ""
