"""The HTML pages of `serve`: "no vacancy" (retries by itself), "too many desktops" (one
address's cap reached) and /info (the pool, refreshing itself). Plain HTML, no scripts; nothing secret in them (ids are shortened)."""
from __future__ import annotations

import html
import time
from typing import Dict, Iterable

from repo2desktop.serve.pool import Failure, Slot

RETRY_SECONDS = 3
INFO_REFRESH_SECONDS = 2

_STYLE = ("body{font-family:sans-serif;max-width:44em;margin:3em auto;color:#222}"
          "table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #ddd;"
          "text-align:left}")


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _short(user_id: str) -> str:
    return user_id[:4] + "…"


def no_vacancy(counts: Dict[str, int], retry_path: str = "/") -> str:
    starting = counts["starting"]
    why = (f"{starting} new desktop{'s are' if starting != 1 else ' is'} starting."
           if starting else "Every desktop is in use.")
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>No vacancy</title>
<meta http-equiv="refresh" content="{RETRY_SECONDS};url={html.escape(retry_path)}">
<style>{_STYLE}</style></head>
<body><h1>No vacancy</h1>
<p>All desktops are taken right now. {why}</p>
<p>This page tries again by itself every {RETRY_SECONDS} seconds.</p>
</body></html>
"""


def too_many(per_minute: int, retry_seconds: int) -> str:
    """One address took its --claims-per-minute: no automatic retry (a tab left open would
    take another desktop each time)."""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Too many desktops</title>
<style>{_STYLE}</style></head>
<body><h1>Too many desktops</h1>
<p>Your address has started {per_minute} desktop{'s' if per_minute != 1 else ''} in the last
minute, the most it may. <a href="/">Try again</a> in {retry_seconds} s.</p>
</body></html>
"""


def info(counts: Dict[str, int], slots: Iterable[Slot], failures: Iterable[Failure],
         image: str, now: float = None) -> str:
    now = time.time() if now is None else now
    rows = "".join(
        f"<tr><td>{_short(s.user_id)}</td><td>{s.state}</td><td>{_age(now - s.created)}</td>"
        f"<td>{_age(now - s.claimed_at) if s.claimed_at else ''}</td></tr>" for s in slots)
    failed = "".join(
        f"<tr><td>{_short(f.user_id)}</td><td>failed</td><td>{_age(now - f.at)} ago</td>"
        f"<td>{html.escape(f.reason)}</td></tr>" for f in failures)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Pool</title>
<meta http-equiv="refresh" content="{INFO_REFRESH_SECONDS}">
<style>{_STYLE}</style></head>
<body><h1>Pool of {html.escape(image)}</h1>
<p>ready <b id="ready">{counts['available']}</b> · in use <b id="in-use">{counts['in_use']}</b> ·
starting <b id="starting">{counts['starting']}</b> · failed <b id="failed">{counts['failed']}</b> ·
capacity {counts['capacity']}</p>
<table><tr><th>id</th><th>state</th><th>age</th><th>in use for</th></tr>{rows}</table>
<h2>Recent failures</h2>
<table><tr><th>id</th><th>state</th><th>when</th><th>why</th></tr>{failed}</table>
</body></html>
"""
