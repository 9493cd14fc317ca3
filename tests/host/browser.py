"""Chromium through Playwright, as environment.md describes it for these machines."""
from __future__ import annotations

import contextlib
import os

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# noVNC's canvas size once it shows the desktop ([width, height]), null before.
CANVAS_SIZE = """() => {
  const canvas = document.querySelector('canvas');
  return canvas && canvas.width > 100 ? [canvas.width, canvas.height] : null;
}"""
SCREENSHOTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                           "build", "screenshots")


@contextlib.contextmanager
def launched_chromium(extra_args=()):
    """The system's Chromium, headless, through Playwright; closed on exit. Playwright's sync
    API allows one of these at a time per thread. EXTRA_ARGS: e.g. an autoplay policy."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + list(extra_args),
                                    headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def chromium_page(headers=None):
    with launched_chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        if headers:
            context.set_extra_http_headers(headers)
        yield context.new_page()


def wait_for_canvas(page, timeout_ms: int = 30000) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas')].some(c => c.width > 100)", timeout=timeout_ms)


def canvas_pixels_like(page, rgb, tolerance: int = 24, box=None) -> int:
    """How many pixels of the noVNC canvas (or of its BOX, (x, y, width, height) in desktop
    pixels) are within TOLERANCE of RGB."""
    return page.evaluate(
        """([r, g, b, tol, box]) => {
            const c = [...document.querySelectorAll('canvas')].find(c => c.width > 100);
            const [x, y, w, h] = box || [0, 0, c.width, c.height];
            const d = c.getContext('2d').getImageData(x, y, w, h).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4)
                if (Math.abs(d[i]-r) <= tol && Math.abs(d[i+1]-g) <= tol && Math.abs(d[i+2]-b) <= tol) n++;
            return n;
        }""", [rgb[0], rgb[1], rgb[2], tolerance, list(box) if box else None])


def screenshot(page, name: str) -> str:
    os.makedirs(SCREENSHOTS, exist_ok=True)
    path = os.path.join(SCREENSHOTS, name)
    page.screenshot(path=path)
    return path
