"""Is a pooled container's desktop really there? Asked of the container's own Jupyter server:
HTTP 200 on ``<base>desktop/`` with the container's token, then an RFB handshake on
``<base>desktop/websockify`` (jupyter-server-proxy -> websockify -> the VNC server).
Polled until it answers: no fixed sleeps.
"""
from __future__ import annotations

import socket
import time
from typing import Callable, Dict, Optional
from urllib.parse import urlsplit

import requests

from repo2desktop.runtime import rfb


def rfb_greeting(url: str, headers: Optional[Dict[str, str]] = None, timeout: float = 3.0) -> str:
    """The RFB greeting read through the websocket at URL (http://host:port/path), or OSError."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout) as sock:
        return rfb.greeting(rfb.open_websocket(sock, path, host=parts.netloc, headers=headers))


def desktop_answers(server: str, base_path: str, token: str, timeout: float = 3.0) -> Optional[str]:
    """None when the desktop answers at SERVER+BASE_PATH, else what is still missing."""
    headers = {"Authorization": f"token {token}"}
    try:
        page = requests.get(f"{server}{base_path}desktop/", headers=headers, timeout=timeout,
                            allow_redirects=False)
    except requests.RequestException as e:
        return f"Jupyter not answering ({type(e).__name__})"
    if page.status_code != 200:
        return f"desktop page: HTTP {page.status_code}"
    try:
        rfb_greeting(f"{server}{base_path}desktop/websockify", headers, timeout)
    except OSError as e:
        return f"no RFB handshake ({e})"
    return None


def wait_ready(server: Callable[[], str], base_path: str, token: str, timeout: float,
               alive: Callable[[], bool], cancelled: Callable[[], bool]) -> Optional[str]:
    """Poll until the desktop answers (None) or give the reason it did not within TIMEOUT."""
    deadline = time.monotonic() + timeout
    reason = "not started"
    while time.monotonic() < deadline:
        if cancelled():
            return "cancelled"
        if not alive():
            return "the container exited"
        try:
            reason = desktop_answers(server(), base_path, token) or ""
        except Exception as e:  # no address yet, engine hiccup
            reason = str(e)
        if not reason:
            return None
        time.sleep(0.25)
    return f"not ready within {timeout:.0f} s (last: {reason})"
