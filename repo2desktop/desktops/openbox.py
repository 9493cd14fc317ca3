"""openbox: the default, light window manager; launchers on a tint2 panel, wallpaper by feh."""
from __future__ import annotations

from repo2desktop.desktops import WindowManager


class Openbox(WindowManager):
    name = "openbox"
    listed = 0
    packages = ("openbox",)
    # openbox runs --startup once it manages the screen: autostart windows get decorated.
    command = "openbox --startup {autostart}"
    launcher_place = "panel"  # openbox has no desktop icons of its own
    feh_wallpaper = True
    autostart_template = "openbox/autostart.sh.j2"


WINDOW_MANAGER = Openbox()
