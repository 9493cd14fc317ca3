#!/usr/bin/env python3
"""`make bench`'s sound figures (desktop.yml `audio: true`, issue 19). Printed, never judged.

One Jupyter server on this host runs a desktop with sound; Chromium (autoplay allowed) opens
its page. Measured:
- latency: an app in the desktop (pacat, fed in real time, 10 ms buffer) starts a 60 ms
  1 kHz burst out of silence; the page's own audio graph (an AnalyserNode on its output, read
  every 2 ms) sees it. Wall clocks on one machine; median and p95 of ROUNDS bursts. This is
  what a user hears, including the page's 60 ms scheduling lead.
- bandwidth: bytes the page's sound websocket received per minute of continuous sound (a
  440 Hz tone), as Opus; the same through a PCM websocket (what browsers without WebCodecs
  get); and per minute of silence.
- CPU (% of one core) of the encoder side (the Jupyter server's process plus parec) and of the
  sound server (pipewire + wireplumber), idle with the page open and while sound plays.
- image growth: the Debian packages `audio: true` adds to the default desktop (an apt
  simulation in the base image: scripts/bench_apt.py), when a Docker engine is there.

  python3 scripts/bench_audio.py [--rounds 20] [--out build/bench]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import secrets
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from bench_systems import REPO, free_port  # noqa: E402

RATE = 48000
CHANNELS = 2
CHUNK_S = 0.01  # what the feeding app writes at a time
DESKTOP_YML = "version: 1\nvnc: {server: tigervnc, auth: none}\nwindow_manager: none\nautostart: []\naudio: true\n"
LOGS = re.compile(r"logs in (\S+)")

WATCH = """() => {
  const a = window.desktopAudio.context.createAnalyser();
  a.fftSize = 256;
  window.desktopAudio.output.connect(a);
  const samples = new Float32Array(a.fftSize);
  window.onsets = [];
  let loud = false;
  window.setInterval(() => {
    a.getFloatTimeDomainData(samples);
    let peak = 0;
    for (const s of samples) peak = Math.max(peak, Math.abs(s));
    if (!loud && peak > 0.1) window.onsets.push(performance.timeOrigin + performance.now());
    loud = peak > 0.02;
  }, 2);
}"""


def pcm(hertz: float, seconds: float, amplitude: float, start: int = 0) -> bytes:
    frames = int(seconds * RATE)
    out = bytearray()
    for i in range(frames):
        v = int(amplitude * 32767 * math.sin(2 * math.pi * hertz * (start + i) / RATE)) if hertz else 0
        out += struct.pack("<hh", v, v)
    return bytes(out)


class Feeder:
    """An app in the desktop: pacat playing what we give it, paced in real time by a thread of
    its own (so that asking the page something never stalls the sound), silence in between."""

    def __init__(self, pulse_server: str):
        import queue
        import threading

        self.proc = subprocess.Popen(
            ["pacat", "--playback", "--raw", "--format=s16le", f"--rate={RATE}", f"--channels={CHANNELS}",
             "--latency-msec=10", "--client-name=bench"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=dict(os.environ, PULSE_SERVER=pulse_server))
        self._queue: "queue.Queue" = queue.Queue()
        self._stop = threading.Event()
        self.error = ""
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import queue

        quiet = pcm(0, CHUNK_S, 0)
        began, written = time.monotonic(), 0.0
        pending: List[bytes] = []
        done = None
        while not self._stop.is_set():
            if not pending:
                if done is not None:
                    done.set()
                    done = None
                try:
                    chunks, sent, done = self._queue.get_nowait()
                    pending = list(chunks)
                except queue.Empty:
                    pass
            chunk = pending.pop(0) if pending else quiet
            ahead = written - (time.monotonic() - began)
            if ahead > 0.02:  # at most 20 ms ahead of the clock: no growing queue in pacat
                time.sleep(ahead - 0.02)
            elif ahead < 0:  # never catch up: that would queue silence before the next sound
                began += -ahead
            if chunk is not quiet and not sent:
                sent.append(time.time())
            try:
                self.proc.stdin.write(chunk)
                self.proc.stdin.flush()
            except BrokenPipeError:
                self.error = self.proc.stderr.read().decode(errors="replace")[-300:]
                return
            written += len(chunk) / (RATE * CHANNELS * 2)

    def play(self, chunks: List[bytes]) -> float:
        """Play CHUNKS once, wait until written; the wall time the first one went out."""
        import threading

        sent: List[float] = []
        done = threading.Event()
        self._queue.put((chunks, sent, done))
        if not done.wait(5 + len(chunks) * CHUNK_S) or not sent:
            raise RuntimeError(f"pacat ended: {self.error}")
        return sent[0]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        self.proc.wait(5)
        self.proc.stderr.close()


def sound_server_ready(pulse_server: str) -> bool:
    """The sound server answers and WirePlumber has made the null sink the default output."""
    info = subprocess.run(["pactl", f"--server={pulse_server}", "info"], capture_output=True, text=True)
    return info.returncode == 0 and "Default Sink: desktop" in info.stdout


def cpu_seconds(pids: List[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


def children(root: int) -> Dict[int, str]:
    table = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{name}/comm") as f:
                    table[int(name)] = (ppid, f.read().strip())
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, comm) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = comm
                frontier.append(pid)
    return found


def cpu_percent(pids_of, seconds: float, during=None) -> Dict[str, float]:
    """% of one core per group over SECONDS (DURING runs meanwhile, e.g. feeding sound)."""
    groups = pids_of()
    before = {k: cpu_seconds(v) for k, v in groups.items()}
    began = time.monotonic()
    if during:
        during(seconds)
    else:
        time.sleep(seconds)
    took = time.monotonic() - began
    groups = pids_of()
    return {k: round(100 * (cpu_seconds(v) - before[k]) / took, 1) for k, v in groups.items()}


def pcm_bandwidth(port: int, token: str, feeder: Feeder, seconds: float) -> float:
    """Bytes per minute the PCM fallback sends for continuous sound."""
    import websocket

    ws = websocket.create_connection(f"ws://127.0.0.1:{port}/desktop/audio",
                                     header=[f"Authorization: token {token}"], timeout=5)
    try:
        ws.send('{"codec": "pcm"}')
        ws.recv()
        ws.settimeout(0.05)
        received, began = 0, time.monotonic()
        tone = [pcm(440, CHUNK_S, 0.3, start=int(k * CHUNK_S * RATE)) for k in range(100)]
        import threading

        player = threading.Thread(target=feeder.play, args=([tone[k % 100] for k in range(int(seconds / CHUNK_S))],))
        player.start()
        while time.monotonic() - began < seconds:
            try:
                received += len(ws.recv())
            except (websocket.WebSocketTimeoutException, TimeoutError):
                pass
        player.join()
        return received * 60 / seconds
    finally:
        ws.close()


def image_growth() -> Optional[Dict[str, float]]:
    from bench_apt import footprint
    from repo2desktop.config import discover
    from repo2desktop.image.packages import apt_packages

    base = os.environ.get("BASE_IMAGE", "repo2desktop/base:bookworm")
    if shutil.which("docker") is None or subprocess.run(
            ["docker", "image", "inspect", base], capture_output=True).returncode:
        return None
    sets = {}
    for name, text in (("default", "version: 1\n"), ("audio", "version: 1\naudio: true\n")):
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
            f.write(text)
        try:
            sets[name] = list(apt_packages(discover.load(f.name)))
        finally:
            os.unlink(f.name)
    sizes = footprint(base, sets)
    return {"default_mib": round(sizes["default"][0], 1), "audio_mib": round(sizes["audio"][0], 1),
            "growth_mib": round(sizes["audio"][0] - sizes["default"][0], 1),
            "packages_added": len(set(sizes["audio"][1]) - set(sizes["default"][1]))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0, help="per bandwidth / CPU measurement")
    parser.add_argument("--out", default=os.path.join(REPO, "build", "bench"))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="r2d-bench-audio-")
    with open(os.path.join(folder, "desktop.yml"), "w") as f:
        f.write(DESKTOP_YML)
    token, port = secrets.token_hex(16), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "XAUTHORITY", "REPO2DESKTOP_CONFIG")
           and not k.startswith("JUPYTER")}
    env.update(HOME=folder, JUPYTER_CONFIG_DIR=os.path.join(folder, ".jupyter"),
               JUPYTER_RUNTIME_DIR=os.path.join(folder, "runtime"), JUPYTER_TOKEN=token)
    log_path = os.path.join(folder, "jupyter.log")
    log = open(log_path, "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={folder}"],
        cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    result: Dict = {}
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                 args=CHROMIUM_ARGS + ["--autoplay-policy=no-user-gesture-required"])
    feeder = None
    try:
        context = browser.new_context()
        context.set_extra_http_headers({"Authorization": f"token {token}"})
        page = context.new_page()
        deadline = time.monotonic() + 90
        while True:
            try:
                page.goto(f"http://127.0.0.1:{port}/desktop/")
                break
            except Exception:  # the server is still starting
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        page.wait_for_function("() => window.desktopAudio && window.desktopAudio.codec === 'opus'", timeout=60_000)
        while not LOGS.search(open(log_path, errors="replace").read()):
            if time.monotonic() > deadline:
                raise RuntimeError("the desktop did not start")
            time.sleep(0.1)
        runtime = os.path.dirname(LOGS.search(open(log_path, errors="replace").read()).group(1))
        socket_path = f"{runtime}/sound/pulse/native"
        while not sound_server_ready(f"unix:{socket_path}"):
            if time.monotonic() > deadline:
                raise RuntimeError("the sound server did not answer")
            time.sleep(0.1)
        page.evaluate(WATCH)
        feeder = Feeder(f"unix:{socket_path}")
        time.sleep(1.0)

        # Latency: bursts out of silence.
        latencies = []
        burst = [pcm(1000, CHUNK_S, 0.5, start=int(k * CHUNK_S * RATE)) for k in range(6)]
        for n in range(args.rounds):
            page.evaluate("() => { window.onsets = []; }")
            sent = feeder.play(burst)
            time.sleep(0.5)
            onsets = page.evaluate("() => window.onsets")
            if onsets:
                latencies.append(onsets[0] / 1000 - sent)
        latencies.sort()
        if latencies:
            result["latency_ms"] = {
                "median": round(1000 * statistics.median(latencies)),
                "p95": round(1000 * latencies[min(len(latencies) - 1, math.ceil(0.95 * len(latencies)) - 1)]),
                "min": round(1000 * latencies[0]), "max": round(1000 * latencies[-1]),
                "heard": f"{len(latencies)}/{args.rounds}"}

        def groups():
            tree = children(server.pid)
            return {"encoder (jupyter server + parec)": [server.pid] + [p for p, c in tree.items() if c == "parec"],
                    "sound server (pipewire + wireplumber)": [p for p, c in tree.items() if c in ("pipewire", "wireplumber")]}

        tone = [pcm(440, CHUNK_S, 0.3, start=int(k * CHUNK_S * RATE)) for k in range(100)]

        def play(seconds):
            feeder.play([tone[k % 100] for k in range(int(seconds / CHUNK_S))])

        received = lambda: page.evaluate("() => window.desktopAudio.bytes")  # noqa: E731
        before = received()
        result["cpu_idle_pct"] = cpu_percent(groups, args.seconds)
        result["silence_bytes_per_min"] = round((received() - before) * 60 / args.seconds)
        before, began = received(), time.monotonic()
        result["cpu_playing_pct"] = cpu_percent(groups, args.seconds, during=play)
        time.sleep(0.3)  # the last frames on their way
        result["opus_kib_per_min"] = round((received() - before) * 60 / (time.monotonic() - began - 0.3) / 1024)
        result["pcm_kib_per_min"] = round(pcm_bandwidth(port, token, feeder, min(args.seconds, 5.0)) / 1024)
        context.close()
    finally:
        if feeder is not None:
            feeder.close()
        browser.close()
        pw.stop()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
    try:
        result["image"] = image_growth()
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        result["image"] = {"error": str(e)[-300:]}
    with open(os.path.join(args.out, "audio.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(table(result))
    return 0


def table(r: Dict) -> str:
    lat = r.get("latency_ms", {})
    image = r.get("image") or {}
    rows = [
        ("latency, desktop app -> page's audio graph", f"median {lat.get('median')} ms, p95 {lat.get('p95')} ms "
         f"(min {lat.get('min')}, max {lat.get('max')}; heard {lat.get('heard')})" if lat else "not measured"),
        ("bandwidth, Opus 64 kbit/s", f"{r.get('opus_kib_per_min')} KiB per minute of sound"),
        ("bandwidth, PCM fallback", f"{r.get('pcm_kib_per_min')} KiB per minute of sound"),
        ("bandwidth, silence", f"{r.get('silence_bytes_per_min')} bytes per minute"),
    ]
    for name, pct in (r.get("cpu_idle_pct") or {}).items():
        rows.append((f"CPU idle, {name}", f"{pct} % of a core"))
    for name, pct in (r.get("cpu_playing_pct") or {}).items():
        rows.append((f"CPU playing, {name}", f"{pct} % of a core"))
    if "growth_mib" in image:
        rows.append(("image growth with audio: true", f"+{image['growth_mib']} MiB, {image['packages_added']} "
                     f"Debian packages (default desktop {image['default_mib']} MiB over the base)"))
    else:
        rows.append(("image growth with audio: true", image.get("error", "no Docker engine or base image")))
    width = max(len(k) for k, _ in rows)
    return "\n".join(["sound (audio: true)"] + [f"  {k:<{width}}  {v}" for k, v in rows])


if __name__ == "__main__":
    sys.exit(main())
