"""Turn a parsed desktop.yml document into a DesktopConfig, reporting *every* problem.

Each problem is located (line:col of the offending key or value) and names the dotted key
path. Defaults are applied here and nowhere else.
"""
from __future__ import annotations

import difflib
import re
import shlex
import string
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import os

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from repo2desktop.config import repofiles, vncargs
from repo2desktop.config.model import (
    WINDOW_MANAGER_COMMANDS, AppLauncher, DesktopConfig, Display, HomeFile, Launcher, NoVnc, Program, Vnc, Websockify,
)
from repo2desktop.errors import ConfigError, Problem

SUPPORTED_VERSION = 1
# Patterns are used with fullmatch: '$' alone would also accept a trailing line break.
GEOMETRY = re.compile(r"([1-9][0-9]{2,4})x([1-9][0-9]{2,4})")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
PROGRAM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
APT_NAME = re.compile(r"[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?")
RESERVED_PROGRAMS = {"x-session", "websockify"}
# The largest framebuffer asked of the VNC server (8192x8192 at depth 32 is 256 MiB);
# beyond it the X server fails only after the start-up timeout.
MAX_WIDTH = MAX_HEIGHT = 8192
# Names and titles go into file names (a launcher's .desktop file), window titles and the
# Jupyter tile; paths into scripts. Longer ones are mistakes, and fail late (ENAMETOOLONG).
MAX_NAME = 100
MAX_PATH = 1024
MAX_PATH_PART = 255  # NAME_MAX of Linux file systems
# Widths and precisions in command templates ({display:>10}); a huge one is gigabytes.
MAX_FORMAT_WIDTH = 200
# Integers whose decimal form is this long are not shown in messages (Python refuses to
# convert ints over 4300 digits to text at all).
MAX_SHOWN_DIGITS = 30

# Replacement fields each command override may use (nbnovnc's names, plus a few).
VNC_FIELDS = {"display", "geometry", "depth", "vnc_port", "rfbauth", "unix_socket", "xauthority"}
WEBSOCKIFY_FIELDS = {"port", "listen", "target", "vnc_port", "novnc_directory", "web", "heartbeat"}

# Applications known to need GLX or RANDR, which TightVNC 1.3 lacks.
NEEDS_GLX = ("mesa-utils", "glxgears", "glxinfo", "napari", "vispy", "paraview", "blender",
             "freecad", "qgis", "pymol", "mayavi", "fiji", "rviz", "meshlab", "octave")


class _Ctx:
    def __init__(self, file: str):
        self.file = file
        self.problems: List[Problem] = []

    def add(self, pos: Tuple[int, int], path: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(self.file, pos[0], pos[1], path, message, severity))


def _pos_key(node: Any, key: Any) -> Tuple[int, int]:
    try:
        line, col = node.lc.key(key)
        return line + 1, col + 1
    except Exception:
        return _pos_node(node)


def _pos_value(node: Any, key: Any) -> Tuple[int, int]:
    try:
        if isinstance(node, dict) and node.get(key) is None:
            return _pos_key(node, key)  # ruamel places a null value at the next token
        if isinstance(node, CommentedSeq):
            line, col = node.lc.item(key)
        else:
            line, col = node.lc.value(key)
        return line + 1, col + 1
    except Exception:
        return _pos_key(node, key)


def _pos_node(node: Any) -> Tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is not None and lc.line is not None:
        return lc.line + 1, lc.col + 1
    return 1, 1


def int_text(value: int) -> str:
    """An integer for a message: its digits, or its size when it is huge."""
    if abs(value) < 10 ** MAX_SHOWN_DIGITS:
        return str(value)
    digits = int(value.bit_length() * 0.30103) + 1  # log10(2): no conversion of the value
    return f"{'-' if value < 0 else ''}<about {digits} digits>"


