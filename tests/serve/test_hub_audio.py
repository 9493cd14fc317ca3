"""Sound behind JupyterHub (issue 19): a temporary user's desktop with `audio: true`, reached
through the hub's proxy and its login (the same fast page as everywhere), plays a 440 Hz tone
that the page hears in its audio graph (as PCM: the hub's page is plain HTTP on a non-loopback
address, not a secure context); the sound websocket needs the hub's login.

The hub is test_hub.py's (`hub-config` flags only) on a network and name prefix of its own;
the image is the serve tier's audio image (conftest.serve_audio_image).
"""
from __future__ import annotations

from pathlib import Path

import pytest
import websocket

from .serving import SESSION, open_desktop_page
from .test_hub import _servers, running_hub
from .test_serve_audio import hear_a_tone

pytestmark = pytest.mark.serve

NETWORK = f"r2d-test-hubaudio-{SESSION}"
NAME_PREFIX = f"r2d-test-hubaudio-{SESSION}-"


def test_a_tone_in_a_hub_users_desktop_reaches_the_page_through_the_hub(serve_audio_image, chromium,
                                                                          tmp_path: Path):
    with running_hub(serve_audio_image, tmp_path, NETWORK, NAME_PREFIX, "jupyterhub-audio.log") as hub:
        context = chromium.new_context(viewport={"width": 1024, "height": 700})
        sockets: list = []
        try:
            context.on("page", lambda p: p.on("websocket", lambda ws: sockets.append(ws.url)))
            page = context.new_page()
            page.goto(hub.url + "/", timeout=120000)  # -> temporary user -> spawn -> its desktop
            page.wait_for_url("**/user/*/desktop/**", timeout=120000)
            user_url = hub.url + "/user/" + page.url.split("/user/", 1)[1]
            page.close()
            page, _ = open_desktop_page(context, user_url)
            user = page.url.split("/user/", 1)[1].split("/", 1)[0]
            (container,) = _servers(hub.client, NAME_PREFIX)
            # The hub's address here is the network's gateway over plain HTTP: not a secure
            # context, so no WebCodecs; the page asks for PCM, its documented fallback.
            hear_a_tone(page, container, sockets, f"/user/{user}/desktop/audio",
                        "from a JupyterHub user's desktop", codec="pcm")
        finally:
            context.close()
        # The same socket without the hub's login is refused before any sound is sent.
        ws_url = hub.url.replace("http://", "ws://") + f"/user/{user}/desktop/audio"
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(ws_url, timeout=10)
        assert refused.value.status_code in (302, 401, 403), refused.value.status_code
