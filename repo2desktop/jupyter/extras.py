"""What the Desktop page adds to the Jupyter server beside its handlers (page.py calls
``install`` once, after it registered them, ``<base>/desktop/upload`` of upload.py among them):

- real idleness (idle.py): with TigerVNC, the desktop's last keyboard or mouse input (the X
  server's idle time, asked every ``REPO2DESKTOP_IDLE_POLL`` s) is Jupyter activity, and a
  program holds the server alive with ``xset s reset``;
- with ``start: lazy``, the desktop starts as soon as a notebook may open a window: when a
  notebook is opened (the contents API reads a ``.ipynb``) or a kernel starts, not only on the
  first visit to /desktop/. Kernels are told ``DISPLAY`` from the start, so a cell running
  ``%matplotlib tk`` or a Qt app before anyone opened the Desktop tab finds an X server, and its
  windows are there when the tab is opened. Opening the notebook gives the X server the kernel's
  start-up time (about a second) as a head start. The cost: a server whose notebooks never open
  windows runs the desktop too once a notebook is opened (its idle memory, README: Benchmarks);
  ``start: visit`` keeps the old rule (only the first visit starts it).
"""
from __future__ import annotations

import logging
from typing import Callable

from repo2desktop.jupyter import idle

KERNEL_ACTIONS = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"
CONTENTS = "https://events.jupyter.org/jupyter_server/contents_service/v1"


def wants_desktop(schema_id: str, data: dict) -> bool:
    """Does this Jupyter event mean that a notebook may soon open a window?"""
    if schema_id == KERNEL_ACTIONS:
        return data.get("action") == "start" and data.get("status") == "success"
    if schema_id == CONTENTS:
        return data.get("action") == "get" and str(data.get("path", "")).endswith(".ipynb")
    return False


def start_with_notebooks(event_logger, start: Callable[[], None]) -> None:
    """Call START (idempotent) on the Jupyter events that mean a notebook is at work."""
    async def listener(logger, schema_id: str, data: dict) -> None:
        if wants_desktop(schema_id, data):
            start()

    for schema_id in (KERNEL_ACTIONS, CONTENTS):
        event_logger.add_listener(schema_id=schema_id, listener=listener)


def install(web_app, desktop) -> None:
    """With start: lazy, start DESKTOP (page.DirectDesktop) with the first notebook or kernel;
    with TigerVNC, watch its input."""
    event_logger = web_app.settings.get("event_logger")
    if desktop.config.start == "lazy" and event_logger is not None:
        start_with_notebooks(event_logger, desktop.ensure_started)
    if desktop.config.vnc.server == "tigervnc" and desktop.config.vnc.command is None:
        try:
            seconds = idle.poll_seconds()
        except ValueError as e:  # a typo must not cost the page: said, and the default kept
            logging.getLogger("ServerApp").error("repo2desktop: %s; asking every %g s", e, idle.POLL_SECONDS)
            seconds = idle.POLL_SECONDS
        idle.watch(web_app.settings, f":{desktop.display}", lambda: desktop.status.get("state") == "ready",
                   seconds)