def describe(value: Any) -> str:
    """Name a YAML value's type for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({int_text(value)})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    tag = getattr(value, "tag", None)
    if tag is not None and getattr(tag, "value", None):
        return f"a tagged value ({tag.value})"
    if isinstance(value, (bytes, bytearray)):
        return "binary data"
    return f"a {type(value).__name__} ({value})"


def _join(path: str, key: Any) -> str:
    if isinstance(key, bool) or not isinstance(key, int):
        shown = str(key) if isinstance(key, str) and key.isprintable() and " " not in key else repr(key)
    else:
        shown = int_text(key)
    if len(shown) > 2 * MAX_NAME:
        shown = shown[:MAX_NAME] + "..."
    return f"{path}.{shown}" if path else shown


def _child(path: str, key: Any) -> str:
    """PATH.KEY as these messages always wrote it, with control characters escaped, huge
    integers summarised and very long keys cut."""
    if isinstance(key, int) and not isinstance(key, bool):
        shown = int_text(key)
    else:
        shown = repofiles.escape_controls(str(key))
    if len(shown) > 2 * MAX_NAME:
        shown = shown[:MAX_NAME] + "..."
    return f"{path}.{shown}"


def text_problem(value: str, max_len: int = MAX_NAME) -> Optional[str]:
    """What is wrong with a one-line name, title or path (control characters, length)."""
    found = repofiles.CONTROL.search(value)
    if found:
        return (f"must not contain control characters (found {repr(found.group())[1:-1]} "
                f"at position {found.start() + 1})")
    if len(value) > max_len:
        return f"is {len(value)} characters long; at most {max_len} are allowed"
    return None


class _Section:
    """Reads one mapping of the document, remembering which keys were consumed."""

    def __init__(self, ctx: _Ctx, node: Any, path: str, allowed: Sequence[str], parent=None, key=None):
        self.ctx, self.path, self.allowed = ctx, path, tuple(allowed)
        self.node: Optional[CommentedMap] = None
        if node is None:
            return
        if not isinstance(node, dict):
            pos = _pos_value(parent, key) if parent is not None else _pos_node(node)
            ctx.add(pos, path, f"expected a mapping, got {describe(node)}")
            return
        self.node = node
        for k in node:
            if not isinstance(k, str):
                ctx.add(_pos_key(node, k), _join(path, k), "keys must be strings")
            elif k not in self.allowed:
                ctx.add(_pos_key(node, k), _join(path, k), _unknown(k, self.allowed))

    def has(self, key: str) -> bool:
        return self.node is not None and key in self.node

    def raw(self, key: str) -> Any:
        return self.node[key] if self.has(key) else None

    def section(self, key: str, allowed: Sequence[str]) -> "_Section":
        return _Section(self.ctx, self.raw(key), _join(self.path, key), allowed, self.node, key)

    def error(self, key: str, message: str, at_key: bool = False) -> None:
        pos = _pos_key(self.node, key) if at_key else _pos_value(self.node, key)
        self.ctx.add(pos, _join(self.path, key), message)

    def warn(self, key: str, message: str) -> None:
        self.ctx.add(_pos_value(self.node, key), _join(self.path, key), message, "warning")

    # Typed getters: each returns the default after reporting a problem.
    def get(self, key: str, default: Any, check: Callable[[Any], Optional[str]]) -> Any:
        if not self.has(key):
            return default
        value = self.raw(key)
        message = check(value)
        if message:
            self.error(key, message)
            return default
        return value

    def string(self, key: str, default: Optional[str], allow_null: bool = False,
               max_len: Optional[int] = None) -> Optional[str]:
        """A string; with MAX_LEN it is one-line text (a name, title or path): no control
        characters, at most MAX_LEN characters. Commands (no MAX_LEN) may span lines."""
        def check(v):
            if v is None and allow_null:
                return None
            if not isinstance(v, str):
                return f"expected a string, got {describe(v)}"
            if not v.strip():
                return "must not be empty"
            if "\0" in v:
                return "must not contain a NUL character"
            if max_len is not None:
                return text_problem(v, max_len)
            return None
        value = self.get(key, default, check)
        return None if value is None else str(value)

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        def check(v):
            if isinstance(v, bool) or not isinstance(v, int):
                return f"expected an integer, got {describe(v)}"
            if not low <= v <= high:
                return f"{int_text(v)} is out of range ({low} to {high})"
            return None
        return int(self.get(key, default, check))

    def boolean(self, key: str, default: bool) -> bool:
        return bool(self.get(key, default, lambda v: None if isinstance(v, bool)
                             else f"expected true or false, got {describe(v)}"))

    def choice(self, key: str, default: str, choices: Sequence[str]) -> str:
        def check(v):
            if not isinstance(v, str):
                return f"expected one of: {', '.join(choices)}; got {describe(v)}"
            if v not in choices:
                hint = _suggest(v, choices)
                return f"{v!r} is not one of: {', '.join(choices)}" + (f"; did you mean {hint!r}?" if hint else "")
            return None
        return str(self.get(key, default, check))

    def string_list(self, key: str, default: Tuple[str, ...]) -> Tuple[str, ...]:
        if not self.has(key):
            return default
        value = self.raw(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            self.error(key, f"expected a list of strings, got {describe(value)}")
            return default
        items = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip() or "\0" in item:
                self.ctx.add(_pos_value(value, i), f"{_join(self.path, key)}[{i}]",
                             f"expected a non-empty string, got {describe(item)}")
            else:
                items.append(str(item))
        return tuple(items)

    def string_map(self, key: str, name_pattern=ENV_NAME) -> Tuple[Tuple[str, str], ...]:
        if not self.has(key) or self.raw(key) is None:
            return ()
        value = self.raw(key)
        if not isinstance(value, dict):
            self.error(key, f"expected a mapping of NAME: value, got {describe(value)}")
            return ()
        pairs = []
        for name, item in value.items():
            path = _child(_join(self.path, key), name)
            if not isinstance(name, str) or not name_pattern.fullmatch(name):
                self.ctx.add(_pos_key(value, name), path, "is not a valid variable name")
            elif isinstance(item, int) and not isinstance(item, bool) and abs(item) >= 10 ** MAX_SHOWN_DIGITS:
                self.ctx.add(_pos_value(value, name), path,
                             f"{describe(item)} is too large for a number; quote it as a string")
            elif isinstance(item, (dict, list)) or item is None or not isinstance(item, (str, int, float)) \
                    or "\0" in str(item):
                self.ctx.add(_pos_value(value, name), path,
                             f"expected a string or number, got {describe(item)}")
            else:
                text = str(item).lower() if isinstance(item, bool) else str(item)
                pairs.append((str(name), text))
        return tuple(pairs)


def _suggest(word: str, choices: Sequence[str]) -> Optional[str]:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def _unknown(key: str, allowed: Sequence[str]) -> str:
    hint = _suggest(key, allowed)
    if hint:
        return f"unknown key; did you mean {hint!r}?"
    return f"unknown key (allowed here: {', '.join(allowed)})"


def _check_fields(section: _Section, key: str, command: Optional[str], fields: set) -> None:
    if command is None:
        return
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


TOP_KEYS = ("version", "display", "vnc", "websockify", "novnc", "window_manager", "autostart",
            "packages", "programs", "environment", "start", "launcher", "home", "launchers",
            "wallpaper", "qt", "python")


def validate(document: Any, file: str, base_dir: Optional[str] = None) -> DesktopConfig:
    """Check a parsed document and build the config; raise ConfigError with all errors.

    BASE_DIR is the folder of desktop.yml: files it names are checked to exist there
    (None: not checked, for documents that are not on disk).
    """
    ctx = _Ctx(file)
    if not isinstance(document, dict):
        # Not a desktop.yml: name the type only (the text of an arbitrary file is not shown).
        shown = "a string" if isinstance(document, str) else describe(document)
        ctx.add((1, 1), "", f"the document must be a mapping of keys, got {shown}")
        raise ConfigError(ctx.problems)
    unknown = [k for k in document if not isinstance(k, str) or k not in TOP_KEYS]
    if "version" not in document and unknown:
        # No version and unknown keys: another kind of file (maybe one a symlink led to).
        # Its keys are its content, so they are counted, not shown.
        ctx.add((1, 1), "version", "required key is missing (add 'version: 1')")
        ctx.add((1, 1), "", f"not read as a desktop.yml: no 'version' and {len(unknown)} unknown "
                            "top-level key(s), which are not shown")
        raise ConfigError(ctx.problems)
    top = _Section(ctx, document, "", TOP_KEYS)

    if not top.has("version"):
        ctx.add((1, 1), "version", "required key is missing (add 'version: 1')")
    else:
        v = top.raw("version")
        if isinstance(v, bool) or not isinstance(v, int):
            top.error("version", f"expected the integer 1, got {describe(v)}")
        elif v != SUPPORTED_VERSION:
            top.error("version", f"unsupported version {int_text(v)} (this repo2desktop reads version {SUPPORTED_VERSION})")

    display = _display(top.section("display", ("number", "geometry", "depth")))
    vnc = _vnc(top.section("vnc", ("server", "auth", "args", "command", "unsafe_args")))
    websockify = _websockify(top.section("websockify", ("heartbeat", "command")))
    novnc = _novnc(top.section("novnc", ("directory", "page", "resize", "title")))
    window_manager = top.choice("window_manager", "openbox", tuple(WINDOW_MANAGER_COMMANDS))
    autostart = top.string_list("autostart", ("xterm",))
    packages = top.string_list("packages", ())
    for i, name in enumerate(packages):
        clean = name.split("#", 1)[0].strip()
        if not APT_NAME.fullmatch(clean):
            ctx.add(_pos_value(top.raw("packages"), i), f"packages[{i}]", f"{name!r} is not a valid apt package name")
    programs = _programs(top)
    environment = top.string_map("environment")
    start = top.choice("start", "lazy", ("lazy", "eager"))
    launcher_section = top.section("launcher", ("title", "icon"))
    launcher = Launcher(
        title=launcher_section.string("title", "Desktop", max_len=MAX_NAME),
        icon=launcher_section.string("icon", None, allow_null=True, max_len=MAX_PATH),
    )

    qt = top.boolean("qt", True)
    # repo2docker: its own environment (conda for requirements.txt); venv: the lean path,
    # requirements.txt into the notebook venv with the base image's Python (buildpacks/).
    python = top.choice("python", "repo2docker", ("repo2docker", "venv"))
    home = _home_files(top, base_dir)
    launchers = _launchers(top, base_dir)
    wallpaper = top.string("wallpaper", None, allow_null=True, max_len=MAX_PATH)
    if wallpaper is not None:
        _check_repo_file(top, top.node, "wallpaper", "wallpaper", wallpaper, base_dir)
    if launcher.icon is not None:
        _check_repo_file(top, top.raw("launcher"), "icon", "launcher.icon", launcher.icon, base_dir)

    if vnc.auth == "none" and vnc.server == "tightvnc":
        ctx.add(_pos_value(top.raw("vnc"), "auth"), "vnc.auth",
                "'none' needs 'server: tigervnc': tightvnc listens on a TCP port that every "
                "local user can reach, so it must use a password")
    _warn_tightvnc_limits(top, vnc, novnc, autostart, packages, programs)

    errors = [p for p in ctx.problems if p.severity == "error"]
    if errors:
        raise ConfigError(sorted(errors, key=lambda p: (p.line, p.col)))
    warnings = tuple(str(p) for p in sorted(ctx.problems, key=lambda p: (p.line, p.col)))
    return DesktopConfig(
        source=file, version=SUPPORTED_VERSION, display=display, vnc=vnc, websockify=websockify,
        novnc=novnc, window_manager=window_manager, autostart=autostart,
        packages=tuple(p.split("#", 1)[0].strip() for p in packages), programs=programs,
        environment=environment, start=start, launcher=launcher, home=home, launchers=launchers,
        wallpaper=wallpaper, base_dir=base_dir or ".", qt=qt, python=python, warnings=warnings,
    )


def _display(s: _Section) -> Display:
    number: Optional[int] = None
    if s.has("number") and s.raw("number") == 0 and not isinstance(s.raw("number"), bool):
        s.error("number", "display :0 is the host's own screen; use 1 or higher, or 'auto'")
    elif s.has("number") and s.raw("number") != "auto":
        number = s.integer("number", 1, 1, 999)
    def check_geometry(v):
        match = GEOMETRY.fullmatch(v) if isinstance(v, str) else None
        if not match:
            shown = repr(v) if isinstance(v, str) and len(v) <= 40 else describe(v)
            return f"{shown} is not WIDTHxHEIGHT (e.g. 1280x800)"
        if int(match.group(1)) > MAX_WIDTH or int(match.group(2)) > MAX_HEIGHT:
            return f"{v!r} is too large (at most {MAX_WIDTH}x{MAX_HEIGHT})"
        return None
    geometry = s.get("geometry", "1280x800", check_geometry)
    depth = s.get("depth", 24, lambda v: None if type(v) is not bool and isinstance(v, int) and v in (8, 16, 24, 32)
                  else f"expected one of 8, 16, 24, 32; got {describe(v)}")
    return Display(number=number, geometry=str(geometry), depth=int(depth))


def _vnc(s: _Section) -> Vnc:
    command = s.string("command", None, allow_null=True)
    _check_fields(s, "command", command, VNC_FIELDS)
    vnc = Vnc(
        server=s.choice("server", "tightvnc", ("tightvnc", "tigervnc")),
        auth=s.choice("auth", "password", ("password", "none")),
        args=s.string_list("args", ()),
        command=command,
        unsafe_args=s.boolean("unsafe_args", False),
    )
    _check_vnc_args(s, vnc)
    if command and not any(p.key_path == f"{s.path}.command" for p in s.ctx.problems):
        # With auth 'none', {rfbauth} is empty: the X server must still be named.
        fields = {f: "1" for f in VNC_FIELDS}
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


def _check_vnc_args(s: _Section, vnc: Vnc) -> None:
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
        s.ctx.add(_pos_value(args, index), f"{_join(s.path, 'args')}[{index}]",
                  f"{arg[:40]!r} changes {reason}; refused (set 'vnc.unsafe_args: true' to "
                  "allow it at your own risk)")

def _websockify(s: _Section) -> Websockify:
    command = s.string("command", None, allow_null=True)
    _check_fields(s, "command", command, WEBSOCKIFY_FIELDS)
    return Websockify(heartbeat=s.integer("heartbeat", 30, 0, 3600), command=command)


def _novnc(s: _Section) -> NoVnc:
    return NoVnc(
        # null: the bundled noVNC page that ships in the package; a folder: that noVNC's
        # vnc.html / vnc_lite.html (nbnovnc's novnc_directory).
        directory=s.string("directory", None, allow_null=True, max_len=MAX_PATH),
        page=s.choice("page", "full", ("full", "lite")),
        resize=s.choice("resize", "scale", ("off", "scale", "remote")),
        title=s.string("title", "Desktop", max_len=MAX_NAME),
    )


def _relative_path_problem(value: str) -> Optional[str]:
    if os.path.isabs(value):
        return "must be a path relative to the folder of desktop.yml, not absolute"
    if ".." in value.replace("\\", "/").split("/"):
        return "must stay inside the repository (no '..')"
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_PATH_PART for part in value.split("/")):
        return f"has a path component longer than {MAX_PATH_PART} bytes"
    return None


def _check_repo_file(top: "_Section", node: Any, key: Any, path: str, value: str,
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
        top.ctx.add(_pos_value(node, key), path, problem)


def _items(top: "_Section", key: str) -> List[Tuple[int, Any, str]]:
    """(index, item, path) of a list of mappings under KEY."""
    node = top.raw(key)
    if node is None:
        return []
    if not isinstance(node, list):
        top.error(key, f"expected a list, got {describe(node)}")
        return []
    return [(i, item, f"{key}[{i}]") for i, item in enumerate(node)]


def _home_files(top: "_Section", base_dir: Optional[str]) -> Tuple[HomeFile, ...]:
    result = []
    for i, item, path in _items(top, "home"):
        s = _Section(top.ctx, item, path, ("source", "target", "overwrite"), top.raw("home"), i)
        if s.node is None:
            continue
        for required in ("source", "target"):
            if not s.has(required):
                top.ctx.add(_pos_node(item), f"{path}.{required}", "required key is missing")
        source, target = s.string("source", "", max_len=MAX_PATH), s.string("target", "", max_len=MAX_PATH)
        if s.has("source") and source:
            _check_repo_file(top, item, "source", f"{path}.source", source, base_dir)
        if s.has("target") and target:
            problem = _relative_path_problem(target)
            if problem:
                s.error("target", problem.replace("the folder of desktop.yml", "$HOME"))
        overwrite = s.choice("overwrite", "never", ("never", "always"))
        if source and target:
            result.append(HomeFile(source=source, target=target, overwrite=overwrite))
    return tuple(result)


def _launchers(top: "_Section", base_dir: Optional[str]) -> Tuple[AppLauncher, ...]:
    result = []
    for i, item, path in _items(top, "launchers"):
        s = _Section(top.ctx, item, path, ("name", "command", "icon"), top.raw("launchers"), i)
        if s.node is None:
            continue
        for required in ("name", "command"):
            if not s.has(required):
                top.ctx.add(_pos_node(item), f"{path}.{required}", "required key is missing")
        name, command = s.string("name", "", max_len=MAX_NAME), s.string("command", "")
        icon = s.string("icon", None, allow_null=True, max_len=MAX_PATH)
        if icon and "/" in icon:
            _check_repo_file(top, item, "icon", f"{path}.icon", icon, base_dir)
        one_line = True
        if command and "\n" in command.strip():
            s.error("command", "must be a single line (it goes into a .desktop file)")
            one_line = False
        elif command and text_problem(command.strip(), 4 * MAX_PATH):
            s.error("command", text_problem(command.strip(), 4 * MAX_PATH))
            one_line = False
        launcher = AppLauncher(name=name.strip(), command=command.strip(), icon=icon)
        if name and command and one_line and not repofiles.CONTROL.search(name):
            if any(other.slug == launcher.slug for other in result):
                s.error("name", f"another launcher is already named like {name!r}")
                continue
            result.append(launcher)
    return tuple(result)


def _programs(top: _Section) -> Tuple[Program, ...]:
    node = top.raw("programs")
    if node is None:
        return ()
    if not isinstance(node, dict):
        top.error("programs", f"expected a mapping of NAME: {{command: ...}}, got {describe(node)}")
        return ()
    result = []
    for name, body in node.items():
        path = _child("programs", name)
        if not isinstance(name, str) or not PROGRAM_NAME.fullmatch(name):
            top.ctx.add(_pos_key(node, name), path, "program names are letters, digits, '-' and '_'")
            continue
        if name in RESERVED_PROGRAMS:
            top.ctx.add(_pos_key(node, name), path, f"{name!r} is reserved for the desktop's own program")
            continue
        if body is None:
            top.ctx.add(_pos_key(node, name), path, "expected a mapping with at least 'command', got null")
            continue
        s = _Section(top.ctx, body, path, ("command", "environment", "autorestart", "directory"), node, name)
        if s.node is None:
            continue
        if not s.has("command"):
            top.ctx.add(_pos_key(node, name), f"{path}.command", "required key is missing")
        command = s.string("command", "")
        result.append(Program(
            name=name, command=command or "", environment=s.string_map("environment"),
            autorestart=s.boolean("autorestart", True),
            directory=s.string("directory", None, allow_null=True, max_len=MAX_PATH),
        ))
    return tuple(result)


def _warn_tightvnc_limits(top, vnc, novnc, autostart, packages, programs) -> None:
    """TightVNC 1.3 has no GLX, RANDR or XFIXES: say so where it will bite."""
    if vnc.server != "tightvnc" or vnc.command is not None:
        return
    hint = "TightVNC has no GLX/RANDR; use 'vnc.server: tigervnc'"
    if novnc.resize == "remote":
        top.ctx.add(_pos_value(top.raw("novnc"), "resize"), "novnc.resize",
                    f"remote resize needs RANDR; {hint}", "warning")
    for key, items in (("packages", packages), ("autostart", autostart)):
        for i, item in enumerate(items):
            words = re.split(r"[\s/]+", item.lower())
            needs = next((n for n in NEEDS_GLX if n in words), None)
            if needs:
                top.ctx.add(_pos_value(top.raw(key), i), f"{key}[{i}]",
                            f"{needs} needs OpenGL (GLX); {hint}", "warning")
