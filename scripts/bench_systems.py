"""The systems `make bench` puts side by side, and one measured round of each.

- ours, default desktop.yml (TightVNC + openbox + xterm) and ours with TigerVNC + xfce4: this
  checkout's repo2desktop;
- jupyter-remote-desktop-proxy 3.0.1 (JRDP; TigerVNC + xfce4, its default) and Selkies 2.1
  (its own jupyter-server-proxy tile, Xvfb + xfce4), each from PyPI in its own venv under
  build/bench/, with the Debian packages their documentation names.

A host round: a fresh `jupyter server` (lazy desktop) in a fresh folder and HOME, Chromium
opens the desktop cold (new browser context) and warm (a new page while the desktop runs),
then idle memory of every process carrying the round's marker variable (the desktop's whole
tree, daemonised children included), then SIGTERM to the server: how long until none of them
is left, and how many are still there 5 s later. A container round does the same against
`docker run` of the system's image (memory and leftovers are the host rounds' job).
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from bench_browser import Browser

from repo2desktop.runtime.allocate import free_port
from repo2desktop.runtime.guard import processes_with

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKER = "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else "docker"
MARK = "REPO2DESKTOP_BENCH_ROUND"
NOTEBOOK_ENV = ("jupyter-server>=2.14,<3", "notebook>=7.2,<8", "jupyterlab>=4.2,<5", "ipykernel>=6")


@dataclass(frozen=True)
class System:
    key: str
    label: str
    path: str  # the page a user opens, under the server's base URL
    desktop_yml: Optional[str] = None  # ours: the repository's desktop.yml
    pip: Tuple[str, ...] = ()  # a peer: what its own venv gets from PyPI
    apt: Tuple[str, ...] = ()  # a peer: the Debian packages its documentation names
    peer: bool = False


SYSTEMS = (
    System("ours-default", "ours, default (TightVNC + openbox)", "desktop/", desktop_yml="version: 1\n"),
    System("ours-xfce4", "ours, TigerVNC + xfce4", "desktop/",
           desktop_yml="version: 1\nvnc: {server: tigervnc}\nwindow_manager: xfce4\n"),
    System("jrdp", "JRDP 3.0.1 (TigerVNC + xfce4)", "desktop/", peer=True,
           pip=("jupyter-remote-desktop-proxy==3.0.1",),
           apt=("tigervnc-standalone-server", "xfce4", "xfce4-terminal", "dbus-x11", "xfonts-base")),
    System("selkies", "Selkies 2.1 (Xvfb + xfce4)", "selkies/", peer=True,
           pip=("selkies==2.1.0", "jupyter-server-proxy>=4.2"),  # its tile needs the proxy
           apt=("xvfb", "pulseaudio", "xfce4", "xfce4-terminal", "dbus-x11", "xfonts-base")),
)



def peer_python(system: System, root: str) -> str:
    """The python of SYSTEM's own venv under ROOT (made once; reused while its pins hold)."""
    venv = os.path.join(root, f"venv-{system.key}")
    stamp = os.path.join(venv, "bench-pins.txt")
    pins = "\n".join(("jupyter-server>=2.14,<3",) + system.pip)
    python = os.path.join(venv, "bin", "python")
    if not (os.path.exists(stamp) and open(stamp).read() == pins):
        subprocess.run([sys.executable, "-m", "venv", "--clear", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", *pins.split("\n")], check=True)
        with open(stamp, "w") as f:
            f.write(pins)
    return python


def _get(url: str, token: str, timeout: float = 2.0) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except OSError:
        return 0


def _wait_api(base: str, token: str, alive, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while _get(base + "api/status", token) != 200:
        if not alive():
            raise RuntimeError("the Jupyter server exited while starting")
        if time.monotonic() > deadline:
            raise RuntimeError("the Jupyter server did not answer")
        time.sleep(0.1)


def marked(mark: str, exclude: Tuple[int, ...] = ()) -> List[int]:
    return processes_with(MARK, mark, exclude)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _is_watchdog(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"repo2desktop.runtime.guard" in f.read()
    except OSError:
        return False


def memory_mib(pids: List[int]) -> Tuple[float, float]:
    """(PSS, RSS) in MiB summed over PIDS."""
    pss = rss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                pss += next(int(l.split()[1]) for l in f if l.startswith("Pss:"))
            with open(f"/proc/{pid}/status") as f:
                rss += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return pss / 1024, rss / 1024


def _run_pages(browser: Browser, url: str, token: str, result: Dict) -> None:
    context = browser.context(token)
    try:
        cold = browser.open(context, url)
        result.update(cold_s=cold.ready_s, first_byte_s=cold.first_byte_s,
                      requests=cold.requests if cold.ready_s else None,
                      kib=round(cold.kib, 1) if cold.ready_s else None, failed=cold.ready_s is None,
                      urls=cold.urls)
        if cold.ready_s is not None:
            warm = browser.open(context, url)
            result["warm_s"] = warm.ready_s
    finally:
        context.close()


def host_round(system: System, python: str, browser: Browser, work: str, idle_s: float) -> Dict:
    folder = tempfile.mkdtemp(prefix=f"{system.key}-", dir=work)
    home = os.path.join(folder, "home")
    os.makedirs(home)
    if system.desktop_yml:
        with open(os.path.join(folder, "desktop.yml"), "w") as f:
            f.write(system.desktop_yml)
    token, port, mark = secrets.token_hex(16), free_port(), secrets.token_hex(8)
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "XAUTHORITY", "REPO2DESKTOP_CONFIG") and not k.startswith("JUPYTER")}
    env.update(HOME=home, JUPYTER_CONFIG_DIR=os.path.join(home, ".jupyter"),
               JUPYTER_RUNTIME_DIR=os.path.join(folder, "runtime"), **{MARK: mark})
    log = open(os.path.join(folder, "jupyter.log"), "wb")
    proc = subprocess.Popen(
        [python, "-m", "jupyter_server", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={folder}",
         f"--IdentityProvider.token={token}"],
        cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    result: Dict = {"system": system.key, "where": "host"}
    try:
        _wait_api(base, token, lambda: proc.poll() is None)
        _run_pages(browser, base + system.path, token, result)
        time.sleep(idle_s)
        pids = marked(mark, exclude=(proc.pid,))
        result["pss_mib"], result["rss_mib"] = (round(v, 1) for v in memory_mib(pids))
        result["processes"] = len(pids)
    finally:
        # Scanning every process's environment takes up to a second on a busy machine: the
        # stop is timed on the processes known before the signal (cheap to poll); the full
        # scan 5 s later catches anything started meanwhile.
        watched = marked(mark, exclude=(proc.pid,))
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        stopped = desktop_stopped = None
        while time.monotonic() - signalled < 5.0:
            left = [p for p in watched if _running(p)]  # the desktop, not the server itself
            if desktop_stopped is None and not [p for p in left if not _is_watchdog(p)]:
                desktop_stopped = time.monotonic() - signalled
            if not left:
                stopped = time.monotonic() - signalled
                break
            time.sleep(0.02)
        try:
            proc.wait(max(1.0, 10 - (time.monotonic() - signalled)))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        result["stop_s"] = stopped  # None: something was still running 5 s after SIGTERM
        # Without the watchdogs that end with the server (repo2desktop's guards): the
        # desktop itself (X server, window manager, apps, supervisord).
        result["desktop_stop_s"] = desktop_stopped
        time.sleep(max(0.0, 5.0 - (time.monotonic() - signalled)))
        left = marked(mark)
        result["leftovers"] = len(left)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()
        if result.get("failed"):
            keep = os.path.join(os.environ.get("BENCH_OUT", work), "failed-logs")
            os.makedirs(keep, exist_ok=True)
            shutil.copy(os.path.join(folder, "jupyter.log"), os.path.join(keep, f"{system.key}-{mark}.log"))
        shutil.rmtree(folder, ignore_errors=True)
    return result


# -- containers ----------------------------------------------------------------------------

def docker(*args, check=True, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    return subprocess.run([DOCKER, *args], check=check, **kwargs)


def image_size_mb(image: str) -> float:
    return int(docker("image", "inspect", "-f", "{{.Size}}", image).stdout.strip()) / 1e6


PEER_DOCKERFILE = """\
# Generated by scripts/bench_systems.py: {label}, over the same base as ours.
FROM {base}
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \\
    {apt} && rm -rf /var/lib/apt/lists/*
RUN useradd -m -s /bin/bash -u 1000 jovyan && install -d -o jovyan /srv/venv
USER jovyan
RUN python3 -m venv /srv/venv && /srv/venv/bin/python -m pip install --no-cache-dir {pip}
ENV PATH=/srv/venv/bin:$PATH
WORKDIR /home/jovyan
"""


def build_image(system: System, base: str, work: str, image: str) -> float:
    """Build SYSTEM's image over BASE; return seconds taken."""
    began = time.monotonic()
    if system.peer:
        context = os.path.join(work, "images", system.key)
        os.makedirs(context, exist_ok=True)
        with open(os.path.join(context, "Dockerfile"), "w") as f:
            f.write(PEER_DOCKERFILE.format(label=system.label, base=base, apt=" ".join(system.apt),
                                           pip=" ".join(f"'{p}'" for p in NOTEBOOK_ENV + system.pip)))
        subprocess.run([DOCKER, "build", "--network", "host", "-q", "-t", image, context], check=True,
                       stdout=subprocess.DEVNULL, env=dict(os.environ, DOCKER_BUILDKIT="1"))
    else:
        repo = os.path.join(work, "repos", system.key)
        os.makedirs(repo, exist_ok=True)
        with open(os.path.join(repo, "desktop.yml"), "w") as f:
            f.write(system.desktop_yml or "version: 1\n")
        build_repo(repo, image)
    return time.monotonic() - began


def build_repo(repo: str, image: str) -> None:
    env = dict(os.environ)
    env.setdefault("REPO2DESKTOP_BASE_IMAGE", os.environ.get("BASE_IMAGE", "repo2desktop/base:bookworm"))
    proc = subprocess.run([sys.executable, "-m", "repo2desktop", "build", repo, "--no-run",
                           "--image-name", image], capture_output=True, text=True, env=env)
    if proc.returncode:
        raise RuntimeError(f"repo2desktop build {repo} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


def container_round(system: System, image: str, browser: Browser) -> Dict:
    token, port = secrets.token_hex(16), free_port()
    name = f"r2d-bench-{system.key}-{secrets.token_hex(4)}"
    result: Dict = {"system": system.key, "where": "container"}
    docker("run", "-d", "--rm", "--name", name, "-p", f"127.0.0.1:{port}:8888",
           "--security-opt", "seccomp=unconfined", "--shm-size", "256m", image,
           "jupyter", "server", "--ip=0.0.0.0", "--port=8888", "--no-browser",
           f"--IdentityProvider.token={token}")
    try:
        base = f"http://127.0.0.1:{port}/"
        _wait_api(base, token, lambda: docker("inspect", name, check=False).returncode == 0)
        _run_pages(browser, base + system.path, token, result)
    finally:
        began = time.monotonic()
        docker("stop", "-t", "10", name, check=False)
        result["container_stop_s"] = round(time.monotonic() - began, 2)
    return result
