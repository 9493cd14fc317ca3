"""Visitor arrives -> desktop READY in Chromium, for bench_hub.py (figures printed, never
asserted): one visitor at a time, and a burst of N at once.

Every visitor is a fresh Chromium context (no cookies), so each is a new visitor:
- **hub**, **hub + pool**: the hub's URL (tmpauthenticator's login, the spawn or the pool's
  hand-out, the server's OAuth, the desktop page);
- **serve**: serve's public URL ``/`` (redirected into a pre-started container);
- **plain**: ``docker run`` of the image at arrival, then its desktop page with the token in a
  header, reloaded until Jupyter answers.
READY is bench_browser.READY_JS (the canvas lit and showing colours). A load that Chromium
aborts (on this host each container started adds a network interface and Chromium aborts
loads with ERR_NETWORK_CHANGED) is reloaded, as a visitor would; the time keeps running.
"""
from __future__ import annotations

import asyncio
import secrets
import statistics
import time
from typing import Awaitable, Callable, List, Optional, Tuple

from scripts.bench_browser import CHROMIUM, CHROMIUM_ARGS, READY_JS

# (url to open, extra headers, a cleanup to run afterwards) once the visitor "arrived"
Arrival = Callable[[], Awaitable[Tuple[str, dict, Optional[Callable[[], None]]]]]


async def _ready_in_chromium(browser, arrive: Arrival, timeout: float, polling: int) -> Optional[float]:
    began = time.monotonic()
    url, headers, cleanup = await arrive()
    context = await browser.new_context(viewport={"width": 1280, "height": 860},
                                        extra_http_headers=headers)
    try:
        page = await context.new_page()
        while time.monotonic() - began < timeout:
            left = max(1.0, timeout - (time.monotonic() - began)) * 1000
            try:
                await page.goto(url, wait_until="commit", timeout=left)
                await page.wait_for_url("**/desktop/**", timeout=left)
                await page.wait_for_function(READY_JS, timeout=left, polling=polling)
                return time.monotonic() - began
            except Exception:
                await asyncio.sleep(0.2)  # aborted or not answering yet: reload
                if "/desktop/" in page.url:
                    url = page.url  # logged in already: reload the desktop page itself
        return None
    finally:
        await context.close()
        if cleanup:
            await asyncio.to_thread(cleanup)


async def _visits(arrive: Arrival, n: int, at_once: bool, timeout: float,
                  between: Callable[[], None]) -> List[Optional[float]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                           headless=True)
        try:
            if at_once:
                # READY sampled every 250 ms: N pages reading their canvases every 50 ms
                # would take the cores the desktops need.
                return list(await asyncio.gather(*(_ready_in_chromium(browser, arrive, timeout, 250)
                                                   for _ in range(n))))
            times = []
            for _ in range(n):
                await asyncio.to_thread(between)
                times.append(await _ready_in_chromium(browser, arrive, timeout, 50))
            return times
        finally:
            await browser.close()


def visits(arrive: Arrival, n: int, at_once: bool, timeout: float = 240,
           between: Callable[[], None] = lambda: None) -> List[Optional[float]]:
    """Seconds from arrival to READY for N visitors (None: not READY within TIMEOUT)."""
    return asyncio.run(_visits(arrive, n, at_once, timeout, between))


def summary(times: List[Optional[float]]) -> str:
    done = sorted(t for t in times if t is not None)
    failed = len(times) - len(done)
    if not done:
        return f"none READY (n={len(times)})"
    p99 = done[min(len(done) - 1, int(round(0.99 * (len(done) - 1))))]
    return (f"p50 {statistics.median(done):6.2f} s   p99 {p99:6.2f} s   (n={len(done)}"
            + (f", {failed} not READY" if failed else "") + ")")


def url_arrival(url: str, headers: Optional[dict] = None) -> Arrival:
    async def arrive():
        return url, headers or {}, None
    return arrive


def plain_arrival(client, image: str) -> Arrival:
    """docker run at arrival (as Binder runs the image: lazy desktop), removed afterwards."""
    def run():
        token = secrets.token_hex(24)
        container = client.containers.run(image, detach=True, environment={"JUPYTER_TOKEN": token},
                                          ports={"8888/tcp": ("127.0.0.1", None)},
                                          labels={"r2d-bench": "plain"})
        container.reload()
        port = container.attrs["NetworkSettings"]["Ports"]["8888/tcp"][0]["HostPort"]
        return (f"http://127.0.0.1:{port}/desktop/", {"Authorization": f"token {token}"},
                lambda: container.remove(force=True))

    async def arrive():
        return await asyncio.to_thread(run)
    return arrive
