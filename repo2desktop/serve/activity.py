"""When did the visitor of a claimed container last do something? Asked of the container's
own Jupyter server, not of the proxy.

The proxy's per-route last activity is traffic: a clock or an animation on the desktop keeps
frames (and the viewer's requests for them) flowing through an open tab nobody looks at. The
container's Jupyter server knows the person instead: its ``/api/status`` ``last_activity`` moves
with keys, the mouse and pasted text on the desktop (the page's relay, and with TigerVNC the X
server's idle time: ``jupyter/idle.py``), with notebook and API use and with kernels at work,
never with frames, the page's own polling or its sound. ``/api/status`` itself is not activity.

The container's token goes in the Authorization header, never in the URL (URLs reach logs).
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

import requests

STATUS_TIMEOUT = 3.0


def parse_stamp(text: str) -> float:
    """Jupyter's ISO 8601 time (``2026-12-02T08:01:02.345678Z``) as epoch seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def person_last_activity(server: str, base_path: str, token: str,
                         timeout: float = STATUS_TIMEOUT) -> Optional[float]:
    """Epoch seconds of the last activity SERVER's Jupyter (at BASE_PATH) reports, or None when
    it does not answer with one (not routed yet, hung, gone)."""
    if not server:
        return None
    try:
        response = requests.get(f"{server}{base_path}api/status", timeout=timeout, allow_redirects=False,
                                headers={"Authorization": f"token {token}"})
        if response.status_code != 200:
            return None
        return parse_stamp(response.json()["last_activity"])
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return None
