"""desktop.yml's keys, declared once, as data.

Every key path has one row: its kind, allowed values or range, default, one line of
documentation and, where it has one, its command-line flag and nbnovnc traitlet. The reader
(reader.py) checks documents against it, DesktopConfig takes its defaults from it, the CLI
and ``c.NBNoVNC`` overrides, the JSON Schema and the README's key reference are made from it.

Paths: ``display.geometry``; ``home[].source`` for the keys of each item of a list;
``programs.<name>.command`` for the keys of each entry of a mapping of names.
Kinds: section, version, int, depth (one of a few integers), geometry, choice, bool, str
(with ``max_len``: one line of text; without: a command, which may span lines), strings
(a list of strings), env (NAME: value), items (a list of sections), named (a mapping of
names to sections).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

# The choices of vnc.server and window_manager are the registries' (one class per file).
from repo2desktop import desktops, vncservers

SUPPORTED_VERSION = 1
# Names and titles go into file names (a launcher's .desktop file), window titles and the
# Jupyter tile; paths into scripts. Longer ones are mistakes, and fail late (ENAMETOOLONG).
MAX_NAME = 100
MAX_PATH = 1024
# The largest framebuffer asked of the VNC server (8192x8192 at depth 32 is 256 MiB);
# beyond it the X server fails only after the start-up timeout.
MAX_WIDTH = MAX_HEIGHT = 8192
# Patterns are used with fullmatch: '$' alone would also accept a trailing line break.
GEOMETRY = re.compile(r"([1-9][0-9]{2,4})x([1-9][0-9]{2,4})")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
PROGRAM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
# The desktop's own supervisord programs: desktop.yml's programs may not take their names.
RESERVED_PROGRAMS = ("x-session", "websockify", "clipboard", "sound", "sound-policy")
# Replacement fields each command override may use (nbnovnc's names, plus a few).
VNC_FIELDS = ("display", "geometry", "depth", "vnc_port", "rfbauth", "unix_socket", "xauthority")
WEBSOCKIFY_FIELDS = ("port", "listen", "target", "vnc_port", "novnc_directory", "web", "heartbeat")


@dataclass(frozen=True)
class Key:
    path: str
    kind: str
    doc: str
    default: Any = None
    choices: Tuple[Any, ...] = ()
    low: Optional[int] = None
    high: Optional[int] = None
    max_len: Optional[int] = None  # str: one line of at most this many characters
    nullable: bool = False  # null is a value (the default's "not set")
    required: bool = False
    auto: Optional[str] = None  # a word meaning "decided at start" (read as None)
    refuse: Tuple[Tuple[Any, str], ...] = ()  # (value, why) refused with their own reason
    fields: Tuple[str, ...] = ()  # replacement fields of a command template
    flag: Optional[str] = None  # the CLI override (repo2desktop render/up/session)
    trait: Optional[str] = None  # the nbnovnc traitlet (c.NBNoVNC.<trait>)
    example: Any = None  # shown in the README's reference when the default is empty

    @property
    def name(self) -> str:
        """The last part of the path (the key as written in its mapping)."""
        return self.path.rsplit(".", 1)[-1].replace("[]", "")

    @property
    def written_default(self) -> Any:
        """The default as desktop.yml writes it (a list, a mapping; 'auto')."""
        if self.kind == "env":
            return dict(self.default)
        return list(self.default) if isinstance(self.default, tuple) else self.default

    @property
    def parent(self) -> str:
        return self.path.rsplit(".", 1)[0] if "." in self.path else ""


K = Key
TABLE: Tuple[Key, ...] = (
    K("version", "version", "the format of this file (the only version)",
      default=SUPPORTED_VERSION, required=True),
    K("display", "section", "the X display"),
    K("display.number", "int", "X display number; auto = first free from :1 (host), :1 in images",
      default="auto", low=1, high=999, auto="auto", flag="--display",
      refuse=((0, "display :0 is the host's own screen; use 1 or higher, or 'auto'"),)),
    K("display.geometry", "geometry", "WIDTHxHEIGHT", default="1280x800",
      high=MAX_WIDTH, flag="--geometry", trait="geometry"),
    K("display.depth", "depth", "colour depth in bits", default=24, choices=(8, 16, 24, 32),
      flag="--depth", trait="depth"),
    K("display.dpi", "int", "screen resolution in dots per inch (the X server's -dpi); "
      "null: the X server's own", nullable=True, low=30, high=600, flag="--dpi", example=144),
    K("vnc", "section", "the VNC server"),
    K("vnc.server", "choice", "tigervnc: a private unix socket, GLX, remote resize", default="tightvnc",
      choices=vncservers.names(), flag="--vnc-server"),
    K("vnc.auth", "choice", "password: a random per-session VNC password (always with tightvnc); "
      "none: only with tigervnc, whose socket is private",
      default="password", choices=("password", "none")),
    K("vnc.args", "strings", "extra VNC server arguments; ones that change authentication or "
      "listening are refused (README: Security)",
      default=(), example=["-dpi", "96"]),
    K("vnc.command", "str", "full override of the X server command, run as `xinit XINITRC -- "
      "COMMAND` unless it starts with xinit",
      nullable=True, fields=VNC_FIELDS, flag="--vnc-command", trait="vnc_command"),
    K("vnc.unsafe_args", "bool", "true: allow those vnc.args anyway (validate and up warn)",
      default=False),
    K("websockify", "section", "websockify: the websocket relay where nbnovnc's settings or a "
      "novnc.directory are used"),
    K("websockify.heartbeat", "int", "seconds between websocket pings, 0 = none", default=30,
      low=0, high=3600),
    K("websockify.command", "str", "full override of the websockify command", nullable=True,
      fields=WEBSOCKIFY_FIELDS, flag="--websockify-command", trait="websockify_command"),
    K("novnc", "section", "the page in the browser"),
    K("novnc.directory", "str", "null: the bundled noVNC 1.7 page (in the package); a folder: that "
      "noVNC's vnc.html",
      nullable=True, max_len=MAX_PATH, flag="--novnc-directory", trait="novnc_directory"),
    K("novnc.page", "choice", "with a directory: full (vnc.html) or lite (vnc_lite.html)",
      default="full", choices=("full", "lite")),
    K("novnc.resize", "choice", "fit the desktop to the window; remote: the desktop takes the "
      "window's size in device pixels, up to display.geometry (tigervnc; tightvnc scales)",
      default="scale", choices=("off", "scale", "remote")),
    K("novnc.title", "str", "page and VNC desktop name", default="Desktop", max_len=MAX_NAME),
    K("clipboard", "choice", "copy and paste with the browser; to-browser: out of the desktop "
      "only, to-desktop: into it only (see \"Using the desktop\")",
      default="both", choices=("both", "to-browser", "to-desktop", "off")),
    K("window_manager", "choice", "the desktop (see \"Desktops\")", default="openbox",
      choices=desktops.names()),
    K("autostart", "strings", "shell commands started in the session", default=("xterm",)),
    K("packages", "strings", "extra apt packages the apps need", default=(),
      example=["x11-apps"]),
    K("programs", "named", "extra supervisord programs (background services)",
      example={"jupyter-notes": {"command": "python3 -m http.server 9000",
                                 "environment": {"PYTHONUNBUFFERED": "1"}, "directory": "/srv"}}),
    K("programs.<name>.command", "str", "the program's shell command", required=True),
    K("programs.<name>.environment", "env", "its own environment variables", default=()),
    K("programs.<name>.autorestart", "bool", "restart it when it exits", default=True),
    K("programs.<name>.directory", "str", "its working directory", nullable=True, max_len=MAX_PATH),
    K("environment", "env", "variables for the session and every program", default=(),
      example={"LANG": "C.UTF-8"}),
    K("start", "choice", "lazy: on the first visit to /desktop/, or when a notebook is opened or "
      "a kernel starts; visit: only on the first visit; eager: with the Jupyter server",
      default="lazy", choices=("lazy", "visit", "eager")),
    K("launcher", "section", "the Jupyter launcher tile"),
    K("launcher.title", "str", "the tile's title", default="Desktop", max_len=MAX_NAME),
    K("launcher.icon", "str", "an SVG path relative to desktop.yml (null: a monitor icon)",
      nullable=True, max_len=MAX_PATH),
    K("home", "items", "files copied into $HOME each time the desktop starts",
      example=[{"source": "desktop/rc.xml", "target": ".config/openbox/rc.xml"}]),
    K("home[].source", "str", "relative to desktop.yml", required=True, max_len=MAX_PATH),
    K("home[].target", "str", "relative to $HOME", required=True, max_len=MAX_PATH),
    K("home[].overwrite", "choice", "never: a file the user has wins; always: replace it",
      default="never", choices=("never", "always")),
    K("launchers", "items", "application entries, where the desktop shows them",
      example=[{"name": "Terminal", "command": "xterm", "icon": "utilities-terminal"}]),
    K("launchers[].name", "str", "the entry's name", required=True, max_len=MAX_NAME),
    K("launchers[].command", "str", "one shell command line", required=True),
    K("launchers[].icon", "str", "an icon-theme name, or a path relative to desktop.yml",
      nullable=True, max_len=MAX_PATH),
    K("wallpaper", "str", "an image relative to desktop.yml (feh; xfconf on xfce4, gsettings on "
      "mate, icewmbg on icewm)", nullable=True, max_len=MAX_PATH,
      example="desktop/wallpaper.png"),
    K("audio", "bool", "sound from the desktop in the page: a PipeWire sound server (null sink), "
      "Opus over the Jupyter server's websocket; no microphone", default=False),
    K("qt", "bool", "install the X libraries Qt apps (PyQt/PySide from PyPI) need", default=True),
    K("python", "choice", "repo2docker: its own Python environment; venv: the lean path "
      "(requirements.txt into the notebook venv)", default="repo2docker",
      choices=("repo2docker", "venv")),
)
del K

KEYS: Dict[str, Key] = {key.path: key for key in TABLE}


def children(parent: str) -> Tuple[Key, ...]:
    """The keys directly inside PARENT ("" for the top level, "home[]", "programs.<name>")."""
    return tuple(key for key in TABLE if key.parent == parent)


def allowed(parent: str) -> Tuple[str, ...]:
    return tuple(key.name for key in children(parent))


def default(path: str) -> Any:
    """The value DesktopConfig holds when desktop.yml leaves PATH out."""
    key = KEYS[path]
    return None if key.default == key.auto and key.auto is not None else key.default


def overridable() -> Tuple[Key, ...]:
    """Keys with a command-line flag (nbnovnc's traitlets are a subset of them)."""
    return tuple(key for key in TABLE if key.flag)


# The first X display a desktop uses (images export DISPLAY=:1 when display.number is auto).
FIRST_DISPLAY: int = KEYS["display.number"].low  # type: ignore[assignment]
