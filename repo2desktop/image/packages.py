"""The Debian/Ubuntu packages a desktop.yml needs in its image (the buildpack's base layer,
`init`'s apt.txt).

The VNC server's and the desktop's own packages are theirs (repo2desktop/vncservers/,
repo2desktop/desktops/); here is what every desktop needs and what desktop.yml's other
choices add. Names valid on Debian 12 and Ubuntu 24.04.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Tuple

from repo2desktop import desktops, vncservers

if TYPE_CHECKING:
    from repo2desktop.config.model import DesktopConfig

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
    names.update(vncservers.get(config.vnc.server).packages)
    names.update(desktops.get(config.window_manager).packages)
    names.update(config.packages)
    if config.qt:
        names.update(QT_PACKAGES)
    if any(cmd.split()[:1] == ["xterm"] for cmd in config.autostart):
        names.add("xterm")
    if config.uses_panel:
        names.add("tint2")  # a panel that shows the launchers (openbox has no desktop icons)
    if config.launchers:
        names.add(desktops.SVG_ICONS)  # launcher icons are often SVG (ours is)
    if config.uses_feh:
        names.add("feh")
    if config.bridges_clipboard:
        names.add("autocutsel")  # TightVNC's clipboard bridge (clipboard.sh.j2)
    if config.audio:
        names.update(AUDIO_PACKAGES)
    return tuple(sorted(names))
