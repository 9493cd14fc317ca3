#!/usr/bin/env python3
"""Benchmarks of living in the desktop (issue 17; figures printed, never asserted).

    python scripts/bench_using.py [--rounds N]

On this host, a fresh `jupyter server` per VNC server with our page, Chromium (Playwright) with
clipboard permissions:
1. clipboard, desktop -> browser: xclip sets CLIPBOARD, until navigator.clipboard has the text;
2. clipboard, browser -> desktop: navigator.clipboard.writeText + Ctrl-V in the desktop, until
   `xclip -o` on the display returns it;
3. resize -> new frame (TigerVNC): a new viewport size, until the canvas has the new size
   (the server's new framebuffer has arrived).
JRDP 3.0.1 is not measured here: its clipboard is a manual text box (no round trip to time),
and its resize goes through the same noVNC request as ours (README: Benchmarks has its page
timings).
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench_browser import CHROMIUM, CHROMIUM_ARGS

from repo2desktop.runtime.allocate import free_port

POLL_S = 0.005


def until(check, timeout: float = 10.0) -> float:
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > timeout:
            raise TimeoutError
        time.sleep(POLL_S)
    return time.monotonic() - began


class Server:
    """A jupyter server in a temporary folder whose desktop.yml is TEXT; stopped by stop()."""

    def __init__(self, text: str):
        self.folder = tempfile.mkdtemp(prefix="bench-using-")
        home = os.path.join(self.folder, "home")
        os.makedirs(home)
        with open(os.path.join(self.folder, "desktop.yml"), "w") as f:
            f.write(text)
        self.token, self.port = secrets.token_hex(16), free_port()
        env = {k: v for k, v in os.environ.items()
               if k not in ("DISPLAY", "XAUTHORITY", "REPO2DESKTOP_CONFIG") and not k.startswith("JUPYTER")}
        env.update(HOME=home, JUPYTER_TOKEN=self.token, JUPYTER_CONFIG_DIR=os.path.join(home, ".jupyter"),
                   JUPYTER_RUNTIME_DIR=os.path.join(self.folder, "runtime"))
        self.log = open(os.path.join(self.folder, "jupyter.log"), "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={self.folder}"],
            cwd=self.folder, env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}/"
        until(self._answers, 90)

    def _answers(self) -> bool:
        request = urllib.request.Request(self.url + "api/status", headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def x_env(self) -> dict:
        """DISPLAY/XAUTHORITY of the server's desktop, from its X server's command line."""
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = [a.decode() for a in f.read().split(b"\0") if a]
            except OSError:
                continue
            if argv and os.path.basename(argv[0]) in ("Xtightvnc", "Xtigervnc") and "-auth" in argv:
                auth = argv[argv.index("-auth") + 1]
                if auth.startswith(tempfile.gettempdir()) and os.path.exists(auth) and self._mine(int(pid)):
                    display = next(a for a in argv if re.fullmatch(r":\d+", a))
                    return dict(os.environ, DISPLAY=display, XAUTHORITY=auth)
        raise RuntimeError("no X server of this Jupyter server")

    def _mine(self, pid: int) -> bool:
        while pid > 1:
            if pid == self.proc.pid:
                return True
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        return False

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def selection(env: dict) -> str:
    out = subprocess.run(["xclip", "-selection", "clipboard", "-o"], env=env, capture_output=True, timeout=10)
    return out.stdout.decode(errors="replace")


def measure(browser, vnc: str, rounds: int) -> dict:
    server = Server(f"version: 1\nvnc: {{server: {vnc}}}\nautostart: []\n"
                    "display: {geometry: 1920x1200}\nnovnc: {resize: remote}\n")
    figures = {"out": [], "in": [], "resize": []}
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url.rstrip("/"))
        context.set_extra_http_headers({"Authorization": f"token {server.token}"})
        page = context.new_page()
        page.goto(server.url + "desktop/")
        page.wait_for_function("() => document.documentElement.classList.contains('noVNC_connected')",
                               timeout=60_000)
        env = server.x_env()
        for i in range(rounds):
            text = f"out {vnc} {i} {secrets.token_hex(4)}"
            began = time.monotonic()
            subprocess.run(["xclip", "-selection", "clipboard", "-i"], input=text.encode(), env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            until(lambda: page.evaluate("() => navigator.clipboard.readText()") == text)
            figures["out"].append(time.monotonic() - began)

            text = f"in {vnc} {i} {secrets.token_hex(4)}"
            page.evaluate("(t) => navigator.clipboard.writeText(t)", text)
            began = time.monotonic()
            page.keyboard.press("Control+V")
            until(lambda: selection(env) == text)
            figures["in"].append(time.monotonic() - began)

            if vnc == "tigervnc":
                width, height = (1000, 700) if i % 2 == 0 else (1280, 800)
                began = time.monotonic()
                page.set_viewport_size({"width": width, "height": height})
                until(lambda: page.evaluate("() => { const c = document.querySelector('canvas');"
                                            " return [c.width, c.height]; }") == [width, height])
                figures["resize"].append(time.monotonic() - began)
    finally:
        context.close()
        server.stop()
    return figures


def line(label: str, values) -> str:
    if not values:
        return f"| {label} | – |"
    return (f"| {label} | {statistics.median(values) * 1000:.0f} ms "
            f"({min(values) * 1000:.0f}–{max(values) * 1000:.0f}, n={len(values)}) |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for vnc in ("tightvnc", "tigervnc"):
                figures = measure(browser, vnc, args.rounds)
                rows += [line(f"{vnc}: clipboard desktop -> browser", figures["out"]),
                         line(f"{vnc}: clipboard browser -> desktop (Ctrl-V)", figures["in"])]
                if figures["resize"]:
                    rows.append(line(f"{vnc}: resize -> new frame", figures["resize"]))
        finally:
            browser.close()
    print("| ours, host, Chromium | median (min–max, n) |\n|---|---|")
    print("\n".join(rows))
    print("JRDP 3.0.1: its clipboard is a manual text box (nothing to time); its resize is the same "
          "noVNC request as ours.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
