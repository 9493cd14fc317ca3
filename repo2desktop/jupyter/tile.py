"""The jupyter-server-proxy entry point: the "Desktop" launcher tile and <base_url>/desktop/.

Called once when the Jupyter server loads jupyter-server-proxy. The desktop.yml comes from
$REPO2DESKTOP_CONFIG or the server's working directory (binder/, .binder/, top level);
``c.NBNoVNC.*`` settings override it. jupyter-server-proxy talks to the session over a
private unix socket (its own 0700 temporary folder), so no port is ever opened.

Whatever this server holds for its desktop (the display reservation, the X lock, the
folder of the Xauthority file) is held by a guard process (runtime/guard.py) that removes
it when the server ends, even by SIGKILL; the session itself ends with the server.
A broken desktop.yml keeps the tile: opening it shows the located errors.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from repo2desktop.config import discover, schema
from repo2desktop.config.overrides import Override
from repo2desktop.jupyter import nbnovnc
from repo2desktop.jupyter import page
from repo2desktop.jupyter import shared_origin
from repo2desktop.errors import ConfigError
from repo2desktop.render import server_proxy_spec
from repo2desktop.resources import templates_dir
from repo2desktop.runtime import allocate, guard, xsocket


def _config_location() -> str:
    return os.environ.get("REPO2DESKTOP_CONFIG") or os.getcwd()


def _icon(config, location: str) -> str:
    if config.launcher.icon:
        base = location if os.path.isdir(location) else os.path.dirname(os.path.abspath(location))
        return os.path.join(base, config.launcher.icon)
    return os.path.join(templates_dir(), "desktop-icon.svg")


def _running_server():
    """The Jupyter server that is loading jupyter-server-proxy right now, if it has its web app."""
    try:
        from jupyter_server.serverapp import ServerApp
    except ImportError:
        return None
    if not ServerApp.initialized():
        return None
    app = ServerApp.instance()
    return app if getattr(app, "web_app", None) is not None else None


def _direct(config, display: int, xauthority: str, private: str, location: str, lock_holder: int):
    """The fast path (page.py): our page served at once, the desktop started by this server,
    the websocket relayed by jupyter-server-proxy's raw socket proxy. None: not possible here."""
    app = _running_server()
    if app is None:
        return None
    desktop = page.DirectDesktop(config, display, xauthority, private, lock_holder)
    page.install_handlers(app.web_app, app.base_url, desktop)
    desktop.stop_first_on_sigterm()
    spec = {
        "raw_socket_proxy": True,
        "new_browser_tab": True,
        "launcher_entry": {"enabled": True, "title": config.launcher.title,
                           "icon_path": _icon(config, location)},
    }
    if config.vnc.uses_unix_socket:
        spec["unix_socket"] = desktop.vnc_socket
    else:
        spec["port"] = page.VNC_BASE_PORT + display
    if _starts_eagerly(config):
        desktop.ensure_started()
    return spec


def _starts_eagerly(config) -> bool:
    """Start the desktop with the Jupyter server? REPO2DESKTOP_START=eager forces it whatever
    desktop.yml says (`repo2desktop serve` pre-starts pooled containers so that a visitor's
    desktop is already up)."""
    return config.start == "eager" or os.environ.get("REPO2DESKTOP_START") == "eager"


def _protect_shared_origin() -> None:
    """Under `repo2desktop serve` (REPO2DESKTOP_SHARED_ORIGIN=1) other visitors share this
    server's origin: sandbox proxied pages, strict cookies (shared_origin.py)."""
    if not shared_origin.wanted():
        return
    app = _running_server()
    if app is None:
        print(f"repo2desktop: {shared_origin.ENV}: no running Jupyter server to protect; proxied "
              "pages are NOT sandboxed", file=sys.stderr)
        return
    shared_origin.install(app)


def setup_desktop() -> dict:
    _protect_shared_origin()  # first: whatever desktop.yml says, even when it is broken
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
        return server_proxy_spec(config, tuple(command + ["--unix-socket", "{unix_socket}"]),
                                 icon_path=_icon(config, location))
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

    # Under jupyterhub-singleuser the page's own handlers loop on the hub's login redirect
    # (ERR_TOO_MANY_REDIRECTS, tests/serve/test_hub.py), so hub servers keep the proxied
    # session path, which authenticates through jupyter-server-proxy, until that is fixed.
    if page.applies(config) and not os.environ.get("JUPYTERHUB_API_TOKEN"):
        spec = _direct(config, display, xauthority, private, location, lock_holder)
        if spec is not None:
            return spec

    command += ["--xauthority", xauthority, *nbnovnc.as_arguments(overrides)]
    if lock_holder:
        command += ["--display-lock-holder", str(lock_holder)]
    spec = server_proxy_spec(config, tuple(command + ["--unix-socket", "{unix_socket}"]),
                             icon_path=_icon(config, location))
    # websockify's socket goes in the same private folder (not a folder of
    # jupyter-server-proxy's own, which nobody removes), so the guard removes it too.
    socket_path = os.path.join(private, "websockify.sock")
    spec["unix_socket"] = socket_path
    if _starts_eagerly(config):
        # Start the desktop now; jupyter-server-proxy then runs an "attach" process that
        # waits for the socket, so a request that arrives before websockify listens waits
        # for it instead of failing.
        subprocess.Popen(command + ["--unix-socket", socket_path, "--exit-with-parent"],
                         stdin=subprocess.DEVNULL)
        spec["command"] = command + ["--unix-socket", socket_path, "--attach"]
    return spec
