"""The validated, immutable desktop configuration. Defaults live in validate.py only."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple

Pairs = Tuple[Tuple[str, str], ...]


@dataclass(frozen=True)
class Display:
    number: Optional[int]  # None: the first free display at start (host sessions)
    geometry: str
    depth: int

    @property
    def width(self) -> int:
        return int(self.geometry.split("x")[0])

    @property
    def height(self) -> int:
        return int(self.geometry.split("x")[1])


@dataclass(frozen=True)
class Vnc:
    server: str  # "tightvnc" | "tigervnc"
    auth: str  # "password" | "none"
    args: Tuple[str, ...]
    command: Optional[str]  # nbnovnc's vnc_command, with its replacement fields
    # Opt-in for vnc.args that change authentication or listening (validate warns).
    unsafe_args: bool = False


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
class Launcher:
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
    window_manager: str  # a key of WINDOW_MANAGER_PACKAGES: openbox, xfce4, mate, icewm, none
    autostart: Tuple[str, ...]
    packages: Tuple[str, ...]
    programs: Tuple[Program, ...]
    environment: Pairs
    start: str  # "lazy" | "eager"
    launcher: Launcher
    qt: bool = True  # install the X client libraries Qt applications need
    python: str = "repo2docker"  # "repo2docker" | "venv": requirements.txt into the notebook venv
    home: Tuple[HomeFile, ...] = ()
    launchers: Tuple[AppLauncher, ...] = ()
    wallpaper: Optional[str] = None  # relative to the folder of desktop.yml
    base_dir: str = "."  # the folder of desktop.yml: relative paths above start there
    warnings: Tuple[str, ...] = field(default=(), compare=False)

    def path(self, relative: str) -> str:
        """An absolute path for a file desktop.yml names relative to itself."""
        import os
        return os.path.normpath(os.path.join(self.base_dir, relative))

    def referenced_files(self) -> Tuple[str, ...]:
        """Every repository file desktop.yml points at (the buildpack copies them)."""
        names = [h.source for h in self.home] + ([self.wallpaper] if self.wallpaper else [])
        names += [l.icon for l in self.launchers if l.icon and "/" in l.icon]
        if self.launcher.icon:
            names.append(self.launcher.icon)
        return tuple(dict.fromkeys(names))


# Debian 12 and Ubuntu 24.04 share these names (checked in shared/environment.md).
SERVER_PACKAGES = {
    "tightvnc": ("tightvncserver",),
    "tigervnc": ("tigervnc-standalone-server",),
}
# The desktops `window_manager:` offers. Each brings its packages, its session command, a
# place for desktop.yml's launchers and its look settings (wallpaper); README lists them.
# GTK-based ones (and every one showing launcher icons) get librsvg2-common: without that
# gdk-pixbuf loader, SVG icons (most icon themes, GIMP's tools) are drawn as broken images.
SVG_ICONS = "librsvg2-common"
WINDOW_MANAGER_PACKAGES = {
    "openbox": ("openbox",),
    # Thunar: xfdesktop's icons open (and launchers start) through Thunar's D-Bus service;
    # without it a double-click says "requires a file manager service".
    "xfce4": ("xfce4-session", "xfwm4", "xfce4-panel", "xfdesktop4", "xfce4-terminal", "dbus-x11",
              "thunar", SVG_ICONS),
    # MATE's core: session, window manager (marco), panel, caja (which draws the desktop and
    # its icons) and the settings daemon (themes, fonts).
    "mate": ("mate-session-manager", "marco", "mate-panel", "caja", "mate-settings-daemon",
             "mate-icon-theme", "mate-terminal", "dbus-x11", SVG_ICONS),
    # IceWM: a light window manager with its own taskbar (launchers go on its toolbar).
    "icewm": ("icewm", SVG_ICONS),
    "none": (),
}
WINDOW_MANAGER_COMMANDS = {
    # openbox runs --startup once it manages the screen: autostart windows get decorated.
    "openbox": "openbox --startup {autostart}",
    # xfce4-session and mate-session run XDG autostart entries (ours is on XDG_CONFIG_DIRS)
    # once their window managers run.
    "xfce4": "dbus-launch --exit-with-session startxfce4",
    "mate": "dbus-launch --exit-with-session mate-session",
    # icewm-session runs $ICEWM_PRIVCFG/startup (ours starts the autostart programs).
    "icewm": "icewm-session",
    "none": "",
}
# Where desktop.yml's launchers appear: a tint2 panel (openbox has no icons of its own),
# icons on ~/Desktop (xfdesktop, caja; with `none`, for whatever desktop the user runs),
# or IceWM's own toolbar.
LAUNCHER_PLACES = {"openbox": "panel", "xfce4": "desktop", "mate": "desktop", "icewm": "toolbar",
                   "none": "desktop"}
# Desktops that start XDG autostart entries themselves (ours runs autostart.sh).
XDG_AUTOSTART = ("xfce4", "mate")
# x11-utils (xwininfo, xprop, xdpyinfo) lets users and tests see what is on the display;
# tightvncserver depends on it anyway, and Qt's libraries pull the same Mesa stack.
# No Debian `novnc`: the page's noVNC is bundled into the package (it would bring nodejs and
# numpy, ~270 MB, for a few MB of web files).
BASE_PACKAGES = ("xinit", "supervisor", "xfonts-base", "x11-xserver-utils", "x11-utils")
# What Qt 5/6 applications (PyQt, PySide from PyPI) need from the system to open windows
# through xcb; slim bases lack them. Names valid on Debian 12 and Ubuntu 24.04 (there some
# are virtual names of the t64 packages, which apt resolves).
QT_PACKAGES = ("libegl1", "libgl1", "libfontconfig1", "libdbus-1-3", "libglib2.0-0",
               "libxkbcommon0", "libxkbcommon-x11-0", "libxcb-cursor0", "libxcb-icccm4",
               "libxcb-image0", "libxcb-keysyms1", "libxcb-randr0", "libxcb-render-util0",
               "libxcb-shape0", "libxcb-xinerama0", "libxcb-xkb1", "libx11-xcb1")


def apt_packages(config: DesktopConfig) -> Tuple[str, ...]:
    """Every Debian/Ubuntu package the desktop needs, sorted, without duplicates."""
    names = set(BASE_PACKAGES)
    names.update(SERVER_PACKAGES[config.vnc.server])
    names.update(WINDOW_MANAGER_PACKAGES[config.window_manager])
    names.update(config.packages)
    if config.qt:
        names.update(QT_PACKAGES)
    if any(cmd.split()[:1] == ["xterm"] for cmd in config.autostart):
        names.add("xterm")
    if config.launchers and LAUNCHER_PLACES[config.window_manager] == "panel":
        names.add("tint2")  # a panel that shows the launchers (openbox has no desktop icons)
    if config.launchers:
        names.add(SVG_ICONS)  # launcher icons are often SVG (ours is)
    if config.wallpaper and config.window_manager in ("openbox", "none"):
        names.add("feh")
    return tuple(sorted(names))
