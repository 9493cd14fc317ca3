"""`repo2desktop init [REPO]`: a starter desktop.yml plus Binder files for STOCK repo2docker.

The Binder files use only what stock repo2docker (mybinder.org) understands, so a Binder
link with ``?urlpath=desktop/`` opens straight into the desktop without repo2desktop's
buildpack: ``apt.txt`` installs the desktop's packages, ``requirements.txt`` installs
repo2desktop (whose jupyter-server-proxy entry point makes the Desktop tile) and
``postBuild`` validates desktop.yml so that a broken one fails the build, located.

Existing files are never overwritten: each skipped file is reported with what to add to it.
"""
from __future__ import annotations

import importlib.metadata
import os
import sys
from dataclasses import dataclass
from typing import Callable, List, Optional

from repo2desktop.config import json_schema, reference, schema
from repo2desktop.config.discover import binder_folder
from repo2desktop.config.loader import parse
from repo2desktop.config.validate import validate
from repo2desktop.image.packages import apt_packages

REQUIREMENT_ENV = "REPO2DESKTOP_REQUIREMENT"
# Top-level files repo2docker reads; a new binder/ folder would make it ignore them all.
TOP_LEVEL_CONFIG = (
    "requirements.txt", "environment.yml", "environment.yaml", "apt.txt", "postBuild", "start",
    "runtime.txt", "Pipfile", "Pipfile.lock", "install.R", "DESCRIPTION", "Project.toml",
    "REQUIRE", "default.nix", "setup.py", "pyproject.toml", "Dockerfile",
)

# The starter: the defaults it shows, and where it departs from them (TigerVNC: a private
# unix socket, GLX, remote resize). vnc.auth stays at its default (a per-session password),
# which behind Jupyter costs nothing and lets `repo2desktop up` serve it on a TCP port.
STARTER_SHOWN = ("version", "display.geometry", "window_manager", "autostart")
STARTER_VALUES = {"vnc.server": "tigervnc", "novnc.resize": "remote"}
STARTER_HEADER = f"""\
# yaml-language-server: $schema={json_schema.FILE_NAME}
# desktop.yml: the Linux desktop that repo2desktop adds to this repository's image.
# Check it with `repo2desktop validate`; try it with `repo2desktop up` (on Linux) or build
# the image with `repo2desktop build .`. On Binder, open the desktop with ?urlpath=desktop/
# Every key: `repo2desktop schema --markdown`. Editors complete and check this file with
# {json_schema.FILE_NAME} beside it; renew that with `repo2desktop schema > {json_schema.FILE_NAME}`.
"""


def starter_desktop() -> str:
    """The starter desktop.yml, written out from the schema table."""
    values = {path: schema.default(path) for path in STARTER_SHOWN}
    values.update(STARTER_VALUES)
    return STARTER_HEADER + reference.yaml_text(values, notes="short", spaced=False)


POSTBUILD = """\
#!/bin/bash
# Written by `repo2desktop init`. Runs at image build time (stock repo2docker, mybinder.org):
# a broken desktop.yml stops the build here, with the file, line and column of each problem.
set -euo pipefail
repo2desktop validate .
"""


@dataclass(frozen=True)
class Planned:
    path: str  # relative to the repository
    text: str
    mode: int
    hint: str  # what to add by hand when the file already exists


def init_folder(repo_dir: str) -> str:
    """Where `init` writes the Binder files: the binder folder repo2docker reads when there is
    one (discover.binder_folder, which refuses binder/ and .binder/ together); the top level
    when the repository already configures repo2docker there (a new binder/ would hide those
    files); otherwise a new binder/."""
    existing = binder_folder(repo_dir)
    if existing:
        return existing
    if any(os.path.exists(os.path.join(repo_dir, name)) for name in TOP_LEVEL_CONFIG):
        return ""
    return "binder"


def requirement() -> str:
    """The pip requirement for repo2desktop ($REPO2DESKTOP_REQUIREMENT, e.g. a VCS URL)."""
    pinned = os.environ.get(REQUIREMENT_ENV)
    if pinned:
        return pinned
    return f"repo2desktop=={importlib.metadata.version('repo2desktop')}"


def plan(repo_dir: str) -> List[Planned]:
    """The files `init` would write, all in one folder (pure apart from looking at REPO_DIR)."""
    folder = init_folder(repo_dir)
    config = validate(_starter_document(), "desktop.yml")
    packages = "".join(f"{name}\n" for name in apt_packages(config))
    spec = requirement()
    join = lambda name: os.path.join(folder, name) if folder else name  # noqa: E731
    return [
        Planned(join("desktop.yml"), starter_desktop(), 0o644, ""),
        Planned(join(json_schema.FILE_NAME), json_schema.text(), 0o644,
                f"renew it with: repo2desktop schema > {join(json_schema.FILE_NAME)}"),
        Planned(join("apt.txt"),
                "# The desktop's Debian/Ubuntu packages, for stock repo2docker (written by "
                "`repo2desktop init`;\n# keep in step with desktop.yml's vnc.server, "
                "window_manager and packages).\n" + packages, 0o644,
                "add these lines: " + " ".join(apt_packages(config))),
        Planned(join("requirements.txt"),
                "# repo2desktop: the Desktop tile in Jupyter (jupyter-server-proxy >= 4.2) and "
                "its websockify.\n" + spec + "\n", 0o644, f"add the line: {spec}"),
        Planned(join("postBuild"), POSTBUILD, 0o755, "add the line: repo2desktop validate ."),
    ]


def _starter_document():
    return parse(starter_desktop(), "desktop.yml")  # loader: the one module that parses YAML


def init(repo_dir: str = ".", report: Optional[Callable[[str], None]] = None) -> List[str]:
    """Write the starter files into REPO_DIR; return the paths written.

    Existing files are left as they are and reported (through REPORT, stderr by default)
    together with what to add to them.
    """
    report = report or (lambda line: print(line, file=sys.stderr))
    top_level = init_folder(repo_dir) == ""
    written: List[str] = []
    for item in plan(repo_dir):
        path = os.path.join(repo_dir, item.path)
        if os.path.lexists(path):
            report(f"repo2desktop init: skipped {path} (exists)" + (f"; {item.hint}" if item.hint else ""))
            continue
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, item.mode)
        with os.fdopen(fd, "w") as f:
            f.write(item.text)
        os.chmod(path, item.mode)  # the umask may have narrowed it
        written.append(path)
    if top_level:
        report("repo2desktop init: wrote the Binder files at the top level, where this "
               "repository already configures repo2docker (a new binder/ would hide those files)")
    return written

