"""The Desktop page as a Jupyter server extension.

Enabled by the package's ``jupyter_server_config.d/repo2desktop.json`` (installed into
``<prefix>/etc/jupyter``), so every Jupyter server of the environment loads it:
`jupyter server`, Notebook 7, JupyterLab and `jupyterhub-singleuser`, under any base URL.
Its handlers are the server's own (JupyterHandler), so the server's own login protects the
page, its module, its status and the websocket alike: a token, a password, or JupyterHub's
OAuth, which then happens once for all four.

When desktop.yml needs the session process (nbnovnc's overrides), this extension serves
nothing and jupyter-server-proxy runs the session behind the same URL (server_desktop.py).
"""
from __future__ import annotations


def _jupyter_server_extension_points():
    return [{"module": "repo2desktop.jupyter.extension"}]


def _load_jupyter_server_extension(serverapp) -> None:
    from repo2desktop.jupyter import page, server_desktop

    desktop = server_desktop.of(serverapp)
    if desktop.direct is None:
        serverapp.log.info("repo2desktop: <base>/desktop/ is the session process behind "
                           "jupyter-server-proxy (nbnovnc's overrides, or a broken desktop.yml)")
        return
    page.install_handlers(serverapp.web_app, serverapp.base_url, desktop.direct)
