#!/usr/bin/env python3
"""The JupyterHub path against the plain container path, same image (figures printed, never
asserted).

    python scripts/bench_hub.py --image IMAGE [--rounds N] [--burst N] [--only-chromium]

Interleaved rounds of:
- **hub**: `repo2desktop hub-config IMAGE` run by JupyterHub (tmpauthenticator, DockerSpawner,
  configurable-http-proxy on loopback); a visitor (an HTTP client keeping the hub's cookies)
  goes from the hub's URL through the temporary login and the spawn to the desktop page, then
  session.json until READY, then an RFB handshake through the hub's proxy. Printed: login +
  spawn (hub URL -> the page answers 200), page -> RFB, and warm (page, session.json, RFB
  again on the running server).
- **plain**: `docker run` of the image (lazy desktop, as Binder runs it) until the page, its
  session.json and an RFB handshake answer with the token; warm: the same on the running one.
Then (bench_visitors.py) visitor arrives -> desktop READY in Chromium for the hub without the
pool, the hub with the pool (repo2desktop/hub/, a pool of BURST), `serve` (a pool of BURST)
and the plain container: ROUNDS visitors one at a time and BURST (20) at once, p50 and p99.
Also whether the hub's server runs websockify or a `repo2desktop session` process (the fast
page runs neither), and the memory its container holds 5 s after READY.
"""
from __future__ import annotations

import argparse
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin

import docker
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from repo2desktop.serve.readiness import rfb_greeting  # noqa: E402
from scripts.bench_serve import CHP_BIN, free_port  # noqa: E402

PREFIX = f"r2d-bench-hub-{secrets.token_hex(3)}-"
NETWORK = PREFIX + "net"


def desktop_ready(base: str, session: requests.Session, headers: dict) -> None:
    """session.json until READY, then one RFB handshake (raises when either fails)."""
    deadline = time.monotonic() + 90
    # The page's server holds the request until ready; the session process answers at once.
    while (state := session.get(base + "session.json?wait=25", headers=headers, timeout=60).json()
           ).get("state") == "starting" and time.monotonic() < deadline:
        time.sleep(0.05)
    if state.get("state") != "ready":
        raise RuntimeError(f"desktop not ready: {state}")
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    rfb_greeting(base + "websockify", dict(headers, **({"Cookie": cookie} if cookie else {})), timeout=30)


def pool_lines(pool_size: int) -> str:
    """The pool's part of the config (repo2desktop/hub/poolconfig.py), as hub-config renders it."""
    from repo2desktop.hub import poolconfig

    lines = [f"c.JupyterHub.services = list(c.JupyterHub.services) + "
             f"{poolconfig.hub_services(pool_size, sys.executable)!r}",
             f"c.JupyterHub.load_roles = list(c.JupyterHub.load_roles) + {poolconfig.hub_roles()!r}",
             # the pool service asks desktops through the proxy, where the servers reach it
             f"c.JupyterHub.services[-1]['environment'] = "
             f"{{{poolconfig.PUBLIC_URL_ENV!r}: c.JupyterHub.bind_url}}"]
    for cls, traits in poolconfig.config_traits(pool_size).items():
        lines += [f"c.{cls}.{trait} = {value!r}" for trait, value in traits.items()]
    return "\n".join(lines) + "\n"


