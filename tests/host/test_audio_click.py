"""The page's speaker button (desktop.yml `audio: true`): where the browser blocks sound until
the user acts, the button says so and one click starts it; a second click mutes.

Chromium runs with autoplay blocked (--autoplay-policy=document-user-activation-required, what browsers do
for a page the user never interacted with). A separate module from test_audio.py, which keeps
a Chromium with autoplay allowed open for its whole module (Playwright's sync API runs one
browser per thread at a time).
"""
from __future__ import annotations

import pytest

from tests.polling import wait_for

from .browser import launched_chromium
from .test_audio import AUDIO_YML, PEAK, TAP, assert_heard, play_in_desktop, sound_server_ready, tone
from .test_jupyter import jupyter  # noqa: F401 (fixture)

pytestmark = pytest.mark.jupyter


@pytest.fixture
def blocking_chromium():
    with launched_chromium(["--autoplay-policy=document-user-activation-required"]) as browser:
        yield browser


def test_one_click_starts_the_sound_and_the_next_mutes_it(jupyter, blocking_chromium, tmp_path):  # noqa: F811
    server = jupyter(AUDIO_YML)
    context = blocking_chromium.new_context()
    context.set_extra_http_headers(server.headers)
    page = context.new_page()
    try:
        page.goto(server.url("desktop/"))
        button = page.locator("#sound")
        button.wait_for(state="visible", timeout=30_000)
        assert page.evaluate("() => window.desktopAudio.context.state") == "suspended"
        assert button.inner_text() == "\U0001F507 Click for sound"
        assert "click" in button.get_attribute("title").lower()

        button.click()
        page.wait_for_function("() => window.desktopAudio.context.state === 'running'", timeout=10_000)
        assert button.inner_text() == "\U0001F50A"
        assert button.get_attribute("aria-label") == "Sound on: click to mute"
        page.evaluate(TAP)
        wav = tone(tmp_path / "a440.wav")
        wait_for(lambda: sound_server_ready(server), timeout=30,
                 what="the sound server, with the null sink as its default output")
        assert_heard(page, play_in_desktop(server, wav), "after the click")

        button.click()
        assert button.inner_text() == "\U0001F507"
        assert button.get_attribute("aria-label") == "Sound off: click to hear the desktop"
        frames = page.evaluate("() => window.desktopAudio.frames")
        player = play_in_desktop(server, wav)
        wait_for(lambda: page.evaluate("() => window.desktopAudio.frames") > frames + 25, timeout=10,
                 what="the tone's frames reaching the muted page")
        levels = [page.evaluate(PEAK)[1] for _ in range(20)]
        player.communicate(timeout=10)
        assert max(levels) < -100, levels  # muted: the page's output is silent
    finally:
        context.close()
