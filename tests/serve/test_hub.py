"""The JupyterHub path, for real on one machine: `repo2desktop hub-config IMAGE` writes the
config; JupyterHub (from PyPI) with configurable-http-proxy, tmpauthenticator, DockerSpawner
and jupyterhub-idle-culler runs it; a visitor becomes a temporary user, lands in the desktop
(Chromium canvas, RFB through the hub's proxy) served by the page's server extension (no
websockify, no session process), every part of which needs the hub's login; the idle culler
then stops the server. The config runs as written: two hubs from it at once on their own
ports, networks and container names; SIGTERM ends a hub and its services at once."""
from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import docker
import psutil
import pytest
import requests

from repo2desktop.runtime.rfb import GREETING
from repo2desktop.serve.docker_adapter import NO_ICC
from repo2desktop.serve.readiness import rfb_greeting
from tests.host.browser import screenshot
from tests.polling import wait_for

from .serving import (CHP_LOCAL, LOG_DIR, REPO, SESSION, derived_image, free_port, open_desktop_page,
                      wait_for_the_xterm)

pytestmark = pytest.mark.serve

NETWORK = f"r2d-test-hub-{SESSION}"
NAME_PREFIX = f"r2d-test-hub-{SESSION}"  # DockerSpawner names the servers PREFIX-USER
HUB_ENV = {"PATH": f"{CHP_LOCAL}:{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"}


@dataclass
class Hub:
    url: str  # the public proxy, bound to this host's address on NETWORK
    client: docker.DockerClient
    log_path: Path
    gateway: str
    hub_port: int


def networks_named(client, name: str) -> list:
    """Networks named exactly NAME (the engine's names filter matches parts of names)."""
    return [n for n in client.networks.list(names=[name]) if n.name == name]


def write_config(image: str, out: Path, network: str, port: int, *more: str) -> Path:
    """`hub-config` with this host's free ports for the hub's and the proxy's APIs (MORE wins)."""
    subprocess.run([sys.executable, "-m", "repo2desktop", "hub-config", image, "--out", str(out),
                    "--port", str(port), "--network", network, "--hub-port", str(free_port()),
                    "--proxy-api-port", str(free_port()), *more], check=True, cwd=REPO)
    return out / "jupyterhub_config.py"


