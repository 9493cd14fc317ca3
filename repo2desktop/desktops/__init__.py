"""The desktops `window_manager:` offers, one class per file (openbox.py, xfce4.py, ...).

Each module of this package defines one ``WindowManager`` subclass and an instance named
``WINDOW_MANAGER``; templates that only one desktop renders live in templates/NAME/. The
registry finds them by walking the package, so a new desktop is one new file (and its
templates folder): config/schema.py takes `window_manager`'s choices from here, the model
where launchers go, render the session command and the desktop's own files, the buildpack
its packages and image tweaks.
"""
from __future__ import annotations

import importlib
import pkgutil
import shlex
from typing import TYPE_CHECKING, Callable, Dict, List, Tuple

if TYPE_CHECKING:
    from repo2desktop.config.model import DesktopConfig
    from repo2desktop.render import Placement

# GTK-based desktops (and every one showing launcher icons) need librsvg2-common: without
# that gdk-pixbuf loader, SVG icons (most icon themes, GIMP's tools) are drawn as broken images.
SVG_ICONS = "librsvg2-common"

# {path relative to the runtime dir: (template, mode, extra context)}, as render() takes them.
Files = Dict[str, Tuple[str, int, dict]]


def launcher_script(launcher) -> str:
    """A launcher's command as a script, for desktops whose toolbar or menu runs a program
    rather than a shell line (IceWM, fluxbox)."""
    return f"bin/launcher-{launcher.slug}.sh"


def launcher_scripts(config: "DesktopConfig") -> Files:
    """Every launcher's script (see launcher_script)."""
    return {launcher_script(launcher): ("program.sh.j2", 0o700, {
        "name": f"launcher-{launcher.slug}", "directory": None, "command": launcher.command,
        "environment": ()}) for launcher in config.launchers}


class WindowManager:
    """What repo2desktop knows of one desktop: what to install, how to start it, where
    desktop.yml's launchers and wallpaper go, and which files of its own it reads."""

    name: str = ""  # the value of desktop.yml's window_manager
    listed: int = 99  # its place among window_manager's choices (messages, README), lowest first
    packages: Tuple[str, ...] = ()  # Debian/Ubuntu packages (Debian 12 and Ubuntu 24.04 names)
    # The session command xinitrc execs ("": none, xinitrc runs autostart.sh itself);
    # {autostart} is a quoted `/bin/sh RUNTIME_DIR/autostart.sh` for the window manager to run.
    command: str = ""
    # Where desktop.yml's launchers appear: "panel" (a tint2 panel), "desktop" (icons on
    # ~/Desktop), "toolbar" or "menu" (the window manager's own, from its files).
    launcher_place: str = "desktop"
    # Starts XDG autostart entries itself (ours is on XDG_CONFIG_DIRS; else autostart.sh runs).
    xdg_autostart: bool = False
    # Has no wallpaper setting of its own: feh draws desktop.yml's wallpaper.
    feh_wallpaper: bool = False
    # Lines of autostart.sh of its own (its wallpaper setting, a user's own autostart).
    autostart_template: str = ""
    # Jinja filters its templates use ({name: function}), e.g. its config files' quoting.
    filters: Dict[str, Callable[[str], str]] = {}

    def session_command(self, placement: "Placement") -> str:
        autostart = shlex.quote("/bin/sh " + shlex.quote(f"{placement.runtime_dir}/autostart.sh"))
        return self.command.format(autostart=autostart)

    def environment(self, placement: "Placement") -> Tuple[Tuple[str, str], ...]:
        """Variables xinitrc exports before it starts the session command."""
        return ()

    def files(self, config: "DesktopConfig", placement: "Placement") -> Files:
        """Its own rendered files (templates/NAME/...), keyed by path in the runtime dir."""
        return {}

    def build_scripts(self) -> List[Tuple[str, str]]:
        """(user, shell) steps its image needs after the packages (repo2docker build scripts)."""
        return []


def _discover() -> Dict[str, WindowManager]:
    found = {}
    for module in pkgutil.iter_modules(__path__):
        manager = importlib.import_module(f"{__name__}.{module.name}").WINDOW_MANAGER
        found[manager.name] = manager
    return dict(sorted(found.items(), key=lambda item: (item[1].listed, item[0])))


WINDOW_MANAGERS: Dict[str, WindowManager] = _discover()


def names() -> Tuple[str, ...]:
    """window_manager's choices."""
    return tuple(WINDOW_MANAGERS)


def get(name: str) -> WindowManager:
    return WINDOW_MANAGERS[name]
