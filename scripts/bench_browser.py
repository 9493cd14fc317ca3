"""Chromium (Playwright) measurements for `make bench`: time to READY, first byte, requests, bytes.

READY (the issue's definition, the same for every system): the largest canvas of the page,
sampled on a 157x97 grid, is at least half non-black and shows two or more colours. A canvas
that merely exists, or a black screen with a cursor, is not READY.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Canvases in the page and in same-origin frames (Selkies draws into its own canvas).
READY_JS = """() => {
  const canvases = [...document.querySelectorAll('canvas')];
  if (!canvases.length) return false;
  const c = canvases.reduce((a, b) => (a.width * a.height >= b.width * b.height ? a : b));
  if (c.width < 100 || c.height < 100) return false;
  let ctx = null;
  try { ctx = c.getContext('2d', {willReadFrequently: true}); } catch (e) { ctx = null; }
  if (!ctx) {  // a WebGL canvas: copy what it shows into a 2D one
    const copy = document.createElement('canvas');
    copy.width = c.width; copy.height = c.height;
    ctx = copy.getContext('2d');
    ctx.drawImage(c, 0, 0);
  }
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  const W = 157, H = 97;
  let lit = 0; const colours = new Set();
  for (let j = 0; j < H; j++) for (let i = 0; i < W; i++) {
    const x = Math.floor((i + 0.5) * c.width / W), y = Math.floor((j + 0.5) * c.height / H);
    const k = (y * c.width + x) * 4;
    const r = d[k], g = d[k + 1], b = d[k + 2];
    if (r + g + b > 24) lit++;
    colours.add((r >> 4) << 8 | (g >> 4) << 4 | (b >> 4));
  }
  return lit * 2 >= W * H && colours.size >= 2;
}"""


@dataclass
class PageRun:
    ready_s: Optional[float]  # None: never READY within the timeout
    first_byte_s: Optional[float]
    requests: int
    kib: float
    urls: List[str] = field(default_factory=list)


class Browser:
    def __init__(self):
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

    def close(self) -> None:
        self._browser.close()
        self._pw.stop()

    def context(self, token: str):
        context = self._browser.new_context(viewport={"width": 1280, "height": 860})
        # The token in a header, never in a URL: no login redirect, same for every system.
        context.set_extra_http_headers({"Authorization": f"token {token}"})
        return context

    def open(self, context, url: str, timeout_s: float = 60.0) -> PageRun:
        """A new page of CONTEXT: goto URL, then wait for READY; count what it fetched."""
        page = context.new_page()
        seen: Dict[str, float] = {}
        requests: List[str] = []
        sizes: List[int] = []
        began = time.monotonic()

        def on_response(response):
            seen.setdefault("first", time.monotonic() - began)

        def on_finished(request):
            requests.append(request.url.split("?")[0])
            try:
                s = request.sizes()
                sizes.append(s["responseBodySize"] + s["responseHeadersSize"])
            except Exception:  # the page went away: the request still counts
                sizes.append(0)

        page.on("response", on_response)
        page.on("requestfinished", on_finished)
        page.on("websocket", lambda ws: requests.append(ws.url.split("?")[0]))
        ready = None
        try:
            page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
            page.wait_for_function(READY_JS, timeout=timeout_s * 1000, polling=50)
            ready = time.monotonic() - began
        except Exception:
            ready = None
        count, kib = len(requests), sum(sizes) / 1024
        page.close()
        return PageRun(ready, seen.get("first"), count, kib, list(requests))
