"""xfce4: a full desktop; launchers as xfdesktop icons, wallpaper through xfconf."""
from __future__ import annotations

from repo2desktop.desktops import SVG_ICONS, WindowManager


class Xfce4(WindowManager):
    name = "xfce4"
    listed = 1
    # Thunar: xfdesktop's icons open (and launchers start) through Thunar's D-Bus service;
    # without it a double-click says "requires a file manager service".
    packages = ("xfce4-session", "xfwm4", "xfce4-panel", "xfdesktop4", "xfce4-terminal", "dbus-x11",
                "thunar", SVG_ICONS)
    # xfce4-session runs XDG autostart entries (ours is on XDG_CONFIG_DIRS) once xfwm4 runs.
    command = "dbus-launch --exit-with-session startxfce4"
    xdg_autostart = True
    autostart_template = "xfce4/autostart.sh.j2"

    def files(self, config, placement):
        # xfconf's defaults for this session (XDG_CONFIG_DIRS): the desktop shows the
        # launchers and the user's ~/Desktop, not Home/File System/Trash icons.
        return {"xdg/xfce4/xfconf/xfce-perchannel-xml/xfce4-desktop.xml": ("xfce4/xfce4-desktop.xml.j2", 0o644, {})}


WINDOW_MANAGER = Xfce4()
