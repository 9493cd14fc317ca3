"""Turn a parsed desktop.yml document into a DesktopConfig, reporting *every* problem.

The reader (reader.py) checks each key against the schema table (schema.py) and supplies
its defaults; this module adds what is specific: rules across keys (auth none needs
TigerVNC; TightVNC's missing GLX), VNC arguments that weaken the desktop's protection,
command templates, files in the repository, launcher names that would share a file.
"""
from __future__ import annotations

import os
import re
import shlex
import string
from typing import Any, Dict, List, Optional, Tuple

from repo2desktop.config import repofiles, schema, vncargs
from repo2desktop.config.checks import describe, text_problem
from repo2desktop.config.model import (
    AppLauncher, DesktopConfig, Display, HomeFile, Launcher, NoVnc, Program, Vnc, Websockify,
)
from repo2desktop.config.reader import Ctx, Section, child, pos_key, pos_node, pos_value
from repo2desktop.config.schema import MAX_PATH
from repo2desktop.errors import ConfigError

APT_NAME = re.compile(r"[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?")
MAX_PATH_PART = 255  # NAME_MAX of Linux file systems
# Widths and precisions in command templates ({display:>10}); a huge one is gigabytes.
MAX_FORMAT_WIDTH = 200
# A launcher's command goes into one line of a .desktop file.
MAX_COMMAND_LINE = 4 * MAX_PATH

# Applications known to need GLX or RANDR, which TightVNC 1.3 lacks.
NEEDS_GLX = ("mesa-utils", "glxgears", "glxinfo", "napari", "vispy", "paraview", "blender",
             "freecad", "qgis", "pymol", "mayavi", "fiji", "rviz", "meshlab", "octave")


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
    vnc = _vnc(top.section("vnc"))
    websockify = _websockify(top.section("websockify"))
    novnc = NoVnc(**top.section("novnc").values())
    for i, name in enumerate(values["packages"]):
        clean = name.split("#", 1)[0].strip()
        if not APT_NAME.fullmatch(clean):
            ctx.add(pos_value(top.raw("packages"), i), f"packages[{i}]", f"{name!r} is not a valid apt package name")
    programs = _programs(top)
    launcher = Launcher(**top.section("launcher").values())
    home = _home_files(top, base_dir)
    launchers = _launchers(top, base_dir)
    if values["wallpaper"] is not None:
        _check_repo_file(top, top.node, "wallpaper", "wallpaper", values["wallpaper"], base_dir)
    if launcher.icon is not None:
        _check_repo_file(top, top.raw("launcher"), "icon", "launcher.icon", launcher.icon, base_dir)

    if vnc.auth == "none" and vnc.server == "tightvnc":
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


def _vnc(s: Section) -> Vnc:
    values = s.values()
    _check_fields(s, "command", values["command"])
    vnc = Vnc(**values)
    _check_vnc_args(s, vnc)
    command = vnc.command
    if command and not s.failed("command"):
        # With auth 'none', {rfbauth} is empty: the X server must still be named.
        fields = {f: "1" for f in s.row("command").fields}
        fields["rfbauth"] = "" if vnc.auth == "none" else "1"
        words = [w for w in shlex.split(command.format(**fields))]
        if words and words[0].rsplit("/", 1)[-1] == "xinit":
            words = words[words.index("--") + 1:] if "--" in words else ["default"]
        if not words or not words[0]:
            s.error("command", "names no X server to run")
        else:
            missing = vncargs.missing_protections(shlex.split(command))
            if missing:
                s.warn("command", "lacks what the default command has: " + "; ".join(missing)
                       + "; other local users may reach the desktop (README: Security)")
    return vnc


def _check_vnc_args(s: Section, vnc: Vnc) -> None:
    """Arguments that weaken authentication or listening: refused unless vnc.unsafe_args."""
    args = s.raw("args")
    unsafe = [arg for arg in vnc.args if vncargs.unsafe_reason(arg) is not None]
    if unsafe and vnc.unsafe_args:
        names = ", ".join(dict.fromkeys(arg.split("=", 1)[0][:40] for arg in unsafe))
        s.warn("unsafe_args", f"vnc.args change the desktop's protection ({names}); other "
                              "local users may reach or control the desktop")
        return
    if not isinstance(args, list):
        return
    for index, arg in enumerate(args):
        reason = vncargs.unsafe_reason(arg) if isinstance(arg, str) else None
        if reason is None:
            continue
        s.ctx.add(pos_value(args, index), f"{s.path}.args[{index}]",
                  f"{arg[:40]!r} changes {reason}; refused (set 'vnc.unsafe_args: true' to "
                  "allow it at your own risk)")


def _websockify(s: Section) -> Websockify:
    values = s.values()
    _check_fields(s, "command", values["command"])
    return Websockify(**values)


def _check_fields(section: Section, key: str, command: Optional[str]) -> None:
    if command is None:
        return
    fields = section.row(key).fields
    try:
        parsed = list(string.Formatter().parse(command))
    except ValueError as e:
        section.error(key, f"cannot be formatted: {e}")
        return
    used = {name for _, name, _, _ in parsed if name is not None}
    for _, name, spec, _ in parsed:
        problem = _format_spec_problem(name, spec or "")
        if problem:
            section.error(key, problem)
            return
    unknown = sorted(u for u in used if u not in fields)
    if unknown:
        section.error(key, f"unknown replacement field {{{unknown[0]}}} (known: "
                      + ", ".join("{" + f + "}" for f in sorted(fields)) + ")")
        return
    try:
        # A dry run with stand-in values catches conversions and format specs ({port!x}).
        words = shlex.split(command.format(**{f: "1" for f in fields}))
    except (ValueError, IndexError, KeyError) as e:
        section.error(key, f"is not a valid command template: {e}")
        return
    if not words:
        section.error(key, "must name a program to run")


def _format_spec_problem(name: Optional[str], spec: str) -> Optional[str]:
    """Refuse format specs that would make formatting slow or huge ({display:>999999999})."""
    if "{" in spec:
        return f"replacement field {{{name}}}: nested fields in a format spec are not supported"
    for number in re.findall(r"[0-9]+", spec):
        if len(number) > 6 or int(number) > MAX_FORMAT_WIDTH:
            shown = number if len(number) <= 12 else f"{number[:9]}... ({len(number)} digits)"
            return (f"replacement field {{{name}}}: width or precision {shown} is too large "
                    f"(at most {MAX_FORMAT_WIDTH})")
    return None


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
    hint = "TightVNC has no GLX/RANDR; use 'vnc.server: tigervnc'"
    if novnc.resize == "remote":
        top.ctx.add(pos_value(top.raw("novnc"), "resize"), "novnc.resize",
                    f"remote resize needs RANDR; {hint}", "warning")
    for key, items in (("packages", packages), ("autostart", autostart)):
        for i, item in enumerate(items):
            words = re.split(r"[\s/]+", item.lower())
            needs = next((n for n in NEEDS_GLX if n in words), None)
            if needs:
                top.ctx.add(pos_value(top.raw(key), i), f"{key}[{i}]",
                            f"{needs} needs OpenGL (GLX); {hint}", "warning")
