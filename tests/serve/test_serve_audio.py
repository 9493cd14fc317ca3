"""Sound behind `repo2desktop serve` (issue 19): a visitor's desktop with `audio: true` plays a
440 Hz tone (paplay in the container, as the notebook user, as any app would) and the page,
reached through configurable-http-proxy at /user/<id>/desktop/, hears it in its audio graph.

The image is the image tier's tigervnc fixture (audio: true), built once under this tier's own
name (conftest.serve_audio_image; BuildKit's cache shares its layers with the image tier). The
session's one Chromium has autoplay blocked, as a visitor's has: the test clicks the speaker
button, as a visitor would. `hear_a_tone` is also the JupyterHub sound test's.
"""
from __future__ import annotations

import shlex
import subprocess

import pytest
import requests

from tests.host.test_audio import TAP, assert_heard
from tests.image.images import docker_cli
from tests.image.test_images import TONE_WAV
from tests.polling import wait_for

from .serving import ServeProcess, open_desktop_page

pytestmark = pytest.mark.serve
NB_USER = "jovyan"


@pytest.fixture(scope="module")
def audio_serve(serve_audio_image, serves) -> ServeProcess:
    serve = ServeProcess(serve_audio_image, "audio", ["--pool-size", "1", "--max-containers", "2",
                                                      "--ready-timeout", "90"], {})
    serves.append(serve)
    serve.start().wait_available(1)
    return serve


def in_container(container, command: str, env=None):
    return container.exec_run(["sh", "-c", command], user=NB_USER, environment=env or {})


def test_a_tone_in_a_visitors_desktop_reaches_the_page_through_the_proxy(audio_serve, chromium):
    r = requests.get(audio_serve.url("/"), allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.text
    location = r.headers["Location"]
    # The claim starts a replacement at once; let it come up first (see open_desktop_page).
    wait_for(lambda: len(audio_serve.containers(all=False)) == 2, 90, "replacement container running")
    [container] = [c for c in audio_serve.containers() if c.name.endswith("-claimed")]
    context = chromium.new_context(viewport={"width": 1024, "height": 700})
    sockets: list = []
    try:
        context.on("page", lambda p: p.on("websocket", lambda ws: sockets.append(ws.url)))
        page, _ = open_desktop_page(context, audio_serve.url(location))
        base = location.split("desktop/")[0]
        hear_a_tone(page, container, sockets, f"{base}desktop/audio", "from a served visitor's desktop")
    finally:
        context.close()


def hear_a_tone(page, container, sockets: list, socket_path: str, source: str, codec: str = "opus") -> None:
    """The visitor's one click on the speaker button (autoplay is blocked), then a 440 Hz tone
    played with paplay in CONTAINER (as the notebook user, as any app would) heard in PAGE's
    audio graph; the sound came over the websocket at SOCKET_PATH, with the login as a cookie,
    as CODEC (Opus where the page may use WebCodecs, PCM on a plain-HTTP page elsewhere)."""
    button = page.locator("#sound")
    button.wait_for(state="visible", timeout=30_000)
    button.click()
    page.wait_for_function("() => window.desktopAudio.context.state === 'running' "
                           f"&& window.desktopAudio.codec === '{codec}'", timeout=30_000)
    assert [u for u in sockets if u.endswith(socket_path)], sockets
    assert not [u for u in sockets if "token" in u], sockets  # the login is a cookie
    page.evaluate(TAP)

    found = in_container(container, "ls -d /tmp/repo2desktop-*/sound/pulse/native").output.decode().split()
    assert len(found) == 1, found
    pulse = {"PULSE_SERVER": f"unix:{found[0]}"}
    wait_for(lambda: "Default Sink: desktop" in in_container(container, "pactl info", pulse).output.decode(),
             timeout=30, what="the sound server, with the null sink as its default output")
    assert in_container(container, f"python3 -c {shlex.quote(TONE_WAV)} /tmp/a440.wav").exit_code == 0
    player = subprocess.Popen([docker_cli(), "exec", "-u", NB_USER, "-e", f"PULSE_SERVER={pulse['PULSE_SERVER']}",
                               container.id, "paplay", "/tmp/a440.wav"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert_heard(page, player, source)
