"""The culler thread: every --cull-period seconds, claimed containers whose visitor has been
idle longer than --cull-timeout (by the container's own Jupyter activity: input on the desktop,
not frames to an open tab; pool.cull, activity.py) or older than --cull-max are removed; the
filler then starts spares in their place. The hard maximum still bounds a visitor who keeps
working, and a container whose Jupyter server stops answering is judged by the proxy's traffic."""
from __future__ import annotations

import threading
from typing import Callable

from repo2desktop.serve.pool import Pool


def cull_forever(pool: Pool, period: float, stopping: threading.Event,
                 log: Callable[[str], None]) -> None:
    while not stopping.wait(period):
        try:
            pool.cull()
        except Exception as e:  # the proxy restarting, the engine busy: try next period
            log(f"culler: pass skipped: {e}")


def start(pool: Pool, period: float, stopping: threading.Event, log: Callable[[str], None]) -> None:
    threading.Thread(target=cull_forever, args=(pool, period, stopping, log), daemon=True,
                     name="culler").start()
