"""A real JupyterHub with repo2desktop's pool, for the serve tier and the benchmark.

The config is `repo2desktop hub-config IMAGE` plus, until hub-config's --pool-size is there,
the pool's entries from repo2desktop/hub/poolconfig.py (appended here, as hub-config will
render them), this machine's free ports and this session's container names, and an observer
service whose token only reads users, servers and groups (the tests' view of the hub).
The hub runs in its own folder, so a restart keeps its database (users, groups, servers).
"""
from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import urljoin

import requests

from repo2desktop.hub import poolconfig
from tests.polling import wait_for

REPO = Path(__file__).resolve().parents[2]
OBSERVER = "r2d-test-observer"


def pool_lines(pool_size: int, public_url: str, python: str = sys.executable) -> str:
    """The pool's part of a jupyterhub_config.py, from poolconfig (test side, until
    `hub-config --pool-size` writes it)."""
    lines = [f"c.JupyterHub.services = list(c.JupyterHub.services) + "
             f"{poolconfig.hub_services(pool_size, python, public_url=public_url)!r}",
             f"c.JupyterHub.load_roles = list(c.JupyterHub.load_roles) + {poolconfig.hub_roles()!r}"]
    for cls, traits in poolconfig.config_traits(pool_size).items():
        lines += [f"c.{cls}.{trait} = {value!r}" for trait, value in traits.items()]
    return "\n".join(lines) + "\n"


class PooledHub:
    def __init__(self, image: str, folder: Path, network: str, gateway: str, name_prefix: str,
                 pool_size: int, port: int, hub_port: int, api_port: int, path: str,
                 extra: str = "", cull: tuple = ("--cull-timeout", "3600"), log_path: Path = None):
        self.folder, self.gateway, self.port = folder, gateway, port
        self.url = f"http://{gateway}:{port}"
        self.token = secrets.token_hex(16)
        self.env = {"PATH": path}
        self.log_path = log_path or folder / "jupyterhub.log"
        self.process: Optional[subprocess.Popen] = None
        subprocess.run([sys.executable, "-m", "repo2desktop", "hub-config", image, "--out", str(folder),
                        "--port", str(port), "--network", network, *cull], check=True, cwd=REPO,
                       stdout=subprocess.DEVNULL)
        self.config = folder / "jupyterhub_config.py"
        self.config.write_text(self.config.read_text() + f"""
c.JupyterHub.bind_url = "http://{gateway}:{port}"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.DockerSpawner.name_template = "{name_prefix}{{username}}"
""" + pool_lines(pool_size, self.url) + f"""
c.JupyterHub.services.append({{"name": {OBSERVER!r}, "api_token": {self.token!r}}})
c.JupyterHub.load_roles.append({{"name": "r2d-test-observer", "services": [{OBSERVER!r}],
    "scopes": ["list:users", "read:users", "read:servers", "read:groups", "list:groups"]}})
""" + extra)

    # -- the process ---------------------------------------------------------------------
    def start(self) -> "PooledHub":
        with open(self.log_path, "a") as log:
            log.write(f"--- start at {time.strftime('%H:%M:%S')}\n")
            log.flush()
            self.process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(self.config)],
                                            cwd=self.folder, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        def healthy() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"JupyterHub exited ({self.process.returncode}):\n" + self.log()[-3000:])
            return self._healthy()

        wait_for(healthy, 60, lambda: "JupyterHub answering /hub/health:\n" + self.log()[-3000:])
        return self

    def _healthy(self) -> bool:
        try:
            return requests.get(self.url + "/hub/health", timeout=3).ok
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pool_service_pid(self) -> Optional[int]:
        """The pool service's process, a child of this hub (found by its parent, not a name)."""
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.process.pid and b"repo2desktop.hub" in cmdline:
                return int(entry.name)
        return None

    # -- the hub's API, as the observer ------------------------------------------------------
    def api(self, path: str) -> requests.Response:
        answer = requests.get(f"{self.url}/hub/api{path}", timeout=30,
                              headers={"Authorization": f"token {self.token}"})
        answer.raise_for_status()
        return answer

    def group(self, name: str) -> List[str]:
        return self.api(f"/groups/{name}").json()["users"]

    def user(self, name: str) -> Optional[Dict]:
        try:
            return self.api(f"/users/{name}").json()
        except requests.HTTPError as e:
            if e.response.status_code == 404:
                return None
            raise

    def ready_users(self) -> List[str]:
        return sorted(self.group(poolconfig.READY_GROUP))


def visit(hub_url: str) -> Dict:
    """A visitor (an HTTP client keeping the hub's cookies) from the hub's URL to the desktop
    page: {"session", "base" (the page's URL), "spawn_pending" (whether the hub showed its
    spawn-pending page, i.e. spawned for this visit), "status", "text"} — status and text of
    the answer that ended the visit when it was not the page."""
    session = requests.Session()
    url, spawn_pending = hub_url + "/", False
    for _ in range(300):
        answer = session.get(url, allow_redirects=False, timeout=120)
        if answer.status_code in (301, 302, 303, 307):
            url = urljoin(url, answer.headers["Location"])
        elif answer.status_code == 200 and "/hub/spawn-pending/" in url:
            spawn_pending = True
            time.sleep(0.1)  # as the browser's page waits (its event stream)
        elif answer.status_code == 200 and "/desktop/" in url:
            return {"session": session, "base": url.split("?")[0], "spawn_pending": spawn_pending,
                    "status": 200, "text": ""}
        else:
            return {"session": session, "base": None, "spawn_pending": spawn_pending,
                    "status": answer.status_code, "text": answer.text, "url": url}
    raise AssertionError(f"visit went round in circles at {url}")
