"""none: no desktop of ours; xinitrc runs the autostart programs (a user's own ~/.xinitrc
usually starts a desktop). Launchers go to ~/Desktop, the wallpaper is drawn by feh."""
from __future__ import annotations

from repo2desktop.desktops import WindowManager


class NoWindowManager(WindowManager):
    name = "none"
    listed = 100  # always last
    feh_wallpaper = True


WINDOW_MANAGER = NoWindowManager()