def start_hub(config: Path, log_path: Path) -> subprocess.Popen:
    """`jupyterhub -f CONFIG` as a script's background job starts it: with SIGINT ignored
    (what a non-interactive shell does to `jupyterhub &`), which its services inherit unless
    the config resets it."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        return subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=config.parent,
                                env=HUB_ENV, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))


def wait_for_health(process: subprocess.Popen, url: str, log_path: Path) -> None:
    def up():
        assert process.poll() is None, log_path.read_text()[-3000:]
        try:
            return requests.get(f"{url}/hub/health", timeout=3).ok
        except requests.RequestException:
            return False
    wait_for(up, 60, f"JupyterHub answering {url}/hub/health")


def stop_hub(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def private_network(client, name: str):
    """NAME made as the config would make it, so that the test knows this host's address on it
    before the hub starts: the proxy listens there (not on every address of a shared machine),
    where the servers reach it."""
    network = client.networks.create(name, driver="bridge", options=NO_ICC)
    network.reload()
    return network, network.attrs["IPAM"]["Config"][0]["Gateway"]


def remove_hub_leftovers(client, network: str, prefix: str) -> None:
    for c in client.containers.list(all=True, filters={"name": prefix + "-"}):
        c.remove(force=True)
    for n in networks_named(client, network):
        n.remove()


@contextlib.contextmanager
def running_hub(image: str, out: Path, network: str, prefix: str, log_name: str):
    """A hub from `hub-config IMAGE` (only flags: the file runs as written) on NETWORK with
    containers named PREFIX..., answering; stopped and cleaned up on leaving."""
    port, hub_port = free_port(), free_port()
    client = docker.from_env()
    _, gateway = private_network(client, network)
    # The culler counts from the server's start (the server reports activity every 300 s):
    # 30 s leaves room for a start that takes 15-20 s on a loaded machine plus the checks.
    config = write_config(image, out, network, port, "--ip", gateway, "--hub-port", str(hub_port),
                          "--name-prefix", prefix, "--cull-timeout", "30", "--cull-every", "5")
    log_path = LOG_DIR / log_name
    process = start_hub(config, log_path)
    try:
        wait_for_health(process, f"http://{gateway}:{port}", log_path)
        yield Hub(f"http://{gateway}:{port}", client, log_path, gateway, hub_port)
    finally:
        stop_hub(process)
        remove_hub_leftovers(client, network, prefix)


@pytest.fixture
def hub(serve_image, tmp_path: Path):
    with running_hub(serve_image, tmp_path, NETWORK, NAME_PREFIX, "jupyterhub.log") as running:
        yield running


def _servers(client, prefix: str = NAME_PREFIX):
    return client.containers.list(all=True, filters={"name": prefix + "-"})


def test_temporary_user_reaches_the_desktop_and_the_idle_culler_stops_it(hub, chromium):
    url, client, log_path = hub.url, hub.client, hub.log_path
    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    try:
        began = time.monotonic()
        page = context.new_page()
        page.goto(url + "/", timeout=120000)  # -> temporary user -> spawn -> /user/NAME/desktop/
        page.wait_for_url("**/user/*/desktop/**", timeout=120000)
        wait_for(lambda: _servers(client), 30, "the spawned server's container running")
        user_url = url + "/user/" + page.url.split("/user/", 1)[1]
        page.close()
        page, _ = open_desktop_page(context, user_url)
        print(f"\nhub: / -> temporary user -> desktop canvas in {time.monotonic() - began:.1f} s")
        try:
            wait_for_the_xterm(page)
        finally:
            screenshot(page, "hub-visitor-desktop.png")
        user = page.url.split("/user/", 1)[1].split("/", 1)[0]
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies(page.url))
    finally:
        context.close()
    (server,) = _servers(client)
    # The fast page: the Jupyter server relays the websocket itself.
    processes = [" ".join(row[-1:]) for row in server.top()["Processes"]]
    assert not [p for p in processes if "websockify" in p or "repo2desktop session" in p], processes
    assert [p for p in processes if "supervisord" in p], processes

    desktop = f"{url}/user/{user}/desktop/"
    with_login = {"Cookie": cookies}
    for path, kind in (("", "text/html"), ("session.json", "application/json"),
                       ("desktop.js", "javascript")):
        answer = requests.get(desktop + path, headers=with_login, timeout=30, allow_redirects=False)
        assert answer.status_code == 200 and kind in answer.headers["Content-Type"], (path, answer.status_code)
        refused = requests.get(desktop + path, timeout=30, allow_redirects=False)
        assert refused.status_code in (302, 401, 403), (path, refused.status_code)
    page_text = requests.get(desktop, headers=with_login, timeout=30).text
    assert "Generated by repo2desktop" in page_text and 'src="desktop.js?_xsrf=' in page_text
    assert requests.get(desktop + "session.json", headers=with_login, timeout=30).json()["state"] == "ready"
    greeting = rfb_greeting(desktop + "websockify", with_login, timeout=10)
    assert GREETING.fullmatch(greeting + "\n")
    with pytest.raises(ConnectionError, match="refused"):  # without the hub's login
        rfb_greeting(desktop + "websockify", {}, timeout=10)
    assert server.attrs["Config"]["User"] == "1000"  # the image's USER, resolved and pinned
    host = server.attrs["HostConfig"]
    assert "ALL" in host["CapDrop"] and host["SecurityOpt"] == ["no-new-privileges:true"]
    assert host["Memory"] == host["MemorySwap"] == 1024 ** 3  # 1G, no swap beyond it
    # The hub's own port is on loopback: no container reaches it, on the hub's network or on
    # another; the servers reach the hub's API through the public proxy, as browsers do.
    probe = (f"import socket, urllib.request\n"
             f"s = socket.socket()\ns.settimeout(5)\n"
             f"print('hub port', 'open' if s.connect_ex(({hub.gateway!r}, {hub.hub_port})) == 0 else 'closed')\n"
             f"print('api via proxy', urllib.request.urlopen({url + '/hub/api/'!r}, timeout=10).status)\n")
    for network in (NETWORK, "bridge"):
        # The server's image by its id: the tag may be rebuilt meanwhile by another session.
        out = client.containers.run(server.attrs["Image"], ["python3", "-c", probe], network=network,
                                    remove=True).decode()
        assert out.splitlines() == ["hub port closed", "api via proxy 200"], (network, out)
    # --cull-timeout 30 --cull-every 5: the culler stops the idle server; DockerSpawner removes it
    wait_for(lambda: not _servers(client), 90, "idle culler stopping the server", 1)
    assert re.search(r"IdleCuller.*Culling server", log_path.read_text())


# -- the generated config, loaded by JupyterHub against the real engine ----------------------

def load_config(path: Path):
    """PATH read as `jupyterhub -f PATH` reads it (the config talks to the engine)."""
    from jupyterhub.app import JupyterHub

    app = JupyterHub()
    app.load_config_file(str(path))
    return app.config


def test_generated_config_loads_in_jupyterhub_with_limits_user_and_its_exact_network(serve_image, tmp_path):
    client = docker.from_env()
    network = f"r2d-test-hubcfg-{SESSION}"
    # A network whose name contains the hub's (the engine's names filter matches parts of
    # names), with inter-container traffic on: it must not be taken for the hub's.
    decoy = client.networks.create(f"{network}-icc", driver="bridge")
    try:
        config = load_config(write_config(serve_image, tmp_path, network, 8000, "--max-servers", "5"))
        (made,) = networks_named(client, network)
        assert made.attrs["Options"].items() >= NO_ICC.items()
        made.reload()
        gateway = made.attrs["IPAM"]["Config"][0]["Gateway"]
        assert config.JupyterHub.active_server_limit == 5
        assert config.JupyterHub.hub_ip == "127.0.0.1"
        assert config.DockerSpawner.hub_connect_url == f"http://{gateway}:8000"
        assert config.DockerSpawner.network_name == network
        assert config.DockerSpawner.extra_create_kwargs == {"user": "1000"}  # jovyan, pinned
        host = config.DockerSpawner.extra_host_config
        assert host["memswap_limit"] == config.DockerSpawner.mem_limit == "1G"  # no swap
        assert host["cap_drop"] == ["ALL"] and host["pids_limit"] == 1024
    finally:
        decoy.remove()
        for n in networks_named(client, network):
            n.remove()


def test_an_exact_network_that_lets_containers_talk_stops_the_hub(serve_image, tmp_path):
    client = docker.from_env()
    network = f"r2d-test-hubicc-{SESSION}"
    open_network = client.networks.create(network, driver="bridge")  # ICC on: the default
    try:
        with pytest.raises(SystemExit) as stopped:
            load_config(write_config(serve_image, tmp_path, network, 8000))
        assert stopped.value.code == (
            f"jupyterhub_config.py: network {network!r} exists and lets containers reach each "
            "other (not a bridge with com.docker.network.bridge.enable_icc=false); remove it or "
            "choose another with `hub-config --network`")
    finally:
        open_network.remove()


def test_the_hub_does_not_start_for_an_image_docker_runs_as_root(serve_image, tmp_path):
    client = docker.from_env()
    tag = derived_image(client, serve_image, f"r2d-test-hub-user00-{SESSION}", "USER 00")
    network = f"r2d-test-hubroot-{SESSION}"
    config = write_config(tag, tmp_path, network, free_port())
    process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=tmp_path,
                               env=HUB_ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, text=True)
    try:
        out, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=60)
        pytest.fail(f"the hub started for an image whose USER is 00 (root):\n{out[-2000:]}")
    finally:
        client.images.remove(tag, force=True)
        for n in networks_named(client, network):
            n.remove()
    assert process.returncode != 0
    assert out.strip().splitlines()[-1] == (
        f"jupyterhub_config.py: image {tag!r}: USER '00' is root (uid 0) as Docker reads it; "
        "visitor containers never run as root")


# -- the config runs as written: beside another hub, and stopping as it should ----------------

def visit(url: str) -> str:
    """A new temporary user, through the hub's redirects and its spawn-pending page, to the
    desktop's page answering 200; its URL."""
    session = requests.Session()

    def step(state={"url": url + "/"}):
        answer = session.get(state["url"], allow_redirects=False, timeout=60)
        if answer.status_code in (301, 302, 303, 307):
            state["url"] = urljoin(state["url"], answer.headers["Location"])
            return step()
        assert answer.status_code == 200, (state["url"].split("?")[0], answer.status_code)
        return "/desktop/" in state["url"] and state["url"]  # else spawn-pending: ask again
    return wait_for(step, 120, "the hub's temporary user reaching their desktop", 0.5)


