"""Turn a parsed desktop.yml document into a DesktopConfig, reporting *every* problem.

The reader (reader.py) checks each key against the schema table (schema.py) and supplies
its defaults; this module adds what is specific: rules across keys (auth none needs
TigerVNC; TightVNC's missing GLX), VNC arguments that weaken the desktop's protection,
command templates, files in the repository, launcher names that would share a file.
"""
from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional, Tuple

from repo2desktop import vncservers
from repo2desktop.config import commands, opengl, repofiles, schema
from repo2desktop.config.checks import describe, text_problem
from repo2desktop.config.model import (
    AppLauncher, DesktopConfig, Display, HomeFile, JupyterTile, NoVnc, Program, Vnc,
)
from repo2desktop.config.reader import Ctx, Section, child, pos_key, pos_value
from repo2desktop.config.schema import MAX_PATH
from repo2desktop.errors import ConfigError

APT_NAME = re.compile(r"[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?")
MAX_PATH_PART = 255  # NAME_MAX of Linux file systems
# A launcher's command goes into one line of a .desktop file.
MAX_COMMAND_LINE = 4 * MAX_PATH

# Applications known to need GLX or RANDR, which TightVNC 1.3 lacks.


def validate(document: Any, file: str, base_dir: Optional[str] = None,
             origins: Optional[Dict[str, str]] = None) -> DesktopConfig:
    """Check a parsed document and build the config; raise ConfigError with all errors.

    BASE_DIR is the folder of desktop.yml: files it names are checked to exist there
    (None: not checked, for documents that are not on disk). ORIGINS names, per key path,
    the flag or setting that overrode it: its problems are located there.
    """
    ctx = Ctx(file, origins)
    if not isinstance(document, dict):
        # Not a desktop.yml: name the type only (the text of an arbitrary file is not shown).
        shown = "a string" if isinstance(document, str) else describe(document)
        ctx.add((1, 1), "", f"the document must be a mapping of keys, got {shown}")
        raise ConfigError(ctx.problems)
    top_keys = schema.allowed("")
    unknown = [k for k in document if not isinstance(k, str) or k not in top_keys]
    if "version" not in document and unknown:
        # No version and unknown keys: another kind of file (maybe one a symlink led to).
        # Its keys are its content, so they are counted, not shown.
        ctx.add((1, 1), "version", "required key is missing (add 'version: 1')")
        ctx.add((1, 1), "", f"not read as a desktop.yml: no 'version' and {len(unknown)} unknown "
                            "top-level key(s), which are not shown")
        raise ConfigError(ctx.problems)
    top = Section(ctx, document, "", "")
    if not top.has("version"):
        ctx.add((1, 1), "version", "required key is missing (add 'version: 1')")
    values = top.values()

    display = Display(**top.section("display").values())
    vnc = commands.read_vnc(top.section("vnc"))
    websockify = commands.read_websockify(top.section("websockify"))
    novnc = NoVnc(**top.section("novnc").values())
    for i, name in enumerate(values["packages"]):
        clean = name.split("#", 1)[0].strip()
        if not APT_NAME.fullmatch(clean):
            ctx.add(pos_value(top.raw("packages"), i), f"packages[{i}]", f"{name!r} is not a valid apt package name")
    programs = _programs(top)
    launcher = JupyterTile(**top.section("launcher").values())
    home = _home_files(top, base_dir)
    launchers = _launchers(top, base_dir)
    if values["wallpaper"] is not None:
        _check_repo_file(top, top.node, "wallpaper", "wallpaper", values["wallpaper"], base_dir)
    if launcher.icon is not None:
        _check_repo_file(top, top.raw("launcher"), "icon", "launcher.icon", launcher.icon, base_dir)

    # Without a password only on a private unix socket (a server that has one).
    if vnc.auth == "none" and not vncservers.get(vnc.server).unix_socket:
        ctx.add(pos_value(top.raw("vnc"), "auth"), "vnc.auth",
                "'none' needs 'server: tigervnc': tightvnc listens on a TCP port that every "
                "local user can reach, so it must use a password")
    _warn_tightvnc_limits(top, vnc, novnc, values["autostart"], values["packages"])

    errors = [p for p in ctx.problems if p.severity == "error"]
    if errors:
        raise ConfigError(sorted(errors, key=lambda p: (p.line, p.col)))
    warnings = tuple(str(p) for p in sorted(ctx.problems, key=lambda p: (p.line, p.col)))
    values.update(version=schema.SUPPORTED_VERSION,
                  packages=tuple(p.split("#", 1)[0].strip() for p in values["packages"]))
    return DesktopConfig(
        source=file, display=display, vnc=vnc, websockify=websockify, novnc=novnc,
        programs=programs, launcher=launcher, home=home, launchers=launchers,
        base_dir=base_dir or ".", warnings=warnings, **values)


