"""The Debian/Ubuntu packages and session commands behind desktop.yml's choices.

Keyed by the choices the schema table declares (vnc.server, window_manager); a unit test
checks that every choice has its row here.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Tuple

if TYPE_CHECKING:
    from repo2desktop.config.model import DesktopConfig

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
# Desktops without a wallpaper setting of their own: feh draws desktop.yml's wallpaper.
FEH_WALLPAPER = ("openbox", "none")
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

# audio: true. PipeWire with its PulseAudio protocol module loaded in the same daemon (both in
# pipewire's dependencies; no separate pipewire-pulse process), WirePlumber to link streams to
# the null sink, pipewire-alsa (ALSA's default device for apps that use ALSA directly:
# simpleaudio, PortAudio/sounddevice), paplay/parec (the page's capture runs parec), and the
# Opus encoder library.
# Debian 12's pulseaudio would add ~124 MiB (it pulls libavcodec through libasound2-plugins);
# this set adds ~17 MiB (scripts/bench_apt.py, README "Sound").
AUDIO_PACKAGES = ("pipewire", "wireplumber", "pipewire-alsa", "pulseaudio-utils", "libopus0")


def apt_packages(config: "DesktopConfig") -> Tuple[str, ...]:
    """Every Debian/Ubuntu package the desktop needs, sorted, without duplicates."""
    names = set(BASE_PACKAGES)
    names.update(SERVER_PACKAGES[config.vnc.server])
    names.update(WINDOW_MANAGER_PACKAGES[config.window_manager])
    names.update(config.packages)
    if config.qt:
        names.update(QT_PACKAGES)
    if any(cmd.split()[:1] == ["xterm"] for cmd in config.autostart):
        names.add("xterm")
    if config.uses_panel:
        names.add("tint2")  # a panel that shows the launchers (openbox has no desktop icons)
    if config.launchers:
        names.add(SVG_ICONS)  # launcher icons are often SVG (ours is)
    if config.uses_feh:
        names.add("feh")
    if config.bridges_clipboard:
        names.add("autocutsel")  # TightVNC's clipboard bridge (clipboard.sh.j2)
    if config.vnc.server == "tigervnc":
        names.add("libxss1")  # the X server's idle time, read by jupyter/idle.py
    if config.audio:
        names.update(AUDIO_PACKAGES)
    return tuple(sorted(names))
