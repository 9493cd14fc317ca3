"""A Jupyter server that shares its web origin with other people's servers.

`repo2desktop serve` puts every visitor at ``/user/<id>/`` on one host: one origin for all. A
page one visitor serves through jupyter-server-proxy (``/user/<A>/proxy/9000/x.html``, or any
proxied entry of the image) would run as that origin, and the browser of visitor B who opens it
sends B's login cookie (path ``/user/<B>/``) with whatever it fetches: A reads B's files and
drives B's kernels. With REPO2DESKTOP_SHARED_ORIGIN=1 (serve sets it in every container):

- every response under ``<base>proxy/`` and under each proxied entry other than ``desktop``
  carries ``Content-Security-Policy: sandbox ...`` without ``allow-same-origin``: the page runs
  (scripts, forms) in an opaque origin of its own, so the shared origin's cookies and
  responses are out of its reach (the same rule Jupyter applies to ``/files/``);
- the login and ``_xsrf`` cookies are ``SameSite=Strict``: a request started by a page of
  another origin (an opaque one included) never carries them.

The desktop's own page is ours (rendered from the package) and keeps its origin. What this
does not cover is anything else a visitor can make this server serve (their environment is
theirs to change, JupyterLab extensions included): only an origin per visitor isolates fully
(README: serve, Security).
"""
from __future__ import annotations

import os
import sys
from importlib.metadata import entry_points
from typing import Iterable, Tuple

import tornado.web

ENV = "REPO2DESKTOP_SHARED_ORIGIN"
# allow-scripts and forms so that a visitor's own web app still runs; never
# allow-same-origin, which would hand the page the shared origin back.
SANDBOX = "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads"
OWN_ENTRIES = {"desktop"}


def wanted() -> bool:
    return os.environ.get(ENV) == "1"


def proxied_prefixes(base_url: str, entry_names: Iterable[str]) -> Tuple[str, ...]:
    """Path prefixes of what jupyter-server-proxy serves from other processes: its generic
    ``proxy/`` routes and every named entry but ours."""
    base = base_url.rstrip("/") + "/"
    names = sorted(set(entry_names) - OWN_ENTRIES)
    return (base + "proxy/", *(f"{base}{name}/" for name in names))


class SandboxTransform(tornado.web.OutputTransform):
    """Adds the sandbox policy to responses whose path starts with one of PREFIXES (set on a
    subclass per server). A second policy header only narrows what the proxied server sent."""

    prefixes: Tuple[str, ...] = ()

    def __init__(self, request) -> None:
        super().__init__(request)
        self.applies = request.path.startswith(self.prefixes)

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        if self.applies:
            headers.add("Content-Security-Policy", SANDBOX)
        return status_code, headers, chunk


def _entry_names(app) -> Iterable[str]:
    configured = app.config.get("ServerProxy", {}).get("servers", {}) or {}
    try:
        found = entry_points(group="jupyter_serverproxy_servers")
    except TypeError:  # Python 3.9: a dict of groups
        found = entry_points().get("jupyter_serverproxy_servers", [])
    return [*configured, *(e.name for e in found)]


def install(app) -> None:
    """Sandbox proxied pages and make the cookies strict on the running ServerApp APP."""
    prefixes = proxied_prefixes(app.base_url, _entry_names(app))
    app.web_app.add_transform(type("SandboxProxied", (SandboxTransform,), {"prefixes": prefixes}))
    provider = app.identity_provider
    provider.cookie_options = {**provider.cookie_options, "samesite": "Strict"}
    settings = app.web_app.settings
    settings["xsrf_cookie_kwargs"] = {**(settings.get("xsrf_cookie_kwargs") or {}), "samesite": "Strict"}
    print(f"repo2desktop: {ENV}: sandboxed {', '.join(prefixes)}; cookies SameSite=Strict",
          file=sys.stderr)
