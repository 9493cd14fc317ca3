#!/usr/bin/env python3
"""Benchmarks (`make bench`): print figures, assert nothing.

- time from `repo2desktop up` to the first RFB handshake through websockify, per VNC server;
- resident memory of the session's processes at idle;
- time for supervisord to bring the X session back after the X server is killed;
- with Docker available: image build time, and rebuild time after a geometry-only change.
"""
from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from repo2desktop import discover
from repo2desktop.runtime import allocate, probe
from repo2desktop.runtime.session import DesktopSession, session_processes

RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def rss_kib(pids) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


def host_session(server: str) -> None:
    starts, recoveries, memory = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "desktop.yml")
        with open(path, "w") as f:
            f.write(f"version: 1\nvnc: {{server: {server}}}\n")
        config = discover.load(path)
        for _ in range(RUNS):
            desktop = DesktopSession(config, listen=f"tcp:{allocate.free_port()}")
            began = time.monotonic()
            desktop.prepare()
            desktop.start()
            try:
                desktop.wait_ready(60)
                starts.append(time.monotonic() - began)
                time.sleep(2)
                memory.append(rss_kib(session_processes(desktop.session_id)) / 1024)
                xinit = {i["name"]: i for i in desktop.states()}["x-session"]["pid"]
                child = subprocess.run(["pgrep", "-P", str(xinit)], capture_output=True, text=True).stdout.split()
                os.kill(int(child[0]), signal.SIGKILL)
                began = time.monotonic()
                time.sleep(0.05)
                while True:
                    try:
                        probe.rfb_version(desktop.session.listen, timeout=1)
                        break
                    except OSError:
                        time.sleep(0.05)
                recoveries.append(time.monotonic() - began)
            finally:
                desktop.stop()
    print(f"{server:9s} up → RFB answer : median {statistics.median(starts):.2f} s "
          f"(min {min(starts):.2f}, max {max(starts):.2f}, n={len(starts)})")
    print(f"{server:9s} X killed → back: median {statistics.median(recoveries):.2f} s")
    print(f"{server:9s} idle RSS        : median {statistics.median(memory):.0f} MiB "
          "(supervisord, xinit, X server, openbox, xterm, websockify)")


def image_rebuild() -> None:
    if shutil.which("docker") is None or subprocess.run(["/usr/bin/docker", "info"], capture_output=True).returncode:
        print("image rebuild: skipped (no Docker engine answering; run `make base-image` first)")
        return
    fixture = os.path.join(os.path.dirname(__file__), "..", "tests", "image", "fixtures", "apt-autostart")
    with tempfile.TemporaryDirectory() as tmp:
        repo = shutil.copytree(fixture, os.path.join(tmp, "repo"))
        image = "r2d-bench"
        def build() -> float:
            began = time.monotonic()
            subprocess.run([sys.executable, "-m", "repo2desktop", "build", repo, "--no-run",
                            "--image-name", image], check=True, stdout=subprocess.DEVNULL)
            return time.monotonic() - began
        first = build()
        path = os.path.join(repo, "desktop.yml")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("version: 1", "version: 1\ndisplay: {geometry: 1024x640}", 1))
        second = build()
        print(f"image build (warm base, cache as left by earlier builds): {first:.1f} s")
        print(f"image rebuild after a geometry-only change            : {second:.1f} s")
        subprocess.run(["/usr/bin/docker", "rmi", "-f", image], capture_output=True)


if __name__ == "__main__":
    for server in ("tightvnc", "tigervnc"):
        host_session(server)
    image_rebuild()
