"""IceWM: a light window manager with its own taskbar; launchers on its toolbar, wallpaper
by icewmbg, settings in the session's own folder (ICEWM_PRIVCFG)."""
from __future__ import annotations

from repo2desktop.desktops import SVG_ICONS, WindowManager, launcher_script, launcher_scripts


def icewm_quote(value: str) -> str:
    """A double-quoted word of IceWM's menu/toolbar files."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


class IceWm(WindowManager):
    name = "icewm"
    listed = 3
    packages = ("icewm", SVG_ICONS)
    # icewm-session runs $ICEWM_PRIVCFG/startup (ours starts the autostart programs).
    command = "icewm-session"
    launcher_place = "toolbar"
    filters = {"icewm_quote": icewm_quote}

    def environment(self, placement):
        # IceWM reads its settings from $ICEWM_PRIVCFG before /etc/icewm.
        return (("ICEWM_PRIVCFG", f"{placement.runtime_dir}/icewm"),)

    def files(self, config, placement):
        return {
            "icewm/startup": ("icewm/startup.j2", 0o700, {}),
            "icewm/preferences": ("icewm/preferences.j2", 0o600, {}),
            "icewm/toolbar": ("icewm/toolbar.j2", 0o600, {
                "toolbar": [(l, config.icon(l) or "-", f"{placement.runtime_dir}/{launcher_script(l)}")
                            for l in config.launchers]}),
            **launcher_scripts(config),
        }


WINDOW_MANAGER = IceWm()
