"""The jupyter-server-proxy entry point: the "Desktop" launcher tile.

Called once when the Jupyter server loads jupyter-server-proxy. The desktop.yml comes from
$REPO2DESKTOP_CONFIG or the server's working directory (binder/, .binder/, top level);
``c.NBNoVNC.*`` settings override it (server_desktop.py decides, once per server).

- When the server extension serves the page (extension.py), the entry is the tile alone,
  opening ``<base_url>/desktop/``.
- Otherwise (nbnovnc's overrides, the extension disabled) jupyter-server-proxy runs the
  session process behind ``<base_url>/desktop/`` over a private unix socket (its own 0700
  temporary folder), so no port is ever opened.

A broken desktop.yml keeps the tile: opening it shows the located errors.
"""
from __future__ import annotations

import warnings

from repo2desktop.jupyter import server_desktop


def setup_desktop() -> dict:
    desktop = server_desktop.of(server_desktop.running_server())
    if desktop.direct is not None:
        # A tile without a process of its own is what we mean; jupyter-server-proxy would
        # otherwise warn in every server's log that it has nothing to proxy.
        warnings.filterwarnings("ignore", category=UserWarning,
                                message=r"Server proxy desktop does not have a command, port number or unix_socket path")
    return desktop.proxy_spec
