"""Sound from the desktop in the page (desktop.yml `audio: true`, issue 19), end to end: a
real Jupyter server (and, at the end, a real `repo2desktop up`) runs the desktop with its PipeWire sound server, a real Chromium opens the
page, a 440 Hz tone played in the desktop (paplay, as any app would) is measured in the page's
own audio graph (an AnalyserNode the test connects to the page's output node).

Chromium starts with autoplay allowed (--autoplay-policy=no-user-gesture-required), as a
user's click on the page's "Click for sound" button would allow it.
"""
from __future__ import annotations

import math
import os
import signal
import struct
import wave
from pathlib import Path

import pytest
import requests
import websocket

from tests.polling import wait_for

from .browser import launched_chromium
from .test_jupyter import BASE, JupyterServer, descendants, jupyter  # noqa: F401 (fixture)

pytestmark = pytest.mark.jupyter

AUDIO_YML = """\
version: 1
vnc: {server: tigervnc, auth: none}
window_manager: none
autostart: []
audio: true
"""
SOUND_PROGRAMS = ("pipewire", "wireplumber")

# The page's graph: connect an AnalyserNode to the page's output (after the mute switch).
TAP = """() => {
  const a = window.desktopAudio.context.createAnalyser();
  a.fftSize = 8192;
  a.smoothingTimeConstant = 0;
  window.desktopAudio.output.connect(a);
  window.soundTap = a;
}"""
# The strongest frequency the tap hears now, and its level in dB (-Infinity: silence).
PEAK = """() => {
  const a = window.soundTap;
  const bins = new Float32Array(a.frequencyBinCount);
  a.getFloatFrequencyData(bins);
  let best = 0;
  for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
  return [best * a.context.sampleRate / a.fftSize, bins[best]];
}"""


def tone(path: Path, hertz: float = 440.0, seconds: float = 3.0, rate: int = 48000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * hertz * i / rate)))
                               for i in range(int(seconds * rate))))
    return path


def sound_processes(server: JupyterServer) -> dict:
    return {pid: os.path.basename(argv[0]) for pid, (_, argv) in descendants(server.proc.pid).items()
            if argv and os.path.basename(argv[0]) in SOUND_PROGRAMS}


def pulse_server(server: JupyterServer) -> str:
    return f"unix:{server.session().runtime_dir}/sound/pulse/native"


# An ALSA app (what simpleaudio and PortAudio/sounddevice are): a WAV to ALSA's "default"
# device through libasound, which pipewire-alsa routes to the sound server.
ALSA_PLAYER = r"""
import ctypes, sys, wave
asound = ctypes.CDLL("libasound.so.2")
w = wave.open(sys.argv[1])
frames = w.readframes(w.getnframes())
pcm = ctypes.c_void_p()
assert asound.snd_pcm_open(ctypes.byref(pcm), b"default", 0, 0) == 0, "snd_pcm_open"
# S16_LE, read/write interleaved, channels, rate, resample, 100 ms latency
assert asound.snd_pcm_set_params(pcm, 2, 3, w.getnchannels(), w.getframerate(), 1, 100000) == 0
asound.snd_pcm_writei.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_ulong]
assert asound.snd_pcm_writei(pcm, frames, w.getnframes()) == w.getnframes(), "snd_pcm_writei"
asound.snd_pcm_drain(pcm)
asound.snd_pcm_close(pcm)
"""


def sound_server_ready(server: JupyterServer, address: str = "") -> bool:
    """PipeWire answers on its PulseAudio socket (ADDRESS, default SERVER's desktop's) and
    WirePlumber made the null sink the default."""
    import subprocess

    info = subprocess.run(["pactl", f"--server={address or pulse_server(server)}", "info"],
                          capture_output=True, text=True, timeout=10)
    return info.returncode == 0 and "Default Sink: desktop" in info.stdout


