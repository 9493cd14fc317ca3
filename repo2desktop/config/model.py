"""The validated, immutable desktop configuration, and the facts derived from it.

Its values come from the reader (config/reader.py), which takes every default from the schema
table (config/schema.py); nothing here repeats a default. What several modules need to know
about a configuration ("does it use a VNC TCP port", "is an icon a file") is a property here,
so that they cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple

from repo2desktop import desktops, vncservers
from repo2desktop.config import schema

Pairs = Tuple[Tuple[str, str], ...]


@dataclass(frozen=True)
class Display:
    number: Optional[int]  # None: the first free display at start (host sessions)
    geometry: str
    depth: int
    dpi: Optional[int]  # None: the X server's default

    @property
    def width(self) -> int:
        return int(self.geometry.split("x")[0])

    @property
    def height(self) -> int:
        return int(self.geometry.split("x")[1])

    @property
    def number_or_first(self) -> int:
        """The display number, or the first one when it is decided at start (`render` and
        images, which export DISPLAY=:1)."""
        return self.number if self.number is not None else schema.FIRST_DISPLAY


@dataclass(frozen=True)
class Vnc:
    server: str  # one of vncservers.names()
    auth: str  # "password" | "none"
    args: Tuple[str, ...]
    command: Optional[str]  # nbnovnc's vnc_command, with its replacement fields
    # Opt-in for vnc.args that change authentication or listening (validate warns).
    unsafe_args: bool

    @property
    def uses_unix_socket(self) -> bool:
        """Is the VNC server reached on its private unix socket (websockify, the Jupyter
        server's relay)? Only a server that has one (TigerVNC); a command override only when
        it passes {unix_socket}."""
        return vncservers.get(self.server).unix_socket and (
            self.command is None or "{unix_socket}" in self.command)

    @property
    def uses_tcp_port(self) -> bool:
        """Does the VNC server listen on a loopback TCP port (5900 + display), which must be
        free and which other local users can reach? Without the socket it must; a command
        override also when it passes {vnc_port}."""
        return not self.uses_unix_socket or "{vnc_port}" in (self.command or "")

    @property
    def lacks_glx(self) -> bool:
        """Is the X server one without GLX, RANDR or XFIXES (our TightVNC 1.3)? A command
        override may run any server: nothing is known of it."""
        return not vncservers.get(self.server).glx and self.command is None


@dataclass(frozen=True)
class Websockify:
    heartbeat: int
    command: Optional[str]  # nbnovnc's websockify_command


@dataclass(frozen=True)
class NoVnc:
    directory: Optional[str]  # None: the bundled viewer; else a noVNC folder (vnc.html)
    page: str  # "full" | "lite" (with a directory)
    resize: str  # "off" | "scale" | "remote"
    title: str


@dataclass(frozen=True)
class Program:
    name: str
    command: str
    environment: Pairs
    autorestart: bool
    directory: Optional[str]


@dataclass(frozen=True)
class JupyterTile:
    """desktop.yml's `launcher:` (JupyterLab's word): the Desktop tile in Jupyter's launcher.
    Not an application entry: those are `launchers:` (AppLauncher)."""

    title: str
    icon: Optional[str]


@dataclass(frozen=True)
class HomeFile:
    """A file copied from the repository into $HOME when the desktop starts."""

    source: str  # relative to the folder of desktop.yml
    target: str  # relative to $HOME
    overwrite: str  # "never": a file the user has wins; "always": ours replaces it


@dataclass(frozen=True)
class AppLauncher:
    """A menu / desktop entry (.desktop file) for an application."""

    name: str
    command: str
    icon: Optional[str]  # an icon name of the theme, or a path relative to desktop.yml

    @property
    def icon_is_file(self) -> bool:
        """A path (relative to desktop.yml) rather than an icon name: it contains '/'."""
        return self.icon is not None and "/" in self.icon

    @property
    def slug(self) -> str:
        """The name as a file name part: letters and digits, at most 120 bytes of UTF-8 (a
        name of 100 CJK letters would otherwise exceed a file system's 255-byte limit)."""
        slug = "".join(c if c.isalnum() else "-" for c in self.name.lower()).strip("-")
        while len(slug.encode("utf-8")) > 120:
            slug = slug[:-1]
        return slug.strip("-") or "app"


@dataclass(frozen=True)
class DesktopConfig:
    source: str
    version: int
    display: Display
    vnc: Vnc
    websockify: Websockify
    novnc: NoVnc
    window_manager: str  # one of desktops.names()
    autostart: Tuple[str, ...]
    packages: Tuple[str, ...]
    programs: Tuple[Program, ...]
    environment: Pairs
    start: str  # "lazy" | "visit" | "eager" (jupyter/extras.py)
    clipboard: str  # "both" | "to-browser" | "to-desktop" | "off"
    launcher: JupyterTile
    qt: bool  # install the X client libraries Qt applications need
    audio: bool  # a sound server in the desktop, played in the page
    python: str  # "repo2docker" | "venv": requirements.txt into the notebook venv
    home: Tuple[HomeFile, ...]
    launchers: Tuple[AppLauncher, ...]
    wallpaper: Optional[str]  # relative to the folder of desktop.yml
    base_dir: str = "."  # the folder of desktop.yml: relative paths above start there
    warnings: Tuple[str, ...] = field(default=(), compare=False)

    @property
    def clipboard_to_browser(self) -> bool:
        """May text copied in the desktop reach the browser's clipboard?"""
        return self.clipboard in ("both", "to-browser")

    @property
    def clipboard_to_desktop(self) -> bool:
        """May text copied in the browser be pasted in the desktop?"""
        return self.clipboard in ("both", "to-desktop")

    @property
    def clipboard_poll_ms(self) -> int:
        """How often TightVNC's bridge (autocutsel) looks at the cut buffer: the delay users
        see, against the idle CPU of two pollers (at 100 ms about 1 % of a core)."""
        return 250

    @property
    def clipboard_settle_ms(self) -> int:
        """How long the page waits, after sending new text, before it sends the Ctrl-V that
        pastes it: one bridge poll and a margin (TigerVNC needs no wait)."""
        return self.clipboard_poll_ms + 100 if self.bridges_clipboard else 0

    @property
    def bridges_clipboard(self) -> bool:
        """Does the session run autocutsel? TightVNC 1.3 only exchanges the X cut buffer,
        which Ctrl-C in today's apps never sets: the bridge copies the CLIPBOARD and PRIMARY
        selections to it and back. TigerVNC handles both selections itself."""
        return self.clipboard != "off" and not vncservers.get(self.vnc.server).selections

    @property
    def launcher_place(self) -> str:
        """Where desktop.yml's launchers appear: "panel", "desktop", "toolbar" or "menu"."""
        return desktops.get(self.window_manager).launcher_place

    @property
    def uses_panel(self) -> bool:
        """Is a tint2 panel run to show the launchers (openbox has no icons of its own)?"""
        return bool(self.launchers) and self.launcher_place == "panel"

    @property
    def uses_xdg_autostart(self) -> bool:
        """Does the desktop start XDG autostart entries itself (else autostart.sh does)?"""
        return desktops.get(self.window_manager).xdg_autostart

    @property
    def uses_feh(self) -> bool:
        """Is the wallpaper drawn by feh (desktops without a wallpaper setting of their own)?"""
        return self.wallpaper is not None and desktops.get(self.window_manager).feh_wallpaper

    def icon(self, launcher: AppLauncher) -> Optional[str]:
        """A launcher's icon as the desktop reads it: an absolute path, or a theme name."""
        return self.path(launcher.icon) if launcher.icon_is_file else launcher.icon

    def path(self, relative: str) -> str:
        """An absolute path for a file desktop.yml names relative to itself."""
        import os
        return os.path.normpath(os.path.join(self.base_dir, relative))

    def referenced_files(self) -> Tuple[str, ...]:
        """Every repository file desktop.yml points at (the buildpack copies them)."""
        names = [h.source for h in self.home] + ([self.wallpaper] if self.wallpaper else [])
        names += [l.icon for l in self.launchers if l.icon_is_file]
        if self.launcher.icon:
            names.append(self.launcher.icon)
        return tuple(dict.fromkeys(names))
