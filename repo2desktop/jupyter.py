"""The jupyter-server-proxy entry point: the "Desktop" launcher tile and <base_url>/desktop/.

Called once when the Jupyter server loads jupyter-server-proxy. The desktop.yml comes from
$REPO2DESKTOP_CONFIG or the server's working directory (binder/, .binder/, top level);
``c.NBNoVNC.*`` settings override it. jupyter-server-proxy talks to the session over a
private unix socket (its own 0700 temporary folder), so no port is ever opened.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from . import discover, nbnovnc
from .errors import ConfigError
from .render import server_proxy_spec
from .resources import templates_dir
from .runtime import allocate


def _config_location() -> str:
    return os.environ.get("REPO2DESKTOP_CONFIG") or os.getcwd()


def _icon(config, location: str) -> str:
    if config.launcher.icon:
        base = location if os.path.isdir(location) else os.path.dirname(os.path.abspath(location))
        return os.path.join(base, config.launcher.icon)
    return os.path.join(templates_dir(), "desktop-icon.svg")


def setup_desktop() -> dict:
    location = _config_location()
    overrides = nbnovnc.overrides()
    try:
        config = discover.load(location, overrides)
    except ConfigError as e:
        # Keep the tile: the session will print the same located error to the log.
        print(f"repo2desktop: {e}", file=sys.stderr)
        config = discover.load(None, {})
    for warning in config.warnings:
        print(f"repo2desktop: {warning}", file=sys.stderr)

    # Decide the display now, so that the server and every kernel it starts get DISPLAY
    # (notebooks open Qt/matplotlib windows on the desktop), whatever DISPLAY we inherited.
    display = config.display.number or allocate.reserve_display(
        1, needs_vnc_port=config.vnc.server == "tightvnc")
    # The X authority file lives in a private folder that exists before the desktop starts,
    # so kernels can be given XAUTHORITY as well as DISPLAY.
    private = tempfile.mkdtemp(prefix="repo2desktop-")
    xauthority = os.path.join(private, "Xauthority")
    os.environ["DISPLAY"] = f":{display}"
    os.environ["XAUTHORITY"] = xauthority
    overrides["display.number"] = display

    command = [sys.executable, "-m", "repo2desktop", "session", "--config", location,
               "--xauthority", xauthority, *nbnovnc.as_arguments(overrides)]
    spec = server_proxy_spec(config, tuple(command + ["--unix-socket", "{unix_socket}"]),
                             icon_path=_icon(config, location))
    # REPO2DESKTOP_START=eager forces it whatever desktop.yml says (`repo2desktop serve`
    # pre-starts pooled containers so that a visitor's desktop is already up).
    if config.start == "eager" or os.environ.get("REPO2DESKTOP_START") == "eager":
        # Start the desktop now, on a socket we choose; jupyter-server-proxy then runs an
        # "attach" process that waits for that socket, so a request that arrives before
        # websockify listens waits for it instead of failing.
        socket_path = os.path.join(private, "websockify.sock")
        subprocess.Popen(command + ["--unix-socket", socket_path, "--exit-with-parent"],
                         stdin=subprocess.DEVNULL)
        spec["command"] = command + ["--unix-socket", socket_path, "--attach"]
        spec["unix_socket"] = socket_path
    return spec