def play_in_desktop(server: JupyterServer, wav: Path, address: str = ""):
    """paplay on the desktop's sound server, with the environment the desktop's apps get
    (or the sound server's ADDRESS as something else, a kernel, was given it)."""
    import subprocess

    env = dict(os.environ, PULSE_SERVER=address or pulse_server(server))
    return subprocess.Popen(["paplay", str(wav)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def assert_heard(page, player, source: str, hertz: float = 440.0) -> None:
    """The tone PLAYER (a started process) plays into the desktop reaches the page's tap (TAP):
    a reading of HERTZ ± 10 Hz well above silence within 6 s; and PLAYER ends without error
    (checked first: a player that failed is the likelier reason for no tone). SOURCE says
    where the tone came from, for the message."""
    readings = []

    def tone_heard() -> bool:
        frequency, level = page.evaluate(PEAK)
        readings.append((round(frequency, 1), round(level, 1) if level > -1e9 else None))
        return abs(frequency - hertz) <= 10 and level > -40

    try:
        wait_for(tone_heard, 6, lambda: f"no {hertz:g} Hz tone {source} in the page's audio graph; "
                 f"readings: {readings[-20:]}", 0.05)
    finally:
        _, errors = player.communicate(timeout=10)
        assert player.returncode == 0, f"the player failed ({player.returncode}): {errors}"


@pytest.fixture(scope="module")
def autoplay_chromium():
    with launched_chromium(["--autoplay-policy=no-user-gesture-required"]) as browser:
        yield browser


@pytest.fixture(scope="module")
def audio_server(tmp_path_factory):
    server = JupyterServer(tmp_path_factory.mktemp("jupyter-audio"), AUDIO_YML)
    try:
        yield server.wait_ready()
    finally:
        server.stop()


def open_desktop(browser, server: JupyterServer, websockets: list):
    context = browser.new_context(viewport={"width": 1024, "height": 700})
    context.set_extra_http_headers(server.headers)
    page = context.new_page()
    page.on("websocket", lambda ws: websockets.append(ws.url))
    page.goto(server.url("desktop/"))
    page.wait_for_function("() => document.documentElement.classList.contains('noVNC_connected')",
                           timeout=60_000)
    return context, page


def test_a_tone_in_the_desktop_is_heard_in_the_page_and_survives_a_sound_server_restart(
        audio_server, autoplay_chromium, tmp_path):
    server = audio_server
    sockets: list = []
    context, page = open_desktop(autoplay_chromium, server, sockets)
    try:
        page.wait_for_function("() => window.desktopAudio && window.desktopAudio.codec === 'opus'",
                               timeout=30_000)
        assert page.evaluate("() => window.desktopAudio.context.state") == "running"
        assert [u for u in sockets if u.endswith(f"{BASE}desktop/audio")], sockets
        assert not [u for u in sockets if "token" in u], sockets
        page.evaluate(TAP)
        page.evaluate("() => { window.sameDocument = true; }")
        wav = tone(tmp_path / "a440.wav")
        wait_for(lambda: sound_server_ready(server), timeout=30,
                 what="the sound server, with the null sink as its default output")

        assert_heard(page, play_in_desktop(server, wav), "from the desktop")
        frames = page.evaluate("() => window.desktopAudio.frames")
        assert frames > 10, frames

        # Kill the sound server: supervisord starts it again, the page plays on, no reload.
        before = sound_processes(server)
        pipewire = [pid for pid, name in before.items() if name == "pipewire"]
        assert len(pipewire) == 1, before
        os.kill(pipewire[0], signal.SIGKILL)
        wait_for(lambda: [pid for pid, name in sound_processes(server).items()
                          if name == "pipewire" and pid != pipewire[0]], timeout=30,
                 what="a new pipewire under supervisord")
        wait_for(lambda: sound_server_ready(server), timeout=30,
                 what="the restarted sound server, with the null sink as its default output")
        assert_heard(page, play_in_desktop(server, wav), "after the sound server restarted")
        assert page.evaluate("() => window.sameDocument") is True
    finally:
        context.close()


def test_kernels_play_into_the_desktops_sound(audio_server, autoplay_chromium, tmp_path):
    """A notebook's kernel gets PULSE_SERVER (as it gets DISPLAY): its sound reaches the page."""
    server = audio_server
    sockets: list = []
    context, page = open_desktop(autoplay_chromium, server, sockets)
    kernel = server.session_post("api/kernels", json={"name": "python3"}).json()["id"]
    try:
        page.wait_for_function("() => window.desktopAudio && window.desktopAudio.codec === 'opus'",
                               timeout=30_000)
        page.evaluate(TAP)
        kernel_pid = wait_for(lambda: [pid for pid, (_, argv) in descendants(server.proc.pid).items()
                                       if any("ipykernel" in a for a in argv) and kernel in " ".join(argv)],
                              timeout=30, what="the kernel's process")[0]
        with open(f"/proc/{kernel_pid}/environ", "rb") as f:
            env = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
        address = env[b"PULSE_SERVER"].decode()
        assert address.startswith("unix:/") and address != pulse_server(server), address
        wait_for(lambda: sound_server_ready(server), timeout=30,
                 what="the sound server, with the null sink as its default output")
        assert_heard(page, play_in_desktop(server, tone(tmp_path / "a440.wav"), address=address),
                     "from the kernel's PULSE_SERVER")

        # An ALSA app in the kernel (simpleaudio, sounddevice): PIPEWIRE_RUNTIME_DIR.
        import subprocess
        import sys

        low = tone(tmp_path / "a330.wav", hertz=330.0)
        alsa = subprocess.Popen(
            [sys.executable, "-c", ALSA_PLAYER, str(low)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=dict(os.environ, PIPEWIRE_RUNTIME_DIR=env[b"PIPEWIRE_RUNTIME_DIR"].decode()))
        assert_heard(page, alsa, "from an ALSA app with the kernel's environment", hertz=330.0)
    finally:
        requests.delete(server.url(f"api/kernels/{kernel}"), headers=server.headers, timeout=30)
        context.close()


def test_the_sound_websocket_refuses_requests_without_the_jupyter_login(audio_server):
    server = audio_server
    page = server.start_desktop()
    login = "; ".join(f"{k}={v}" for k, v in page.cookies.items())  # the browser's login cookie
    assert login
    url = f"ws://127.0.0.1:{server.port}{BASE}desktop/audio"
    for header in ([], ["Authorization: token not-the-token"]):
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(url, header=header, timeout=10)
        assert refused.value.status_code == 403
    # The login cookie sent by another site's page (cross-site websocket hijacking): refused.
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, cookie=login, origin="http://elsewhere.example", timeout=10)
    assert refused.value.status_code == 403
    # The same cookie from the desktop page's own origin: accepted.
    websocket.create_connection(url, cookie=login, origin=f"http://127.0.0.1:{server.port}", timeout=10).close()
    # With the login: the stream's format, then the desktop's sound as Opus packets.
    ws = websocket.create_connection(url, header=[f"Authorization: token {server.token}"], timeout=10)
    try:
        ws.send('{"codec": "opus"}')
        assert ws.recv() == '{"codec": "opus", "rate": 48000, "channels": 2, "frame": 960}'
    finally:
        ws.close()


NO_TERMINALS = """
from jupyter_server.auth import Authorizer


class NoTerminals(Authorizer):
    def is_authorized(self, handler, user, action, resource):
        return resource != "terminals"


c.ServerApp.authorizer_class = NoTerminals
"""


def test_a_user_the_authorizer_keeps_from_the_desktop_does_not_hear_it(jupyter):  # noqa: F811
    """As for the VNC websocket: who may not use terminals may not use (or hear) the desktop."""
    server = jupyter(AUDIO_YML, config_py=NO_TERMINALS)
    server.start_desktop()
    url = f"ws://127.0.0.1:{server.port}{BASE}desktop/audio"
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, header=[f"Authorization: token {server.token}"], timeout=10)
    assert refused.value.status_code == 403


def test_without_audio_no_sound_server_runs_and_the_page_opens_no_sound_socket(
        jupyter, autoplay_chromium):  # noqa: F811 (pytest fixture)
    server = jupyter(AUDIO_YML.replace("audio: true", "audio: false"))
    sockets: list = []
    context, page = open_desktop(autoplay_chromium, server, sockets)
    try:
        server.session()
        assert page.evaluate("() => typeof window.desktopAudio") == "undefined"
        assert page.locator("#sound").count() == 0
        assert sockets and all(u.endswith(f"{BASE}desktop/websockify") for u in sockets), sockets
        assert not sound_processes(server), sound_processes(server)
    finally:
        context.close()


# -- `repo2desktop up`: the same page and sound from up's own server ------------------------

UP_AUDIO_YML = "version: 1\nvnc: {server: tigervnc}\nwindow_manager: none\nautostart: []\naudio: true\n"


@pytest.mark.host
def test_a_tone_in_an_up_desktop_is_heard_in_its_page(start_up, write_config, autoplay_chromium, tmp_path):
    up = start_up(write_config(UP_AUDIO_YML))
    address = f"unix:{up.runtime_dir}/sound/pulse/native"
    context = autoplay_chromium.new_context(viewport={"width": 1024, "height": 700})
    sockets: list = []
    try:
        page = context.new_page()
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.goto(f"http://127.0.0.1:{up.port}/#&password={up.password}")
        page.wait_for_function("() => document.documentElement.classList.contains('noVNC_connected')",
                               timeout=60_000)
        page.wait_for_function("() => window.desktopAudio && window.desktopAudio.codec === 'opus'",
                               timeout=30_000)
        assert f"ws://127.0.0.1:{up.port}/audio" in sockets, sockets
        assert not [u for u in sockets if up.password in u], sockets  # the password is never in a URL
        page.evaluate(TAP)
        wait_for(lambda: sound_server_ready(None, address), timeout=30,
                 what="the sound server, with the null sink as its default output")
        assert_heard(page, play_in_desktop(None, tone(tmp_path / "a440.wav"), address=address),
                     "from an up desktop")
    finally:
        context.close()


@pytest.mark.host
def test_up_s_sound_socket_wants_the_desktops_password(start_up, write_config):
    """No login on up's port (any local user reaches it): the page's first message must carry
    the VNC password that up printed; without it the socket closes and sends no sound."""
    up = start_up(write_config(UP_AUDIO_YML))
    url = f"ws://127.0.0.1:{up.port}/audio"
    for hello in ('{"codec": "opus"}', '{"codec": "opus", "password": "wrong!!!"}', "not json"):
        ws = websocket.create_connection(url, timeout=10)
        try:
            ws.send(hello)
            opcode, data = ws.recv_data(control_frame=True)
            assert opcode == websocket.ABNF.OPCODE_CLOSE, (hello, opcode, data)
            assert int.from_bytes(data[:2], "big") == 1008, (hello, data)
        finally:
            ws.shutdown()  # the server closed first: close() would leave the socket open
    # Another site's page: refused before the upgrade.
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, origin="http://elsewhere.example", timeout=10)
    assert refused.value.status_code == 403
    ws = websocket.create_connection(url, timeout=10)
    try:
        ws.send(f'{{"codec": "opus", "password": "{up.password}"}}')
        assert ws.recv() == '{"codec": "opus", "rate": 48000, "channels": 2, "frame": 960}'
    finally:
        ws.close()
