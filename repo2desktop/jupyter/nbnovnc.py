"""nbnovnc compatibility: its five traitlets, read from the running Jupyter server's config.

nbnovnc users set ``c.NBNoVNC.geometry`` etc. in a Jupyter config file; those values keep
working and win over desktop.yml, so switching needs no config rewrite.
"""
from __future__ import annotations

from typing import Dict, Optional

from traitlets import Integer, Unicode
from traitlets.config import Config, Configurable

# traitlet name -> dotted desktop.yml key
TRAIT_TO_KEY = {
    "geometry": "display.geometry",
    "depth": "display.depth",
    "novnc_directory": "novnc.directory",
    "vnc_command": "vnc.command",
    "websockify_command": "websockify.command",
}


class NBNoVNC(Configurable):
    geometry = Unicode(None, allow_none=True, config=True, help="Desktop geometry, e.g. 1024x768.")
    depth = Integer(None, allow_none=True, config=True, help="Colour depth.")
    novnc_directory = Unicode(None, allow_none=True, config=True, help="noVNC web assets folder.")
    vnc_command = Unicode(None, allow_none=True, config=True,
                          help="VNC server command with {display}, {geometry}, {depth}, {vnc_port}.")
    websockify_command = Unicode(None, allow_none=True, config=True,
                                 help="websockify command with {port}, {vnc_port}, {novnc_directory}, {heartbeat}.")


def _server_config() -> Optional[Config]:
    try:
        from jupyter_server.serverapp import ServerApp
    except ImportError:
        return None
    if ServerApp.initialized():
        return ServerApp.instance().config
    return None


def overrides(config: Optional[Config] = None) -> Dict[str, object]:
    """desktop.yml overrides from ``c.NBNoVNC.*`` (only the traitlets the user set)."""
    config = config if config is not None else _server_config()
    if config is None:
        return {}
    settings = NBNoVNC(config=config)
    result = {}
    for trait, key in TRAIT_TO_KEY.items():
        value = getattr(settings, trait)
        if value is not None:
            result[key] = value
    return result


def as_arguments(values: Dict[str, object]) -> list:
    """The `repo2desktop session` flags carrying these overrides."""
    flags = {"display.geometry": "--geometry", "display.depth": "--depth",
             "novnc.directory": "--novnc-directory", "vnc.command": "--vnc-command",
             "websockify.command": "--websockify-command", "display.number": "--display"}
    args = []
    for key, value in values.items():
        args += [flags[key], str(value)]
    return args