def service_processes(process: subprocess.Popen) -> list:
    """The hub's managed services (the idle culler; the pool's, with --pool-size) running now."""
    return [p for p in psutil.Process(process.pid).children(recursive=True)
            if "jupyterhub_idle_culler" in " ".join(p.cmdline()) or "repo2desktop.hub" in p.cmdline()]


# JupyterHub sends a service SIGINT and waits up to this long before SIGTERM (interrupt_timeout):
# services that stop on the first signal take a fraction of it (0.1 s here); one that ignores
# SIGINT all of it (27-30 s: the hub polls with a growing interval).
SERVICE_INTERRUPT_WAIT = 30
LOG_TIME = r"\[\w (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) JupyterHub [^\]]*\] "


def services_stopped_in(log: str) -> float:
    """Seconds the hub's shutdown spent stopping its services (its log says when it began and
    when it went on to the servers)."""
    import datetime as dt

    began = re.search(LOG_TIME + r"Cleaning up \d+ services", log)
    done = re.search(LOG_TIME + r"Cleaning up single-user servers", log)
    assert began and done, log[-2000:]
    return (dt.datetime.fromisoformat(done.group(1)) - dt.datetime.fromisoformat(began.group(1))).total_seconds()


def test_two_hubs_run_as_written_side_by_side_and_stop_with_their_services(serve_image, tmp_path):
    client = docker.from_env()
    hubs = []
    try:
        for side in ("a", "b"):
            network, prefix = f"r2d-test-hub{side}-{SESSION}", f"r2d-test-hub{side}-{SESSION}"
            _, gateway = private_network(client, network)
            port, folder = free_port(), tmp_path / side
            folder.mkdir()
            config = write_config(serve_image, folder, network, port, "--ip", gateway, "--name-prefix", prefix)
            hubs.append((f"http://{gateway}:{port}", network, prefix, start_hub(config, folder / "jupyterhub.log"),
                         folder / "jupyterhub.log"))
        for url, _, _, process, log_path in hubs:
            wait_for_health(process, url, log_path)
        (url_a, network_a, prefix_a, hub_a, _), (url_b, network_b, prefix_b, hub_b, _) = hubs
        # A visitor of B gets a server named and networked as B says; A answers meanwhile.
        desktop = visit(url_b)
        (server,) = _servers(client, prefix_b)
        assert desktop.startswith(url_b + "/user/") and not _servers(client, prefix_a)
        assert list(server.attrs["NetworkSettings"]["Networks"]) == [network_b]
        assert requests.get(f"{url_a}/hub/health", timeout=10).ok
        # SIGTERM ends each hub, its services and its servers (the hubs were started with
        # SIGINT ignored, as a script's background job is).
        for url, network, prefix, process, log_path in hubs:
            services = service_processes(process)
            assert services, f"no idle culler under the hub: {log_path.read_text()[-2000:]}"
            process.send_signal(signal.SIGTERM)
            process.wait(SERVICE_INTERRUPT_WAIT * 2)
            assert [p.pid for p in services if p.is_running()] == []
            assert not _servers(client, prefix)
            assert services_stopped_in(log_path.read_text()) < SERVICE_INTERRUPT_WAIT / 3
    finally:
        for _, network, prefix, process, _ in hubs:
            stop_hub(process)
            remove_hub_leftovers(client, network, prefix)


