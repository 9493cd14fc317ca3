"""configurable-http-proxy (CHP): the public front. Started and supervised here; its REST API
holds one route per container (``/user/<id>`` -> the container's Jupyter server) and reports
each route's last activity, which the culler reads.

CHP runs as our child with PR_SET_PDEATHSIG, so it never outlives a killed `serve`; routes
live only in its memory, and a restarted `serve` re-creates them from the containers' labels.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from typing import Callable, Dict, Optional

import requests

from repo2desktop.errors import Repo2DesktopError
from repo2desktop.runtime import guard
from repo2desktop.runtime.allocate import free_port

CHP_VERSION = "5.3.0"
INSTALL_HINT = (f"configurable-http-proxy not found: install it with `npm install -g "
                f"configurable-http-proxy@{CHP_VERSION}` (or `make deps`), or pass --proxy-command")


class ProxyError(Repo2DesktopError):
    pass


# The proxy logs the URL of a request it could not forward; a visitor's first URL carries
# their token (?token=...), so its output is passed through this before it reaches a log.
_SECRET_QUERY = re.compile(r"((?:^|[?&;\s])(?:token|_xsrf)=)[^&\s\"']+", re.IGNORECASE)


def scrub(line: str) -> str:
    return _SECRET_QUERY.sub(r"\1[secret]", line)


def _relay(stream, out) -> None:
    for raw in iter(stream.readline, b""):
        out.write(scrub(raw.decode(errors="replace")))
        out.flush()


def find_executable(explicit: Optional[str] = None) -> str:
    """--proxy-command, PATH, then the project-local prefix that `make deps` fills."""
    if explicit:
        found = shutil.which(explicit)
        if not found:
            raise ProxyError(f"--proxy-command {explicit!r} is not an executable")
        return found
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    here = os.path.dirname(os.path.abspath(__file__))
    for root in (os.getcwd(), os.path.dirname(os.path.dirname(here))):
        local = os.path.join(root, "build", "node", "node_modules", ".bin", "configurable-http-proxy")
        if os.access(local, os.X_OK):
            return local
    raise ProxyError(INSTALL_HINT)



def _die_with_parent() -> None:
    # Its own process group: a Ctrl-C at the terminal reaches serve, which then stops the
    # proxy last (after the routes), instead of the proxy dying first and being restarted.
    os.setpgrp()
    guard.die_with_parent(signal.SIGTERM)


def _parse_time(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class ProxyClient:
    """CHP's REST API (routes and their last activity)."""

    def __init__(self, api_url: str, token: str):
        self.api_url = api_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {token}"

    def add_route(self, path: str, target: str) -> None:
        r = self.session.post(f"{self.api_url}/api/routes{path}", json={"target": target}, timeout=10)
        if r.status_code not in (200, 201):
            raise ProxyError(f"proxy refused route {path}: HTTP {r.status_code}")

    def delete_route(self, path: str) -> None:
        r = self.session.delete(f"{self.api_url}/api/routes{path}", timeout=10)
        if r.status_code not in (200, 204, 404):
            raise ProxyError(f"proxy refused to delete route {path}: HTTP {r.status_code}")

    def routes(self) -> Dict[str, dict]:
        r = self.session.get(f"{self.api_url}/api/routes", timeout=10)
        if r.status_code != 200:
            raise ProxyError(f"proxy route list: HTTP {r.status_code}")
        return r.json()

    def last_activity(self) -> Dict[str, float]:
        """path -> last activity (epoch seconds) of every route that has one."""
        return {path: _parse_time(info["last_activity"]) for path, info in self.routes().items()
                if info.get("last_activity")}


class Proxy:
    """One supervised CHP process: restarted if it dies, ON_RESTART then re-adds the routes."""

    def __init__(self, executable: str, ip: str, port: int, default_target: str, token: str,
                 log: Callable[[str], None], on_restart: Callable[[], None], api_port: int = 0):
        self.executable, self.ip, self.port = executable, ip, port
        self.default_target, self.token = default_target, token
        self.api_port = api_port or free_port()
        self.client = ProxyClient(f"http://127.0.0.1:{self.api_port}", token)
        self.log, self.on_restart = log, on_restart
        self.process: Optional[subprocess.Popen] = None
        self.stopping = threading.Event()

    def _spawn(self) -> None:
        argv = [self.executable, "--ip", self.ip, "--port", str(self.port),
                "--api-ip", "127.0.0.1", "--api-port", str(self.api_port),
                "--default-target", self.default_target, "--log-level", "warn"]
        env = dict(os.environ, CONFIGPROXY_AUTH_TOKEN=self.token)
        self.process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        preexec_fn=_die_with_parent)
        threading.Thread(target=_relay, args=(self.process.stdout, sys.stdout), daemon=True,
                         name="chp-log").start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ProxyError(f"configurable-http-proxy exited ({self.process.returncode}) at "
                                 f"start; is port {self.port} free?")
            try:
                self.client.routes()
                return
            except (requests.RequestException, ProxyError):
                time.sleep(0.1)
        raise ProxyError("configurable-http-proxy did not answer on its API within 20 s")

    def start(self) -> None:
        self._spawn()
        threading.Thread(target=self._supervise, name="chp-supervisor", daemon=True).start()

    def _supervise(self) -> None:
        while not self.stopping.is_set():
            code = self.process.wait()
            if self.stopping.is_set():
                return
            self.log(f"proxy: configurable-http-proxy exited ({code}); restarting it")
            try:
                self._spawn()
                self.on_restart()
            except Exception as e:  # keep supervising; say why
                self.log(f"proxy: restart failed: {e}")
                time.sleep(1)

    def stop(self) -> None:
        self.stopping.set()
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
