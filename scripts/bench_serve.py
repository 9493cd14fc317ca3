#!/usr/bin/env python3
"""Benchmarks of `repo2desktop serve` (figures printed, never asserted).

    python scripts/bench_serve.py --image IMAGE [--quick]

1. Spawn -> usable desktop: POST /api/spawn/, then an RFB handshake through the proxy on the
   returned URL; median and p99 for 1 visitor (sequential samples) and N concurrent visitors
   (20; --quick: 5), against a cold `docker run` of the same image (Jupyter start, desktop on
   first visit, RFB).
2. Idle memory (RSS+page cache the kernel charges, less inactive file pages) and CPU of each
   pooled desktop, from the engine's stats.
3. How many idle pooled desktops this machine holds: EXTRAPOLATED from (2) and MemAvailable,
   not measured by filling the machine.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import docker
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from repo2desktop.runtime.allocate import free_port  # noqa: E402
from repo2desktop.serve.readiness import desktop_answers, rfb_greeting  # noqa: E402

CHP_BIN = REPO / "build" / "node" / "node_modules" / ".bin"
RESERVE_MIB = 2048  # left for the host, the engine and the proxy in the extrapolation


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def fmt(values) -> str:
    return (f"median {statistics.median(values) * 1000:7.0f} ms   p99 {pct(values, 99) * 1000:7.0f} ms"
            f"   (n={len(values)})")


def cold_docker_run(client, image: str) -> float:
    """`docker run` of IMAGE as Binder runs it (lazy desktop), until RFB through Jupyter."""
    token = secrets.token_hex(24)
    began = time.monotonic()
    container = client.containers.run(image, detach=True, environment={"JUPYTER_TOKEN": token},
                                      ports={"8888/tcp": ("127.0.0.1", None)},
                                      labels={"r2d-bench": "cold"})
    try:
        container.reload()
        port = container.attrs["NetworkSettings"]["Ports"]["8888/tcp"][0]["HostPort"]
        while time.monotonic() - began < 180:
            if desktop_answers(f"http://127.0.0.1:{port}", "/", token) is None:
                return time.monotonic() - began
            time.sleep(0.1)
        raise RuntimeError("cold container not ready in 180 s")
    finally:
        container.remove(force=True)


class Serve:
    def __init__(self, image: str, pool: int, *more: str):
        self.port, self.admin, self.api = free_port(), free_port(), free_port()
        env = dict(os.environ, PATH=f"{CHP_BIN}:{os.environ['PATH']}")
        env.pop("API_AUTH_TOKEN", None)
        self.log = open(REPO / "build" / "bench-serve.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "repo2desktop", "serve", image, "--pool-name", "r2d-bench",
             "--ip", "127.0.0.1", "--port", str(self.port), "--admin-port", str(self.admin),
             "--pool-size", str(pool), "--max-containers", str(pool * 2 + 2),
             "--ready-timeout", "300", *more], cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stats(self) -> dict:
        return requests.get(self.url("/api/stats"), timeout=10).json()

    def wait_available(self, n: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "serve exited; see build/bench-serve.log"
            try:
                if self.stats()["available"] >= n:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"pool did not reach {n} ready in {timeout} s")

    def visit(self) -> tuple:
        """(seconds to the claim's answer, seconds to the RFB greeting through the proxy)."""
        began = time.monotonic()
        r = requests.post(self.url("/api/spawn/"), timeout=60)
        r.raise_for_status()
        claimed = time.monotonic() - began
        body = r.json()
        base = body["url"].split("desktop/")[0]
        rfb_greeting(self.url(f"{base}desktop/websockify"),
                     {"Authorization": f"token {body['token']}"}, timeout=10)
        return claimed, time.monotonic() - began

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(180)


def idle_usage(client) -> tuple:
    """Per pooled container: (MiB, CPU %) averaged over the ready ones."""
    containers = [c for c in client.containers.list(filters={"label": "repo2desktop.serve.pool=r2d-bench"})
                  if not c.name.endswith("-claimed")]
    mem, cpu = [], []
    for c in containers:
        s = c.stats(stream=False)  # two samples one second apart (precpu_stats)
        m = s["memory_stats"]
        mem.append((m["usage"] - m.get("stats", {}).get("inactive_file", 0)) / 2**20)
        cd = s["cpu_stats"]["cpu_usage"]["total_usage"] - s["precpu_stats"]["cpu_usage"]["total_usage"]
        sd = s["cpu_stats"].get("system_cpu_usage", 0) - s["precpu_stats"].get("system_cpu_usage", 0)
        ncpu = s["cpu_stats"].get("online_cpus") or 1
        cpu.append(100.0 * cd / sd * ncpu if sd > 0 else 0.0)
    return statistics.mean(mem), statistics.mean(cpu), len(containers)


def mem_available_mib() -> float:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--quick", action="store_true", help="CI: 5 concurrent visitors, fewer samples")
    args = ap.parse_args()
    concurrent_n = 5 if args.quick else 20
    samples = 2 if args.quick else 5
    client = docker.from_env(timeout=120)

    print(f"== repo2desktop serve benchmarks ({args.image}; {os.cpu_count()} cores; "
          f"{'quick' if args.quick else 'full'}) ==", flush=True)
    cold = [cold_docker_run(client, args.image) for _ in range(samples)]
    print(f"cold `docker run` -> RFB through Jupyter:        {fmt(cold)}", flush=True)

    serve = Serve(args.image, concurrent_n)
    try:
        began = time.monotonic()
        serve.wait_available(concurrent_n)
        print(f"pool of {concurrent_n} filled in {time.monotonic() - began:.0f} s", flush=True)
        mem, cpu, n = idle_usage(client)
        print(f"idle pooled desktop: {mem:.0f} MiB, {cpu:.2f}% CPU each (mean of {n})", flush=True)
        available = mem_available_mib()
        print(f"idle pooled desktops this machine holds: ~{int((available - RESERVE_MIB) / mem)} "
              f"(EXTRAPOLATED: (MemAvailable {available:.0f} MiB - {RESERVE_MIB} MiB reserve) / "
              f"{mem:.0f} MiB; CPU at idle is not the limit)", flush=True)

        with concurrent.futures.ThreadPoolExecutor(concurrent_n) as ex:
            burst = list(ex.map(lambda _: serve.visit(), range(concurrent_n)))
        print(f"claim (POST /api/spawn/),       {concurrent_n:2d} concurrent: {fmt([b[0] for b in burst])}")
        print(f"spawn -> RFB through the proxy, {concurrent_n:2d} concurrent: {fmt([b[1] for b in burst])}",
              flush=True)
        one = []
        for _ in range(samples * 2):
            serve.wait_available(1)
            one.append(serve.visit())
        print(f"claim (POST /api/spawn/),        1 visitor:    {fmt([o[0] for o in one])}")
        print(f"spawn -> RFB through the proxy,  1 visitor:    {fmt([o[1] for o in one])}", flush=True)
    finally:
        serve.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
