"""The culler thread: every --cull-period seconds, claimed containers idle longer than
--cull-timeout (by the proxy's per-route last activity) or older than --cull-max are removed;
the filler then starts spares in their place. The hard maximum exists because an open
desktop tab keeps its websocket, and so its route, busy forever."""
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
