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


@dataclass(frozen=True)
class Websockify:
    heartbeat: int
    command: Optional[str]  # nbnovnc's websockify_command


@dataclass(frozen=True)
class NoVnc:
    directory: str
    page: str  # "full" | "lite"
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
class DesktopConfig:
    source: str
    version: int
    display: Display
    vnc: Vnc
    websockify: Websockify
    novnc: NoVnc
    window_manager: str  # "openbox" | "xfce4" | "none"
    autostart: Tuple[str, ...]
    packages: Tuple[str, ...]
    programs: Tuple[Program, ...]
    environment: Pairs
    start: str  # "lazy" | "eager"
    launcher: Launcher
    warnings: Tuple[str, ...] = field(default=(), compare=False)


# Debian 12 and Ubuntu 24.04 share these names (checked in shared/environment.md).
SERVER_PACKAGES = {
    "tightvnc": ("tightvncserver",),
    "tigervnc": ("tigervnc-standalone-server",),
}
WINDOW_MANAGER_PACKAGES = {
    "openbox": ("openbox",),
    "xfce4": ("xfce4-session", "xfwm4", "xfce4-panel", "xfdesktop4", "xfce4-terminal", "dbus-x11"),
    "none": (),
}
WINDOW_MANAGER_COMMANDS = {
    "openbox": "openbox-session",
    "xfce4": "dbus-launch --exit-with-session startxfce4",
    "none": "",
}
BASE_PACKAGES = ("xinit", "supervisor", "xfonts-base", "x11-xserver-utils", "novnc")


def apt_packages(config: DesktopConfig) -> Tuple[str, ...]:
    """Every Debian/Ubuntu package the desktop needs, sorted, without duplicates."""
    names = set(BASE_PACKAGES)
    names.update(SERVER_PACKAGES[config.vnc.server])
    names.update(WINDOW_MANAGER_PACKAGES[config.window_manager])
    names.update(config.packages)
    if any(cmd.split()[:1] == ["xterm"] for cmd in config.autostart):
        names.add("xterm")
    return tuple(sorted(names))
