"""The slow tier's plumbing: image names, builds with `repo2desktop build`, running containers.

Every image and container this tier makes is named here (``r2d-test-*``), so cleaning up
after it never needs a pattern: a container is removed by the id it was started with.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import pytest
import requests

from repo2desktop.runtime import probe
from tests.polling import wait_for

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
LOG_DIR = REPO / "build" / "image-tests"
SCREENSHOTS = REPO / "build" / "screenshots"

BASE_IMAGE_ENV = "REPO2DESKTOP_BASE_IMAGE"
DEFAULT_BASE_IMAGE = "repo2desktop/base:bookworm"
# Set to 1 to build without Docker's layer cache (the cold-cache timing of this tier).
NO_CACHE_ENV = "R2D_TEST_NO_CACHE"
NB_USER, NB_UID = "jovyan", 1000
CONTAINER_LABEL = "r2d-test=image-tier"

# The one place that names images. Keys are fixture folders (or, for "wheel", the build
# from an installed wheel); values are the image names the tier builds and runs.
IMAGES: Dict[str, str] = {name: f"r2d-test-{name}" for name in (
    "desktop-only", "apt-autostart", "own-start", "tigervnc", "xfce4", "persistent-home",  # built and run
    "mate", "icewm", "fluxbox", "lean-python",  # more desktops; requirements.txt without conda
    "rebuild",  # built twice under one name (test_real_repos.py)
    "broken", "bad-package",  # builds that must fail
    "build-network",  # a build whose postBuild tries the build host's loopback
    "wheel",  # built by a repo2desktop installed from its wheel into a fresh venv
    # conda-based buildpacks (need conda-forge at build time; test_conda_builds.py)
    "conda-requirements", "conda-environment", "conda-pipfile", "conda-r", "conda-julia",
)}
BUILD_TIMEOUT = 1800.0
# A bare greeting. A VNC server refusing the client sends "RFB 003.003" and the reason in the
# same frame (TigerVNC: "Too many security failures"), which is not a working desktop.
GREETING = re.compile(r"RFB 003\.00[3-8]")
X_SERVERS = ("Xtightvnc", "Xtigervnc")


def docker_cli() -> str:
    return shutil.which("docker") or "/usr/bin/docker"


def docker(*args: str, check: bool = True, timeout: float = 120.0,
           env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([docker_cli(), *args], capture_output=True, text=True, timeout=timeout,
                          env=env, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise AssertionError(f"`docker {shlex.join(args)}` failed ({proc.returncode}): "
                             f"{proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def build_env(**extra: str) -> Dict[str, str]:
    env = dict(os.environ, **extra)
    env.setdefault(BASE_IMAGE_ENV, DEFAULT_BASE_IMAGE)
    return env


def build_options(image: str) -> List[str]:
    """repo2docker options after REPO: no run, our image name, the notebook user."""
    options = ["--no-run", "--image-name", image, "--user-id", str(NB_UID), "--user-name", NB_USER]
    if os.environ.get(NO_CACHE_ENV, "") not in ("", "0"):
        # Our engine passes DockerEngine.extra_buildx_build_args to `docker build`.
        options.append("--DockerEngine.extra_buildx_build_args=--no-cache")
    return options


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def container_ids() -> List[str]:
    return docker("ps", "-a", "-q", "--no-trunc").stdout.split()


def image_ids() -> List[str]:
    return docker("images", "-a", "-q", "--no-trunc").stdout.split()


def image_exists(image: str) -> bool:
    return docker("image", "inspect", image, check=False).returncode == 0


def untag(image: str) -> None:
    """Remove our own tag IMAGE before a build: repo2docker reuses an existing image of that
    name without building, which would test a stale image. BuildKit's cache keeps the layers."""
    assert image.startswith("r2d-test-"), image
    if image_exists(image):
        docker("image", "rm", "-f", image)


# -- builds ------------------------------------------------------------------------------

@dataclass
class BuildResult:
    name: str
    image: str
    returncode: int
    seconds: float
    log_path: Path
    output: str
    expect_failure: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def state(self) -> str:
        if self.ok:
            return "ok"
        return f"exit {self.returncode}" + (" (expected)" if self.expect_failure else " FAILED")

    def failure(self) -> str:
        return (f"building {self.name} ({self.image}) failed with exit code {self.returncode} after "
                f"{self.seconds:.0f} s; full log {self.log_path}; last lines:\n{tail(self.output)}")


def run_build(repo: Path, image: str, log_name: str, cwd: Path = REPO,
              command: Optional[Sequence[str]] = None, env: Optional[Dict[str, str]] = None,
              name: Optional[str] = None, expect_failure: bool = False) -> BuildResult:
    """`repo2desktop build REPO --no-run --image-name IMAGE ...`, output kept in build/image-tests/."""
    argv = list(command or [sys.executable, "-m", "repo2desktop"]) + ["build", str(repo), *build_options(image)]
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{log_name}.log"
    began = time.monotonic()
    with open(log_path, "w") as log:
        log.write(f"$ {shlex.join(argv)}\n")
        log.flush()
        try:
            proc = subprocess.run(argv, cwd=cwd, env=env or build_env(), stdout=log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  timeout=BUILD_TIMEOUT)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            code = -1
            log.write(f"\n(no result within {BUILD_TIMEOUT:.0f} s)\n")
    seconds = time.monotonic() - began
    return BuildResult(name or repo.name, image, code, seconds, log_path,
                       log_path.read_text(errors="replace"), expect_failure)