def test_the_pool_from_hub_config_runs_as_written_and_stops_with_the_hub(serve_image, tmp_path):
    """`hub-config --pool-size 1`, nothing added: the hub starts the pool's service, which
    starts a server before any visitor comes and makes it ready; SIGTERM ends the culler and
    the pool's service on the first signal, and the server."""
    client = docker.from_env()
    network = prefix = f"r2d-test-hubpool1-{SESSION}"
    _, gateway = private_network(client, network)
    port = free_port()
    config = write_config(serve_image, tmp_path, network, port, "--ip", gateway, "--name-prefix", prefix,
                          "--pool-size", "1")
    log_path = tmp_path / "jupyterhub.log"
    process = start_hub(config, log_path)
    try:
        wait_for_health(process, f"http://{gateway}:{port}", log_path)
        wait_for(lambda: _servers(client, prefix), 120, "the pool's service starting a server")
        # Its desktop answering (the service between two rounds, no request of its own open:
        # a start the hub has not answered yet holds the service up to the hub's 10 s).
        wait_for(lambda: "users to group repo2desktop-pool-ready" in log_path.read_text(), 120,
                 "the pool's server ready")
        services = service_processes(process)
        assert sorted("repo2desktop.hub" in p.cmdline() for p in services) == [False, True], \
            [p.cmdline() for p in services]  # the idle culler and the pool's service
        process.send_signal(signal.SIGTERM)
        process.wait(SERVICE_INTERRUPT_WAIT * 2)
        assert [p.pid for p in services if p.is_running()] == []
        assert services_stopped_in(log_path.read_text()) < SERVICE_INTERRUPT_WAIT / 3
    finally:
        stop_hub(process)
        remove_hub_leftovers(client, network, prefix)