class Hub:
    def __init__(self, image: str, folder: Path, pool_size: int = 0, max_servers: int = 20):
        folder.mkdir(parents=True, exist_ok=True)
        self.token = secrets.token_hex(16)
        self.port, hub_port, api_port = free_port(), free_port(), free_port()
        # The proxy listens on this host's address on the servers' network (made here, as the
        # config would make it), where the servers reach the hub's API and the browser too.
        from repo2desktop.serve.docker_adapter import NO_ICC

        client = docker.from_env()
        if not [n for n in client.networks.list(names=[NETWORK]) if n.name == NETWORK]:
            client.networks.create(NETWORK, driver="bridge", options=NO_ICC)
        network = next(n for n in client.networks.list(names=[NETWORK]) if n.name == NETWORK)
        network.reload()
        self.host = network.attrs["IPAM"]["Config"][0]["Gateway"]
        subprocess.run([sys.executable, "-m", "repo2desktop", "hub-config", image, "--out", str(folder),
                        "--port", str(self.port), "--network", NETWORK,
                        "--max-servers", str(max_servers)], check=True, cwd=REPO,
                       stdout=subprocess.DEVNULL)
        config = folder / "jupyterhub_config.py"
        config.write_text(config.read_text() + f"""
c.JupyterHub.bind_url = "http://{self.host}:{self.port}"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.DockerSpawner.name_template = "{PREFIX}{{username}}"
""" + (pool_lines(pool_size) + f"""
c.JupyterHub.services.append({{"name": "r2d-bench", "api_token": {self.token!r}}})
c.JupyterHub.load_roles.append({{"name": "r2d-bench", "services": ["r2d-bench"],
                                "scopes": ["read:groups"]}})
""" if pool_size else ""))
        env = dict(os.environ, PATH=f"{CHP_BIN}:{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
        self.log = open(folder / "jupyterhub.log", "w")
        self.process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=folder,
                                        env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(self.url("/hub/health"), timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"JupyterHub did not answer; log in {folder}/jupyterhub.log")
            time.sleep(0.3)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def pool_ready(self) -> int:
        """Pre-started servers the pool holds now: its ready group, read with the bench's own
        token (a service that may only read groups)."""
        from repo2desktop.hub.poolconfig import READY_GROUP

        answer = requests.get(self.url(f"/hub/api/groups/{READY_GROUP}"), timeout=10,
                              headers={"Authorization": f"token {self.token}"})
        return len(answer.json()["users"]) if answer.ok else 0

    def wait_pool(self, n: int, timeout: float = 900) -> float:
        began = time.monotonic()
        while self.pool_ready() < n:
            if time.monotonic() - began > timeout or self.process.poll() is not None:
                raise RuntimeError(f"the hub's pool did not reach {n} in {timeout} s; log: {self.log.name}")
            time.sleep(0.5)
        return time.monotonic() - began

    def visit(self, client) -> dict:
        """A new temporary user, from the hub's URL to an RFB handshake on their desktop."""
        session = requests.Session()
        began = time.monotonic()
        url = self.url("/")
        for _ in range(200):
            answer = session.get(url, allow_redirects=False, timeout=120)
            if answer.status_code in (301, 302, 303, 307):
                url = urljoin(url, answer.headers["Location"])
            elif answer.status_code == 200 and "/hub/spawn-pending/" in url:
                time.sleep(0.1)  # the browser's page polls the same way (its event stream)
            elif answer.status_code == 200 and "/desktop/" in url:
                break
            else:
                raise RuntimeError(f"hub visit stopped at {url.split('?')[0]}: HTTP {answer.status_code}")
        spawned = time.monotonic()
        base = url.split("?")[0]
        desktop_ready(base, session, {})
        ready = time.monotonic()
        session.get(base, timeout=30).raise_for_status()
        desktop_ready(base, session, {})
        warm = time.monotonic() - ready
        user = base.split("/user/", 1)[1].split("/", 1)[0]
        # DockerSpawner escapes the name (e.g. "-" as "-2d"): find the server by its user.
        container = next(c for c in client.containers.list(filters={"name": PREFIX})
                         if f"JUPYTERHUB_USER={user}" in c.attrs["Config"]["Env"])
        commands = [row[-1] for row in container.top()["Processes"]]
        extra = [c for c in commands if "websockify" in c or "repo2desktop session" in c]
        time.sleep(5)  # the desktop settles; then what the server's container holds
        memory = container.stats(stream=False)["memory_stats"]
        mib = (memory["usage"] - memory.get("stats", {}).get("inactive_file", 0)) / 2**20
        return {"spawn": spawned - began, "ready": ready - spawned, "total": ready - began, "warm": warm,
                "extra": len(extra), "mib": mib}

    def stop(self, client) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        for container in client.containers.list(all=True, filters={"name": PREFIX}):
            container.remove(force=True)
        for network in client.networks.list(names=[NETWORK]):
            network.remove()


def plain_visit(client, image: str) -> dict:
    token = secrets.token_hex(24)
    headers = {"Authorization": f"token {token}"}
    began = time.monotonic()
    container = client.containers.run(image, detach=True, environment={"JUPYTER_TOKEN": token},
                                      ports={"8888/tcp": ("127.0.0.1", None)}, labels={"r2d-bench": "plain"})
    try:
        container.reload()
        base = f"http://127.0.0.1:{container.attrs['NetworkSettings']['Ports']['8888/tcp'][0]['HostPort']}/desktop/"
        session = requests.Session()
        while True:
            try:
                if session.get(base, headers=headers, timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() - began > 180:
                raise RuntimeError("plain container not answering in 180 s")
            time.sleep(0.1)
        answered = time.monotonic()
        desktop_ready(base, session, headers)
        ready = time.monotonic()
        session.get(base, headers=headers, timeout=30).raise_for_status()
        desktop_ready(base, session, headers)
        return {"spawn": answered - began, "ready": ready - answered, "total": ready - began,
                "warm": time.monotonic() - ready}
    finally:
        container.remove(force=True)


def median(rows, key) -> str:
    values = [r[key] for r in rows]
    return f"{statistics.median(values):6.2f} s ({min(values):.2f}-{max(values):.2f}, n={len(values)})"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--burst", type=int, default=20, help="visitors at once in the Chromium part")
    ap.add_argument("--only-chromium", action="store_true", help="skip the RFB comparison")
    args = ap.parse_args()
    client = docker.from_env(timeout=120)
    if not args.only_chromium:
        rfb_comparison(client, args)
    chromium_comparison(client, args)
    return 0


def chromium_comparison(client, args) -> None:
    """Visitor arrives -> desktop READY in Chromium: the hub without and with the pool,
    `serve`, the plain container; one visitor at a time (ROUNDS) and BURST at once."""
    from scripts.bench_serve import Serve
    from scripts.bench_visitors import plain_arrival, summary, url_arrival, visits

    n, rounds = args.burst, args.rounds
    print(f"== Visitor arrives -> desktop READY in Chromium ({args.image}; {os.cpu_count()} cores; "
          f"1 visitor x {rounds}, {n} at once) ==", flush=True)

    def report(name: str, times, at_once: bool) -> None:
        who = f"{n:2d} at once: " if at_once else "1 visitor:   "
        print(f"{name:12s} {who} {summary(times)}", flush=True)

    arrive = plain_arrival(client, args.image)
    report("plain", visits(arrive, rounds, False), False)
    report("plain", visits(arrive, n, True), True)

    serve = Serve(args.image, n)
    try:
        serve.wait_available(n)
        report("serve", visits(url_arrival(serve.url("/")), n, True), True)
        report("serve", visits(url_arrival(serve.url("/")), rounds, False,
                               between=lambda: serve.wait_available(1)), False)
    finally:
        serve.stop()

    with tempfile.TemporaryDirectory(prefix="r2d-bench-hub-") as folder:
        hub = Hub(args.image, Path(folder) / "hub", max_servers=n + rounds)
        try:
            report("hub", visits(url_arrival(hub.url("/")), rounds, False), False)
            report("hub", visits(url_arrival(hub.url("/")), n, True), True)
        finally:
            hub.stop(client)
        # A pool of BURST; after the burst it refills up to the hub's limit, ROUNDS + 1 more.
        hub = Hub(args.image, Path(folder) / "pool", pool_size=n, max_servers=n + rounds + 1)
        try:
            filled = hub.wait_pool(n)
            print(f"hub + pool:  the pool of {n} filled in {filled:.0f} s", flush=True)
            report("hub + pool", visits(url_arrival(hub.url("/")), n, True), True)
            report("hub + pool", visits(url_arrival(hub.url("/")), rounds, False,
                                        between=lambda: hub.wait_pool(1)), False)
        finally:
            hub.stop(client)


def rfb_comparison(client, args) -> None:
    print(f"== JupyterHub path vs plain container ({args.image}; {os.cpu_count()} cores; "
          f"{args.rounds} interleaved rounds; RFB handshake, no browser) ==", flush=True)
    hub_rows, plain_rows = [], []
    with tempfile.TemporaryDirectory(prefix="r2d-bench-hub-") as folder:
        hub = Hub(args.image, Path(folder))
        try:
            for _ in range(args.rounds):
                plain_rows.append(plain_visit(client, args.image))
                hub_rows.append(hub.visit(client))
        finally:
            hub.stop(client)
    print(f"plain: docker run -> page answers            {median(plain_rows, 'spawn')}")
    print(f"plain: page -> READY + RFB                   {median(plain_rows, 'ready')}")
    print(f"plain: cold total                            {median(plain_rows, 'total')}")
    print(f"plain: warm (page, session.json, RFB)        {median(plain_rows, 'warm')}")
    print(f"hub:   hub URL -> login + spawn -> page 200  {median(hub_rows, 'spawn')}")
    print(f"hub:   page -> READY + RFB                   {median(hub_rows, 'ready')}")
    print(f"hub:   cold total from the hub URL           {median(hub_rows, 'total')}")
    print(f"hub:   warm (page, session.json, RFB)        {median(hub_rows, 'warm')}")
    print(f"hub:   websockify / session processes in the server: {max(r['extra'] for r in hub_rows)}")
    mib = [r["mib"] for r in hub_rows]
    print(f"hub:   the server's container, 5 s after READY: {statistics.median(mib):.0f} MiB "
          f"({min(mib):.0f}-{max(mib):.0f}, n={len(mib)})", flush=True)


if __name__ == "__main__":
    sys.exit(main())