def _relative_path_problem(value: str) -> Optional[str]:
    if os.path.isabs(value):
        return "must be a path relative to the folder of desktop.yml, not absolute"
    if ".." in value.replace("\\", "/").split("/"):
        return "must stay inside the repository (no '..')"
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_PATH_PART for part in value.split("/")):
        return f"has a path component longer than {MAX_PATH_PART} bytes"
    return None


def _check_repo_file(top: Section, node: Any, key: Any, path: str, value: str,
                     base_dir: Optional[str]) -> None:
    """A file desktop.yml names: relative, and a regular file inside the repository."""
    problem = _relative_path_problem(value)
    if problem is None and base_dir is not None:
        reason = repofiles.problem(os.path.join(base_dir, value), repofiles.repo_root(base_dir))
        if reason == "does not exist":
            problem = f"{value!r} does not exist next to desktop.yml"
        elif reason:
            problem = f"{value!r} {reason}"
    if problem:
        top.ctx.add(pos_value(node, key), path, problem)


def _home_files(top: Section, base_dir: Optional[str]) -> Tuple[HomeFile, ...]:
    result = []
    for s in top.items("home"):
        if s.node is None:
            continue
        s.missing_required()
        values = s.values()
        source, target = values["source"], values["target"]
        if source:
            _check_repo_file(top, s.node, "source", f"{s.path}.source", source, base_dir)
        if target:
            problem = _relative_path_problem(target)
            if problem:
                s.error("target", problem.replace("the folder of desktop.yml", "$HOME"))
        if source and target:
            result.append(HomeFile(**values))
    return tuple(result)


def _launchers(top: Section, base_dir: Optional[str]) -> Tuple[AppLauncher, ...]:
    result: List[AppLauncher] = []
    for s in top.items("launchers"):
        if s.node is None:
            continue
        s.missing_required()
        values = s.values()
        name, command = values["name"], values["command"]
        launcher = AppLauncher(name=(name or "").strip(), command=(command or "").strip(),
                               icon=values["icon"])
        if launcher.icon_is_file:
            _check_repo_file(top, s.node, "icon", f"{s.path}.icon", launcher.icon, base_dir)
        one_line = True
        if command and "\n" in command.strip():
            s.error("command", "must be a single line (it goes into a .desktop file)")
            one_line = False
        elif command and text_problem(command.strip(), MAX_COMMAND_LINE):
            s.error("command", text_problem(command.strip(), MAX_COMMAND_LINE))
            one_line = False
        if name and command and one_line and not repofiles.CONTROL.search(name):
            if any(other.slug == launcher.slug for other in result):
                s.error("name", f"another launcher is already named like {name!r}")
                continue
            result.append(launcher)
    return tuple(result)


def _programs(top: Section) -> Tuple[Program, ...]:
    node = top.raw("programs")
    if node is None:
        return ()
    if not isinstance(node, dict):
        top.error("programs", f"expected a mapping of NAME: {{command: ...}}, got {describe(node)}")
        return ()
    result = []
    for name, body in node.items():
        path = child("programs", name)
        if not isinstance(name, str) or not schema.PROGRAM_NAME.fullmatch(name):
            top.ctx.add(pos_key(node, name), path, "program names are letters, digits, '-' and '_'")
            continue
        if name in schema.RESERVED_PROGRAMS:
            top.ctx.add(pos_key(node, name), path, f"{name!r} is reserved for the desktop's own program")
            continue
        if body is None:
            top.ctx.add(pos_key(node, name), path, "expected a mapping with at least 'command', got null")
            continue
        s = Section(top.ctx, body, path, "programs.<name>", node, name)
        if s.node is None:
            continue
        if not s.has("command"):
            top.ctx.add(pos_key(node, name), f"{path}.command", "required key is missing")
        values = s.values()
        result.append(Program(name=name, **{**values, "command": values["command"] or ""}))
    return tuple(result)


def _warn_tightvnc_limits(top: Section, vnc: Vnc, novnc: NoVnc, autostart, packages) -> None:
    """TightVNC 1.3 has no GLX, RANDR or XFIXES: say so where it will bite."""
    if not vnc.lacks_glx:
        return
    hint = vncservers.get(vnc.server).limits_hint
    if novnc.resize == "remote":
        top.ctx.add(pos_value(top.raw("novnc"), "resize"), "novnc.resize",
                    f"remote resize needs RANDR; {hint}", "warning")
    for key, items in (("packages", packages), ("autostart", autostart)):
        for i, item in enumerate(items):
            words = re.split(r"[\s/]+", item.lower())
            needs = opengl.first_needing_glx(words)
            if needs:
                top.ctx.add(pos_value(top.raw(key), i), f"{key}[{i}]",
                            f"{needs} needs OpenGL (GLX); {hint}", "warning")