class ImageBuilder:
    """Builds each fixture at most once per session, and only when a test asks for it."""

    def __init__(self) -> None:
        self.results: Dict[str, BuildResult] = {}
        self.others: List[BuildResult] = []  # builds made by tests directly, for the summary

    def record(self, result: BuildResult) -> BuildResult:
        self.others.append(result)
        return result

    def build(self, name: str) -> str:
        """The image of fixture NAME, built now if this session has not built it yet.

        A failed build fails every test that needs it (with the log's tail), without
        building again.
        """
        if name not in self.results:
            image = IMAGES[name]
            untag(image)
            self.results[name] = run_build(FIXTURES / name, image, f"build-{name}", name=name)
        result = self.results[name]
        if not result.ok:
            pytest.fail(result.failure(), pytrace=False)
        return result.image


# -- containers --------------------------------------------------------------------------

@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    uid: int
    user: str
    args: str

    @property
    def argv(self) -> List[str]:
        return self.args.split()

    @property
    def name(self) -> str:
        return os.path.basename(self.argv[0]) if self.args else ""

    def option(self, name: str) -> Optional[str]:
        argv = self.argv
        for i, arg in enumerate(argv):
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(name + "="):
                return arg[len(name) + 1:]
        return None


@dataclass
class DesktopSession:
    """One desktop as the container's process table shows it."""

    session: Process
    supervisord: Process
    display: int
    runtime_dir: str
    listen_socket: str
    xauthority: Optional[str]  # the X server's -auth file, if it has one
    processes: List[Process] = field(default_factory=list)

    @property
    def x_env(self) -> Dict[str, str]:
        """The environment an X client needs to reach this desktop's display."""
        env = {"DISPLAY": f":{self.display}"}
        if self.xauthority:
            env["XAUTHORITY"] = self.xauthority
        return env


