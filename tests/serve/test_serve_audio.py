"""Sound behind `repo2desktop serve` (issue 19): a visitor's desktop with `audio: true` plays a
440 Hz tone (paplay in the container, as the notebook user, as any app would) and the page,
reached through configurable-http-proxy at /user/<id>/desktop/, hears it in its audio graph.

The image is the image tier's tigervnc fixture (audio: true), built once under this tier's own
name (BuildKit's cache shares its layers with the image tier). The session's one Chromium has
autoplay blocked, as a visitor's has: the test clicks the speaker button, as a visitor would.
"""
from __future__ import annotations

import shlex
import subprocess

import pytest
import requests

from tests.host.test_audio import TAP, assert_heard
from tests.image.images import FIXTURES, docker_cli, run_build, untag
from tests.image.test_images import TONE_WAV
from tests.polling import wait_for

from .serving import SERVE_AUDIO_IMAGE, ServeProcess, open_desktop_page

pytestmark = pytest.mark.serve
NB_USER = "jovyan"


@pytest.fixture(scope="module")
def audio_serve(docker_engine, serves) -> ServeProcess:
    untag(SERVE_AUDIO_IMAGE)
    result = run_build(FIXTURES / "tigervnc", SERVE_AUDIO_IMAGE, "build-serve-audio", name="serve-audio")
    if not result.ok:
        pytest.fail(result.failure(), pytrace=False)
    serve = ServeProcess(SERVE_AUDIO_IMAGE, "audio", ["--pool-size", "1", "--max-containers", "2",
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
        button = page.locator("#sound")
        button.wait_for(state="visible", timeout=30_000)
        button.click()  # the visitor's one click for sound (autoplay is blocked)
        page.wait_for_function("() => window.desktopAudio.context.state === 'running' "
                               "&& window.desktopAudio.codec === 'opus'", timeout=30_000)
        base = location.split("desktop/")[0]
        assert [u for u in sockets if u.endswith(f"{base}desktop/audio")], sockets
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
        assert_heard(page, player, "from a served visitor's desktop")
    finally:
        context.close()
