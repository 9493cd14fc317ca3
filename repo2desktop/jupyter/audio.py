"""``<base>/desktop/audio``: the desktop's sound for the page, over one authenticated websocket
of the Jupyter server (desktop.yml ``audio: true``; page.py adds it beside its own handlers).

parec records the monitor of the sound server's null sink (PipeWire's PulseAudio socket in
the session's sound folder) as 48 kHz 16-bit stereo; every 20 ms frame becomes one binary
message: an Opus packet (runtime/opus.py), or the PCM itself for a page whose browser cannot
decode Opus (no WebCodecs outside secure contexts). The page says which in its first message,
``{"codec": "opus"}`` or ``{"codec": "pcm"}``; the server answers with the stream's format.

- Frames of digital silence are not sent: an idle desktop costs no bandwidth.
- A frame that finds more than ``MAX_UNSENT`` frames still queued for a slow client is
  dropped: the delay stays bounded rather than growing.
- When parec ends (the sound server restarted, or is not up yet) it is started again on the
  same websocket: the page keeps playing, without a reload.

Authentication is the Jupyter server's own, as for the page's VNC websocket (relay.py): no
login, or a user the server's authorizer refuses ("execute" on "terminals"), no upgrade (403;
``ws_authenticated``, since the server lets undecorated handlers through), and Jupyter's
origin check applies (WebSocketMixin + JupyterHandler).
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import threading
from typing import List, Optional, Tuple

from tornado import iostream, process, web, websocket
from tornado.log import app_log

from repo2desktop.errors import RuntimeStartError
from repo2desktop.runtime import guard
from repo2desktop.runtime.opus import CHANNELS, FRAME, FRAME_BYTES, RATE, OpusEncoder

SINK = "desktop"  # the null sink's name (templates/pipewire.conf.j2)
MAX_UNSENT = 5  # frames (100 ms) queued for one client before new ones are dropped
RETRY = 0.25  # seconds between attempts to reach the sound server
SILENCE = bytes(FRAME_BYTES)
POLICY_VIOLATION = 1008  # RFC 6455 close code: a page that may not hear this desktop


def capture_command(pulse_server: str) -> List[str]:
    """parec on the null sink's monitor, raw PCM on stdout, asking for 10 ms of buffering."""
    return [shutil.which("parec") or "/usr/bin/parec", f"--server={pulse_server}",
            f"--device={SINK}.monitor", "--raw", "--format=s16le", f"--rate={RATE}",
            f"--channels={CHANNELS}", "--latency-msec=10", "--client-name=repo2desktop-page"]


def export_to_kernels(desktop) -> str:
    """Give the server's kernels (and terminals) the desktop's sound, as they get its DISPLAY:
    PULSE_SERVER (PulseAudio clients: paplay, most players) and PIPEWIRE_RUNTIME_DIR (ALSA apps
    through pipewire-alsa: simpleaudio, sounddevice) name links in the server's private folder,
    made to point at the sound server's sockets once the desktop has its runtime folder (made
    when the desktop starts, after the kernels' environment is fixed). Returns PULSE_SERVER."""
    links = {os.path.join(desktop.private_dir, "pulse-native"): ("pulse", "native"),
             os.path.join(desktop.private_dir, "pipewire-0"): ("pipewire-0",)}
    os.environ["PULSE_SERVER"] = f"unix:{desktop.private_dir}/pulse-native"
    os.environ["PIPEWIRE_RUNTIME_DIR"] = desktop.private_dir

    def wait_and_link() -> None:
        # DirectDesktop has no "started" event to wait on: its placement appears when its
        # thread prepares the session; _stopping ends the wait with the desktop.
        while not desktop._stopping.is_set():
            placement = desktop.session.placement
            if placement is not None:
                for link, target in links.items():
                    if not os.path.lexists(link):
                        os.symlink(os.path.join(placement.sound_dir, *target), link)
                return
            desktop._stopping.wait(0.2)

    threading.Thread(target=wait_and_link, name="repo2desktop-sound-link", daemon=True).start()
    return os.environ["PULSE_SERVER"]


