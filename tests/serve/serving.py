"""A `repo2desktop serve` process under test, and what the tests ask of it.

Each serve gets its own pool name (``r2d-test-…``), public, admin and proxy-API ports and
tokens; the test reads its state only through its own interfaces (public API, admin API,
the proxy's REST API) and the engine (containers carrying the pool's label).
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import docker
import pytest
import requests

from repo2desktop.runtime.allocate import free_port
from repo2desktop.serve.docker_adapter import POOL_LABEL, bridge_name
from repo2desktop.serve.firewall import HostFirewall
from repo2desktop.serve.lease import LEASE_LABEL
from repo2desktop.serve.readiness import rfb_greeting
from tests.polling import wait_for

REPO = Path(__file__).resolve().parents[2]
LOG_DIR = REPO / "build" / "serve-tests"
# R2D_TEST_SERVE_IMAGE: another tag, so that two checkouts testing different code on one engine
# never run each other's image.
SERVE_IMAGE = os.environ.get("R2D_TEST_SERVE_IMAGE", "r2d-test-serve-desktop")
# The image tier's tigervnc fixture (audio: true) under this tier's own name: the sound test.
SERVE_AUDIO_IMAGE = SERVE_IMAGE + "-audio"
CHP_LOCAL = REPO / "build" / "node" / "node_modules" / ".bin"
# Pool, network and container names of this session: two sessions on one engine (a developer
# and CI) never adopt or remove each other's containers, as two serves never do.
SESSION = secrets.token_hex(3)


def chp_executable() -> str:
    found = shutil.which("configurable-http-proxy", path=f"{CHP_LOCAL}:{os.environ.get('PATH', '')}")
    if not found:
        pytest.fail("configurable-http-proxy is missing: `make deps-node` installs it", pytrace=False)
    return found


def wait_for_the_xterm(page) -> int:
    """The serve image's desktop (tests/image/fixtures/desktop-only) autostarts an xterm: its
    white window painted on the canvas, not just a canvas, is a desktop. White pixels seen."""
    from tests.host.browser import canvas_pixels_like

    # xterm's default 80x24 cells of 6x13 pixels: about 150 000 white pixels.
    return wait_for(lambda: (n := canvas_pixels_like(page, (255, 255, 255), 16)) >= 100_000 and n,
                    30, "the autostarted xterm painted on the canvas", 0.25)


def derived_image(client, base: str, tag: str, lines: str) -> str:
    """TAG: BASE with a few more Dockerfile LINES (the SDK's builder; no cache needed)."""
    import io

    client.images.build(fileobj=io.BytesIO(f"FROM {base}\n{lines}\n".encode()), tag=tag,
                        rm=True, forcerm=True)
    return tag



class ServeProcess:
    def __init__(self, image: str, name: str, args: List[str], env: Dict[str, str]):
        self.image, self.args = image, args
        self.pool_name = f"r2d-test-{name}-{SESSION}"
        self.port, self.admin_port, self.api_port = free_port(), free_port(), free_port()
        self.proxy_token = secrets.token_hex(16)
        self.env = dict(os.environ, CONFIGPROXY_AUTH_TOKEN=self.proxy_token, **env)
        self.env["PATH"] = f"{CHP_LOCAL}:{self.env.get('PATH', '')}"
        for inherited in ("API_AUTH_TOKEN", "ADMIN_AUTH_TOKEN"):
            if inherited not in env:
                self.env.pop(inherited, None)
        self.api_token = env.get("API_AUTH_TOKEN")
        self.admin_token = env.get("ADMIN_AUTH_TOKEN")
        self.log_path = LOG_DIR / f"serve-{name}.log"
        self.process: Optional[subprocess.Popen] = None
        self.client = docker.from_env(timeout=60)
        self.starts = 0
        self.wrapper: List[str] = []  # a command that runs serve (e.g. with fewer capabilities)

    # -- the process ---------------------------------------------------------------------
    def argv(self) -> List[str]:
        return [*self.wrapper, sys.executable, "-m", "repo2desktop", "serve", self.image,
                "--pool-name", self.pool_name, "--ip", "127.0.0.1", "--port", str(self.port),
                "--admin-port", str(self.admin_port), "--proxy-api-port", str(self.api_port),
                *self.args]

    def start(self) -> "ServeProcess":
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        log = open(self.log_path, "w" if self.starts == 1 else "a")
        log.write(f"--- start {self.starts}: {' '.join(self.argv())}\n")
        log.flush()
        self.process = subprocess.Popen(self.argv(), env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, cwd=REPO)
        log.close()
        wait_for(lambda: self._alive() and self._answers(), 60,
                 f"serve {self.pool_name} answering /api/stats")
        return self

    def run_refused(self, timeout: float = 60) -> Tuple[int, str]:
        """Start this serve expecting it to refuse: (exit code, its output). One still running
        after TIMEOUT fails the test, after a SIGHUP (which leaves the pool's containers)."""
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(self.argv(), env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            cwd=REPO)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGHUP)
            raise AssertionError(f"serve {self.pool_name} ({' '.join(self.args)}) did not refuse "
                                 f"to start within {timeout:g} s:\n{self.log()[-3000:]}") from None
        return code, self.log()

    def _alive(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"serve {self.pool_name} exited ({self.process.returncode}):\n"
                                 + self.log()[-3000:])
        return True

    def _answers(self) -> bool:
        try:
            return requests.get(self.url("/api/stats"), headers=self.api_headers(), timeout=5).ok
        except requests.RequestException:
            return False

    def signal(self, signum: int, timeout: float = 90) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # Whatever a failed test left behind (labels say it is this pool's).
        for c in self.containers():
            c.remove(force=True)
        for c in self.client.containers.list(all=True, filters={"label": f"{LEASE_LABEL}={self.pool_name}"}):
            c.remove(force=True)
        HostFirewall(bridge_name(self.pool_name), self.pool_name).remove()
        for n in self.client.networks.list(filters={"label": f"{POOL_LABEL}={self.pool_name}"}):
            n.remove()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- its interfaces --------------------------------------------------------------------
    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def api_headers(self) -> Dict[str, str]:
        return {"Authorization": f"token {self.api_token}"} if self.api_token else {}

    def admin_headers(self) -> Dict[str, str]:
        return {"Authorization": f"token {self.admin_token}"} if self.admin_token else {}

    def stats(self) -> dict:
        r = requests.get(self.url("/api/stats"), headers=self.api_headers(), timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def spawn(self) -> requests.Response:
        return requests.post(self.url("/api/spawn/"), headers=self.api_headers(), timeout=30)

    def admin(self, method: str = "GET") -> requests.Response:
        return requests.request(method, f"http://127.0.0.1:{self.admin_port}/api/pool",
                                headers=self.admin_headers(), timeout=60)

    def routes(self) -> Dict[str, dict]:
        r = requests.get(f"http://127.0.0.1:{self.api_port}/api/routes",
                         headers={"Authorization": f"token {self.proxy_token}"}, timeout=10)
        assert r.status_code == 200, r.text
        return {path: info for path, info in r.json().items() if path.startswith("/user/")}

    def containers(self, all: bool = True) -> list:
        """This pool's containers, inspected; one removed between listing and inspecting is
        skipped (the engine lists, then the SDK inspects each)."""
        found = []
        for sparse in self.client.containers.list(all=all, sparse=True,
                                                  filters={"label": f"{POOL_LABEL}={self.pool_name}"}):
            try:
                found.append(self.client.containers.get(sparse.id))
            except docker.errors.NotFound:
                pass
        return found

    def wait_available(self, n: int, timeout: float = 120) -> dict:
        return wait_for(lambda: self._alive() and (s := self.stats())["available"] >= n and s,
                        timeout, f"{self.pool_name}: {n} ready", 0.5)

    # -- a visitor's container ----------------------------------------------------------------
    @staticmethod
    def token_of(container) -> str:
        env = dict(e.split("=", 1) for e in container.attrs["Config"]["Env"] if "=" in e)
        return env["JUPYTER_TOKEN"]

    def desktop_through_proxy(self, base: str, token: str) -> str:
        """The desktop at BASE (/user/<id>/) through the proxy: page 200, then the RFB greeting."""
        headers = {"Authorization": f"token {token}"}
        page = requests.get(self.url(f"{base}desktop/"), headers=headers, timeout=30,
                            allow_redirects=False)
        assert page.status_code == 200, f"{base}desktop/: HTTP {page.status_code}"
        return rfb_greeting(self.url(f"{base}desktop/websockify"), headers, timeout=10)


def open_desktop_page(context, url: str, attempts: int = 4):
    """Open URL in a Chromium page until noVNC's canvas shows: (page, seconds of the last try).

    Chromium runs on the Docker host here: every container started or removed on this machine
    adds or drops a network interface, and Chromium then aborts its loads with
    ERR_NETWORK_CHANGED (a visitor's browser, elsewhere, never sees that). Such a load is
    retried, like a visitor pressing reload; any other failure is not."""
    from tests.host.browser import screenshot, wait_for_canvas

    for attempt in range(1, attempts + 1):
        page = context.new_page()
        console: list = []
        page.on("console", lambda m: console.append(m.text))
        began = time.monotonic()
        try:
            page.goto(url, timeout=60000)
            wait_for_canvas(page, timeout_ms=30000)
            return page, time.monotonic() - began
        except Exception:
            changed = any("ERR_NETWORK_CHANGED" in line for line in console)
            if not changed or attempt == attempts:
                screenshot(page, "serve-desktop-FAILED.png")
                raise AssertionError(f"no desktop canvas at {page.url.split('?')[0]} "
                                     f"(try {attempt}); console: {console[-8:]}") from None
            page.close()
