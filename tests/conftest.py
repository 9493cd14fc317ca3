"""Fixtures shared by the slow tiers."""
from __future__ import annotations

import pytest

from .host.browser import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="session")
def chromium():
    """One Chromium for the image and serve tiers: Playwright's sync API allows only one
    running instance per thread, so each tier starting its own fails in a combined run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
