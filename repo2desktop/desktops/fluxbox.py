"""fluxbox: a light window manager with its own toolbar (the open windows, a clock) and root
menu (a right click on the desktop), which lists desktop.yml's launchers first. Its settings
are the session's own (`fluxbox -rc`); the wallpaper is drawn by feh."""
from __future__ import annotations

import shlex

from repo2desktop.desktops import WindowManager, launcher_script, launcher_scripts


def fluxbox_escape(value: str) -> str:
    """Text inside fluxbox's menu delimiters: (label), {command}, <icon>. A backslash makes
    the next character literal, so a ')' in a name cannot end the label early."""
    return "".join("\\" + c if c in "\\(){}<>" else c for c in str(value))


class Fluxbox(WindowManager):
    name = "fluxbox"
    listed = 4
    packages = ("fluxbox",)
    launcher_place = "menu"
    feh_wallpaper = True
    filters = {"fluxbox_escape": fluxbox_escape}

    def session_command(self, placement):
        # start.sh runs autostart.sh once fluxbox manages the screen, then becomes fluxbox.
        return "/bin/sh " + shlex.quote(f"{placement.runtime_dir}/fluxbox/start.sh")

    def files(self, config, placement):
        menu = [(l, config.icon(l) if l.icon_is_file else "",
                 "/bin/sh " + shlex.quote(f"{placement.runtime_dir}/{launcher_script(l)}"))
                for l in config.launchers]
        return {
            "fluxbox/start.sh": ("fluxbox/start.sh.j2", 0o700, {}),
            # fluxbox writes its settings back to this file (-rc): the user's, like the folder.
            "fluxbox/init": ("fluxbox/init.j2", 0o600, {}),
            "fluxbox/menu": ("fluxbox/menu.j2", 0o600, {"menu": menu}),
            "fluxbox/overlay": ("fluxbox/overlay.j2", 0o600, {}),
            **launcher_scripts(config),
        }


WINDOW_MANAGER = Fluxbox()