class SoundStream:
    """The sound socket itself, for a tornado WebSocketHandler of any server: the Jupyter
    server's (handlers(), below) and `repo2desktop up`'s own (runtime/pageserver.py). Put it
    before WebSocketHandler among the bases. DESKTOP is the desktop's runner (runtime/runner.py).
    ``admit`` (the page's first message) may refuse a page: `up` checks the password there."""
    codec = ""
    _pump: Optional[asyncio.Task] = None
    _capture = None
    _closed = False
    _unsent = 0

    def initialize(self, desktop) -> None:
        self.desktop = desktop

    def admit(self, hello: dict) -> bool:
        return True

    @property
    def _logger(self):
        return getattr(self, "log", app_log)

    def _pulse_server(self) -> Optional[str]:
        """The sound server's address once the desktop has a runtime folder (None before)."""
        placement = self.desktop.session.placement
        return placement.pulse_server if placement is not None else None

    def on_message(self, message):
        if self.codec or self._closed:
            return  # the page speaks once
        try:
            hello = json.loads(message)
            wanted = hello.get("codec")
        except (ValueError, AttributeError):
            hello, wanted = {}, None
        if not self.admit(hello):
            self._closed = True
            self.close(POLICY_VIOLATION, "not this desktop's page")
            return
        encoder = None
        if wanted == "opus":
            try:
                encoder = OpusEncoder()
            except RuntimeStartError as e:  # no libopus0: the page still gets its sound
                self._logger.error("repo2desktop: %s; sending PCM", e.reason)
        self.codec = "opus" if encoder is not None else "pcm"
        self.write_message(json.dumps({"codec": self.codec, "rate": RATE, "channels": CHANNELS,
                                       "frame": FRAME}))
        self._pump = asyncio.ensure_future(self._run(encoder))

    def on_close(self):
        self._closed = True
        self._stop_capture()

    def _stop_capture(self):
        if self._capture is not None and self._capture.proc.poll() is None:
            self._capture.proc.terminate()
        self._capture = None

    async def _run(self, encoder: Optional[OpusEncoder]):
        try:
            while not self._closed:
                server = self._pulse_server()
                socket_path = server[len("unix:"):] if server else ""
                if not socket_path or not os.path.exists(socket_path):
                    await asyncio.sleep(RETRY)
                    continue
                await self._stream(server, encoder)
                if not self._closed:
                    await asyncio.sleep(RETRY)
        finally:
            self._stop_capture()
            if encoder is not None:
                encoder.close()

    async def _stream(self, server: str, encoder: Optional[OpusEncoder]) -> None:
        """Send the sound while parec records it; return when parec ends."""
        try:
            capture = process.Subprocess(
                capture_command(server), stdin=subprocess.DEVNULL,
                stdout=process.Subprocess.STREAM, stderr=subprocess.DEVNULL,
                preexec_fn=guard.die_with_parent)  # parec ends with this server, even by SIGKILL
        except OSError as e:  # parec missing (pulseaudio-utils): say so, once a minute at most
            self._logger.error("repo2desktop: cannot record the desktop's sound: %s", e)
            await asyncio.sleep(60)
            return
        self._capture = capture
        try:
            while not self._closed:
                pcm = await capture.stdout.read_bytes(FRAME_BYTES)
                if pcm == SILENCE:
                    continue
                self._send(encoder.encode(pcm) if encoder is not None else pcm)
        except iostream.StreamClosedError:
            pass
        finally:
            if capture.proc.poll() is None:
                capture.proc.terminate()
            await asyncio.get_running_loop().run_in_executor(None, capture.proc.wait)
            capture.stdout.close()
            if self._capture is capture:
                self._capture = None

    def _send(self, frame: bytes) -> None:
        if self._unsent >= MAX_UNSENT:
            return
        try:
            sent = self.write_message(frame, binary=True)
        except websocket.WebSocketClosedError:
            self._closed = True
            return
        self._unsent += 1
        sent.add_done_callback(self._on_sent)

    def _on_sent(self, future) -> None:
        self._unsent -= 1
        if future.exception() is not None:
            self._closed = True


def handlers(prefix: str, desktop) -> List[Tuple[str, type]]:
    """The sound websocket's route under PREFIX (``<base>/desktop/``) for DESKTOP (page.py's
    DirectDesktop); none when its desktop.yml says ``audio: false``. Also exports the sound
    server's address to the server's kernels (export_to_kernels)."""
    if not desktop.config.audio:
        return []
    export_to_kernels(desktop)

    from jupyter_server.auth.decorator import ws_authenticated
    from jupyter_server.base.handlers import JupyterHandler
    from jupyter_server.base.websocket import WebSocketMixin
    from jupyter_server.utils import ensure_async

    class AudioSocket(WebSocketMixin, SoundStream, websocket.WebSocketHandler, JupyterHandler):
        def initialize(self):
            self.desktop = desktop

        def set_default_headers(self):
            """JupyterHandler's page headers (CSP, ...) mean nothing on a websocket."""

        # Who may use the desktop (relay.py: "execute" on "terminals") may hear it.
        auth_resource = "terminals"
        # No keep-alive pings (as relay.py): through JupyterHub's proxy they would count as
        # activity and keep an untouched tab's server from the idle culler.
        ping_interval = 0

        # The Jupyter server lets undecorated handlers through (allow_unauthenticated_access
        # is true by default): the upgrade itself must require the login.
        @ws_authenticated
        async def get(self, *args, **kwargs):
            if not await ensure_async(self.authorizer.is_authorized(self, self.current_user, "execute",
                                                                    self.auth_resource)):
                raise web.HTTPError(403)
            return await ensure_async(super().get(*args, **kwargs))

    return [(prefix + "audio", AudioSocket)]
