"""MATE: a full desktop; launchers as caja icons, wallpaper through gsettings."""
from __future__ import annotations

import shlex

from repo2desktop.desktops import SVG_ICONS, WindowManager

# No sound device in a container: mate-settings-daemon's media-keys and sound plugins would
# probe ALSA every second and fill the session's log.
SCHEMA_OVERRIDE = ("[org.mate.SettingsDaemon.plugins.media-keys]\nactive=false\n\n"
                   "[org.mate.SettingsDaemon.plugins.sound]\nactive=false\n")


class Mate(WindowManager):
    name = "mate"
    listed = 2
    # MATE's core: session, window manager (marco), panel, caja (which draws the desktop and
    # its icons) and the settings daemon (themes, fonts).
    packages = ("mate-session-manager", "marco", "mate-panel", "caja", "mate-settings-daemon",
                "mate-icon-theme", "mate-terminal", "dbus-x11", SVG_ICONS)
    # mate-session runs XDG autostart entries (ours is on XDG_CONFIG_DIRS) once marco runs.
    command = "dbus-launch --exit-with-session mate-session"
    xdg_autostart = True
    autostart_template = "mate/autostart.sh.j2"

    def build_scripts(self):
        # One Dockerfile line: printf turns the \\n escapes into the file's newlines.
        override = SCHEMA_OVERRIDE.replace("\n", "\\n")
        return [("root", f"printf {shlex.quote(override)} > "
                         "/usr/share/glib-2.0/schemas/90_repo2desktop.gschema.override && "
                         "glib-compile-schemas /usr/share/glib-2.0/schemas")]


WINDOW_MANAGER = Mate()
