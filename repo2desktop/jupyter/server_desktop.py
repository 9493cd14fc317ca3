"""The desktop of one Jupyter server, decided once: which desktop.yml, which display, and
which of the two ways serves ``<base>/desktop/``.

Two entry points of this package run in one Jupyter server: jupyter-server-proxy's
(tile.py: the launcher tile) and the server extension (extension.py: the page). Whichever
the server loads first prepares the desktop and leaves it in the server's tornado settings;
the other finds it there. The ways:

- **the page** (page.py, relay.py), whenever desktop.yml sets none of nbnovnc's
  ``novnc.directory``, ``vnc.command``, ``websockify.command`` and the server extension is
  enabled: the extension serves the page, its module, its status and the websocket with the
  server's own login (a token, a password, JupyterHub's OAuth); jupyter-server-proxy only
  shows the tile;
- **the session process** otherwise: jupyter-server-proxy runs `repo2desktop session`
  (supervisord + websockify on a private unix socket) behind ``<base>/desktop/``.

Whatever the server holds for its desktop (the display reservation, the X lock, the folder
of the Xauthority file) is held by a guard process (runtime/guard.py) that removes it when
the server ends, even by SIGKILL.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Optional, Tuple

from repo2desktop.config import discover, schema
from repo2desktop.config.model import DesktopConfig
from repo2desktop.config.overrides import Override
from repo2desktop.errors import ConfigError
from repo2desktop.jupyter import nbnovnc, page, shared_origin
from repo2desktop.resources import templates_dir
from repo2desktop.runtime import allocate, guard, xsocket

# The server extension's name in ServerApp.jpserver_extensions (the package's
# jupyter_server_config.d entry enables it).
EXTENSION = "repo2desktop.jupyter.extension"
_SETTINGS_KEY = "repo2desktop.desktop"


@dataclass
class ServerDesktop:
    """What jupyter-server-proxy is told (``proxy_spec``), and the desktop the page serves
    (``direct``; None: the session process serves it)."""
    proxy_spec: dict
    direct: Optional[page.DirectDesktop] = None


def server_proxy_spec(config: DesktopConfig, command: Tuple[str, ...], icon_path: str = "") -> dict:
    """The jupyter-server-proxy entry for the desktop: a private unix socket, never a port."""
    launcher = {"enabled": True, "title": config.launcher.title}
    if icon_path:
        launcher["icon_path"] = icon_path
    return {
        "command": list(command),
        "unix_socket": True,
        # The session answers on its socket within a second; the page then waits for X.
        "timeout": 60,
        "new_browser_tab": True,
        "launcher_entry": launcher,
    }


def running_server():
    """The Jupyter server being set up right now, if it has its web application."""
    try:
        from jupyter_server.serverapp import ServerApp
    except ImportError:
        return None
    if not ServerApp.initialized():
        return None
    app = ServerApp.instance()
    return app if getattr(app, "web_app", None) is not None else None


def of(app) -> ServerDesktop:
    """The desktop of APP (a ServerApp with its web application, or None outside one)."""
    settings = app.web_app.settings if app is not None else None
    if settings is not None and _SETTINGS_KEY in settings:
        return settings[_SETTINGS_KEY]
    desktop = _prepare(app)
    if settings is not None:
        settings[_SETTINGS_KEY] = desktop
    return desktop


def extension_enabled(app) -> bool:
    return app is not None and bool(app.jpserver_extensions.get(EXTENSION))


def _config_location() -> str:
    return os.environ.get("REPO2DESKTOP_CONFIG") or os.getcwd()


def _icon(config, location: str) -> str:
    if config.launcher.icon:
        base = location if os.path.isdir(location) else os.path.dirname(os.path.abspath(location))
        return os.path.join(base, config.launcher.icon)
    return os.path.join(templates_dir(), "desktop-icon.svg")


def starts_eagerly(config) -> bool:
    """Start the desktop with the Jupyter server? REPO2DESKTOP_START=eager forces it whatever
    desktop.yml says (`repo2desktop serve` and `hub-config` start desktops with the server
    so that a visitor's desktop is already up)."""
    return config.start == "eager" or os.environ.get("REPO2DESKTOP_START") == "eager"


def _protect_shared_origin(app) -> None:
    """Under `repo2desktop serve` (REPO2DESKTOP_SHARED_ORIGIN=1) other visitors share this
    server's origin: sandbox proxied pages, strict cookies (shared_origin.py)."""
    if not shared_origin.wanted():
        return
    if app is None:
        print(f"repo2desktop: {shared_origin.ENV}: no running Jupyter server to protect; proxied "
              "pages are NOT sandboxed", file=sys.stderr)
        return
    shared_origin.install(app)


def _prepare(app) -> ServerDesktop:
    _protect_shared_origin(app)  # first: whatever desktop.yml says, even when it is broken
    location = _config_location()
    overrides = nbnovnc.overrides()
    command = [sys.executable, "-m", "repo2desktop", "session", "--config", location]
    try:
        config = discover.load(location, overrides)
    except ConfigError as e:
        # Keep the tile: opening it runs the same session command (with the same
        # c.NBNoVNC settings), which shows these located errors on the page (and in this
        # log) instead of a desktop.
        print(f"repo2desktop: {e}", file=sys.stderr)
        config = discover.defaults()
        command += nbnovnc.as_arguments(overrides)
        return ServerDesktop(server_proxy_spec(config, tuple(command + ["--unix-socket", "{unix_socket}"]),
                                               icon_path=_icon(config, location)))
    from repo2desktop.runtime.limits import shared_host_warnings

    for warning in [*config.warnings, *shared_host_warnings(config)]:
        print(f"repo2desktop: {warning}", file=sys.stderr)

    # Decide the display now, so that the server and every kernel it starts get DISPLAY
    # (notebooks open Qt/matplotlib windows on the desktop), whatever DISPLAY we inherited.
    reservation = None
    if config.display.number:
        display = config.display.number
    else:
        reservation = allocate.reserve_display(
            schema.FIRST_DISPLAY, needs_vnc_port=config.vnc.uses_tcp_port,
            hold_abstract=not xsocket.config_server_binds_abstract_name(config))
        display = reservation.number
    # The X authority file lives in a private folder that exists before the desktop starts,
    # so kernels can be given XAUTHORITY as well as DISPLAY.
    private = tempfile.mkdtemp(prefix="repo2desktop-")
    # The reservation (an X lock naming this server, which other X servers respect, and our
    # own flock) is held by the guard too, which removes it and the folder when we end.
    guard.start_guard(display=display, remove=[private],
                      x_lock_pids=[reservation.x_lock_pid] if reservation else [],
                      locks=reservation.lock_files if reservation else [],
                      held_fds=reservation.held_fds if reservation else [])
    lock_holder = reservation.x_lock_pid if reservation is not None else 0
    if reservation is not None:
        reservation.close()  # the guard holds the lock now
    xauthority = os.path.join(private, "Xauthority")
    os.environ["DISPLAY"] = f":{display}"
    os.environ["XAUTHORITY"] = xauthority
    overrides.append(Override("display.number", display, schema.KEYS["display.number"].flag))

    if page.applies(config) and extension_enabled(app):
        direct = page.DirectDesktop(config, display, xauthority, private, lock_holder)
        direct.stop_first_on_sigterm()
        if starts_eagerly(config):
            direct.ensure_started()
        return ServerDesktop(_launcher_only(config, location), direct)

    command += ["--xauthority", xauthority, *nbnovnc.as_arguments(overrides)]
    if lock_holder:
        command += ["--display-lock-holder", str(lock_holder)]
    spec = server_proxy_spec(config, tuple(command + ["--unix-socket", "{unix_socket}"]),
                             icon_path=_icon(config, location))
    # websockify's socket goes in the same private folder (not a folder of
    # jupyter-server-proxy's own, which nobody removes), so the guard removes it too.
    socket_path = os.path.join(private, "websockify.sock")
    spec["unix_socket"] = socket_path
    if starts_eagerly(config):
        # Start the desktop now; jupyter-server-proxy then runs an "attach" process that
        # waits for the socket, so a request that arrives before websockify listens waits
        # for it instead of failing.
        subprocess.Popen(command + ["--unix-socket", socket_path],
                         stdin=subprocess.DEVNULL)
        spec["command"] = command + ["--unix-socket", socket_path, "--attach"]
    return ServerDesktop(spec)


def _launcher_only(config, location: str) -> dict:
    """jupyter-server-proxy's entry when the extension serves the page: the tile alone,
    pointing at the page. Without a command, port or socket jupyter-server-proxy adds no
    route of its own, so ``<base>/desktop/…`` stays the extension's in any load order."""
    return {
        "new_browser_tab": True,
        "launcher_entry": {"enabled": True, "title": config.launcher.title,
                           "icon_path": _icon(config, location), "path_info": "desktop/"},
    }