class Container:
    """`docker run -d` of a built image as Binder runs it: the image's own command (repo2docker's
    entrypoint, the repository's start, `jupyter notebook`), port 8888 published on loopback
    only, the token in the environment (never in a URL or on a command line)."""

    def __init__(self, image: str, run_args: Sequence[str] = ()):
        self.image = image
        self.token = secrets.token_hex(24)
        self.name = f"{image}-{secrets.token_hex(3)}"
        config = json.loads(docker("image", "inspect", image).stdout)[0]["Config"]
        self.command = config.get("Cmd") or []
        assert self.command[:1] == ["jupyter"], f"{image} does not start Jupyter: {self.command}"
        # `-e JUPYTER_TOKEN` without a value: docker copies it from its own environment.
        env = dict(os.environ, JUPYTER_TOKEN=self.token)
        started = docker("run", "-d", "--name", self.name, "--label", CONTAINER_LABEL,
                         "-e", "JUPYTER_TOKEN", "-p", "127.0.0.1::8888", *run_args, image, env=env)
        self.id = started.stdout.strip()
        ports = docker("port", self.id, "8888/tcp").stdout.split()
        self.port = int(ports[0].rsplit(":", 1)[1])
        self.stopped = False

    # -- docker --------------------------------------------------------------------------
    def inspect(self) -> dict:
        return json.loads(docker("inspect", self.id).stdout)[0]

    @property
    def ip(self) -> str:
        networks = self.inspect()["NetworkSettings"]["Networks"]
        return next(n["IPAddress"] for n in networks.values() if n.get("IPAddress"))

    def logs(self) -> str:
        out = docker("logs", self.id, check=False)
        return out.stdout + out.stderr

    def running(self) -> bool:
        return self.inspect()["State"]["Running"]

    def stop(self, grace: int = 20) -> tuple:
        """`docker stop` (SIGTERM, then SIGKILL after GRACE s): (seconds taken, exit code)."""
        began = time.monotonic()
        docker("stop", "-t", str(grace), self.id, timeout=grace + 30)
        seconds = time.monotonic() - began
        self.stopped = True
        return seconds, self.inspect()["State"]["ExitCode"]

    def remove(self) -> None:
        docker("rm", "-f", self.id, check=False)

    # -- inside --------------------------------------------------------------------------
    @property
    def host(self):
        """A testinfra host on the container, as the image's user (jovyan)."""
        import testinfra

        return testinfra.get_host(f"docker://{self.id}")

    def run(self, command: str, *args: str, env: Optional[Dict[str, str]] = None):
        prefix = "env " + " ".join(shlex.quote(f"{k}={v}") for k, v in (env or {}).items()) + " " if env else ""
        return self.host.run(prefix + command, *args)

    def processes(self) -> List[Process]:
        out = self.host.check_output("ps -eo pid=,ppid=,uid=,user=,args=")
        found = []
        for line in out.splitlines():
            parts = line.split(None, 4)
            if len(parts) < 4:
                continue
            pid, ppid, uid, user = parts[:4]
            found.append(Process(int(pid), int(ppid), int(uid), user, parts[4] if len(parts) > 4 else ""))
        return found

    def desktop(self, timeout: float = 60.0) -> DesktopSession:
        """The running desktop session: its process, supervisord and runtime directory."""
        procs: List[Process] = []

        def found() -> Optional[DesktopSession]:
            nonlocal procs
            procs = self.processes()
            sessions = [p for p in procs if "-m repo2desktop session" in p.args]
            supervisors = [p for p in procs if p.option("--configuration")
                           and "supervisord" in " ".join(p.argv[:2])]
            x_servers = [p for p in procs if p.name in X_SERVERS]
            if sessions and supervisors and x_servers:
                session, supervisord = sessions[0], supervisors[0]
                return DesktopSession(
                    session, supervisord, int(session.option("--display")),
                    os.path.dirname(supervisord.option("--configuration")),
                    session.option("--unix-socket"), x_servers[0].option("-auth"), procs)
            if supervisors and x_servers:
                # The fast path (jupyter/page.py): the Jupyter server runs supervisord itself; no
                # session process, no websockify socket.
                supervisord = supervisors[0]
                server = next((p for p in procs if p.pid == supervisord.ppid), supervisord)
                display = next(int(a[1:]) for a in x_servers[0].argv if a[:1] == ":" and a[1:].isdigit())
                return DesktopSession(
                    server, supervisord, display, os.path.dirname(supervisord.option("--configuration")),
                    "", x_servers[0].option("-auth"), procs)
            return None

        return wait_for(found, timeout, lambda: f"no desktop session in {self.name}:\n"
                        + "\n".join(p.args for p in procs) + "\n" + tail(self.logs()), 0.3)

    # -- through the published port --------------------------------------------------------
    @property
    def headers(self) -> Dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def get(self, path: str, auth: bool = True, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("headers", self.headers if auth else {})
        return requests.get(self.url(path), **kwargs)

    def wait_ready(self, timeout: float = 120.0) -> "Container":
        """Until Jupyter answers /api/status (with the token)."""
        def answers() -> str:
            if not self.running():
                raise AssertionError(f"{self.name} exited ({self.inspect()['State']['ExitCode']}):\n"
                                     + tail(self.logs()))
            try:
                response = self.get("api/status", timeout=5)
                return "" if response.status_code != 200 else "ok"
            except requests.RequestException:
                return ""

        wait_for(answers, timeout, lambda: f"Jupyter in {self.name} answering:\n" + tail(self.logs()), 0.3)
        return self

    def rfb(self, headers: Optional[Dict[str, str]] = None, timeout: float = 5.0) -> str:
        """One RFB handshake through Jupyter's /desktop/websockify: the server's greeting."""
        return probe.rfb_version(f"tcp:{self.port}", path="/desktop/websockify", timeout=timeout,
                                 headers=self.headers if headers is None else headers)

    def wait_rfb(self, timeout: float = 60.0) -> float:
        began = time.monotonic()
        last = ""

        def greets() -> bool:
            nonlocal last
            try:
                greeting = self.rfb(timeout=2.0)
                last = f"refused by the VNC server: {greeting!r}"
                return bool(GREETING.fullmatch(greeting))
            except OSError as e:
                last = repr(e)
                return False

        wait_for(greets, timeout, lambda: f"no RFB greeting through /desktop/websockify of {self.name} "
                 f"({last}):\n{tail(self.logs())}")
        return time.monotonic() - began

    def open_desktop(self, timeout: float = 60.0) -> requests.Response:
        """What the Desktop tile does: GET /desktop/ (starts a lazy desktop); then wait for X.

        A server error is retried until TIMEOUT (an eager desktop may not have its socket
        yet: tests that care about the first answer check it themselves)."""
        def served() -> Optional[requests.Response]:
            page = self.get("desktop/")
            assert page.status_code == 200 or page.status_code >= 500, (
                f"GET /desktop/ of {self.name}: HTTP {page.status_code}\n{page.text[:300]}\n{tail(self.logs())}")
            return page if page.status_code == 200 else None

        page = wait_for(served, timeout, lambda: f"GET /desktop/ of {self.name} without a server error:\n"
                        + tail(self.logs()), 0.5)
        self.wait_rfb()
        return page


class ContainerPool:
    """Starts containers for the session and removes each one (by its id) at the end."""

    def __init__(self) -> None:
        self.started: List[Container] = []

    def start(self, image: str, run_args: Sequence[str] = ()) -> Container:
        container = Container(image, run_args)
        self.started.append(container)
        return container.wait_ready()

    def remove_all(self) -> None:
        for container in self.started:
            container.remove()
        self.started.clear()
