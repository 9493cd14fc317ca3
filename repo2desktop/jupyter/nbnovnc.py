"""nbnovnc compatibility: its traitlets, read from the running Jupyter server's config.

nbnovnc users set ``c.NBNoVNC.geometry`` etc. in a Jupyter config file; those values keep
working and win over desktop.yml, so switching needs no config rewrite. The traitlets are
the schema table's rows with a trait name (config/schema.py); their values are checked by
the reader like desktop.yml's, and a bad one is reported as ``c.NBNoVNC.NAME: key: ...``.
"""
from __future__ import annotations

from typing import List, Optional

from traitlets import Any
from traitlets.config import Config, Configurable

from repo2desktop.config import overrides as override_rules, schema
from repo2desktop.config.overrides import Override


def _trait(row: schema.Key) -> Any:
    # Any value: the reader checks it and names the setting in its message (a typed
    # traitlet would fail inside the Jupyter server with a traceback instead).
    return Any(None, allow_none=True, config=True, help=f"{row.path}: {row.doc}")


NBNoVNC = type("NBNoVNC", (Configurable,), {
    "__doc__": "nbnovnc's settings, applied over desktop.yml.",
    **{row.trait: _trait(row) for row in schema.overridable() if row.trait}})


def _server_config() -> Optional[Config]:
    try:
        from jupyter_server.serverapp import ServerApp
    except ImportError:
        return None
    if ServerApp.initialized():
        return ServerApp.instance().config
    return None


def overrides(config: Optional[Config] = None) -> List[Override]:
    """desktop.yml overrides from ``c.NBNoVNC.*`` (only the settings the user made)."""
    config = config if config is not None else _server_config()
    if config is None:
        return []
    settings = NBNoVNC(config=config)
    return override_rules.from_traits({name: getattr(settings, name) for name in settings.trait_names(config=True)})


def as_arguments(values) -> list:
    """The `repo2desktop session` flags carrying these overrides."""
    return override_rules.as_arguments(values)
