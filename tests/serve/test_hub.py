"""The JupyterHub path, for real on one machine: `repo2desktop hub-config IMAGE` writes the
config; JupyterHub (from PyPI) with configurable-http-proxy, tmpauthenticator, DockerSpawner
and jupyterhub-idle-culler runs it; a visitor becomes a temporary user, lands in the desktop
(Chromium canvas, RFB through the hub's proxy) served by the page's server extension (no
websockify, no session process), every part of which needs the hub's login; the idle culler
then stops the server."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest
import requests

from repo2desktop.runtime.rfb import GREETING
from repo2desktop.serve.readiness import rfb_greeting
from tests.host.browser import screenshot
from tests.polling import wait_for

from .serving import CHP_LOCAL, LOG_DIR, REPO, SESSION, free_port, open_desktop_page, wait_for_the_xterm

pytestmark = pytest.mark.serve

NETWORK = f"r2d-test-hub-{SESSION}"
NAME_PREFIX = f"r2d-test-hub-{SESSION}-"


@pytest.fixture
def hub(serve_image, tmp_path: Path):
    port, hub_port, api_port = free_port(), free_port(), free_port()
    subprocess.run([sys.executable, "-m", "repo2desktop", "hub-config", serve_image, "--out",
                    str(tmp_path), "--port", str(port), "--network", NETWORK,
                    "--cull-timeout", "10", "--cull-every", "5"], check=True, cwd=REPO)
    config = tmp_path / "jupyterhub_config.py"
    # Only what a shared test machine needs: loopback, free ports, our container names.
    config.write_text(config.read_text() + f"""
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.DockerSpawner.name_template = "{NAME_PREFIX}{{username}}"
""")
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / "jupyterhub.log"
    env = {"PATH": f"{CHP_LOCAL}:{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"}
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)],
                                   cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    client = docker.from_env()
    try:
        def up():
            assert process.poll() is None, log_path.read_text()[-3000:]
            try:
                return requests.get(f"http://127.0.0.1:{port}/hub/health", timeout=3).ok
            except requests.RequestException:
                return False
        wait_for(up, 60, "JupyterHub answering /hub/health")
        yield f"http://127.0.0.1:{port}", client, log_path
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
        for c in client.containers.list(all=True, filters={"name": NAME_PREFIX}):
            c.remove(force=True)
        for n in client.networks.list(names=[NETWORK]):
            n.remove()


def _servers(client):
    return client.containers.list(all=True, filters={"name": NAME_PREFIX})


def test_temporary_user_reaches_the_desktop_and_the_idle_culler_stops_it(hub, chromium):
    url, client, log_path = hub
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
    assert server.attrs["Config"]["User"] not in ("", "root", "0")
    assert "ALL" in server.attrs["HostConfig"]["CapDrop"]
    # --cull-timeout 10 --cull-every 5: the culler stops the idle server; DockerSpawner removes it
    wait_for(lambda: not _servers(client), 90, "idle culler stopping the server", 1)
    assert re.search(r"IdleCuller.*Culling server", log_path.read_text())
