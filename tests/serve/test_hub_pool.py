"""The pre-started pool for JupyterHub (repo2desktop/hub/), for real: JupyterHub from PyPI,
configurable-http-proxy, DockerSpawner, the pool service and its authenticator, the serve
tier's image. Visitors get servers the pool started before they came (the hub's own
`started` times, and no spawn-pending page), beyond the hub's limit a clear 429, the idle
culler ends what visitors left and the pool starts new ones, and neither a restarted hub nor
a restarted pool service hands a server out twice."""
from __future__ import annotations

import os
import re
import signal
import sys
from datetime import datetime, timezone
from pathlib import Path

import docker
import pytest

from repo2desktop.hub import poolconfig
from repo2desktop.hub.authenticator import NO_VACANCY
from repo2desktop.serve.docker_adapter import NO_ICC
from tests.polling import wait_for

from .pooled_hub import PooledHub, visit
from .serving import CHP_LOCAL, LOG_DIR, SESSION, free_port, open_desktop_page, wait_for_the_xterm

pytestmark = pytest.mark.serve

HUB_PATH = f"{CHP_LOCAL}:{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def make_pooled_hub(serve_image, tmp_path: Path):
    client = docker.from_env()
    made = []

    def make(name: str, pool_size: int, extra: str, cull: tuple) -> PooledHub:
        network_name = f"r2d-test-{name}-{SESSION}"
        network = client.networks.create(network_name, driver="bridge", options=NO_ICC)
        network.reload()
        gateway = network.attrs["IPAM"]["Config"][0]["Gateway"]
        prefix = f"r2d-test-{name}-{SESSION}-"
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log_path = LOG_DIR / f"jupyterhub-{name}.log"
        log_path.write_text("")
        hub = PooledHub(serve_image, tmp_path / name, network_name, gateway, prefix, pool_size,
                        free_port(), free_port(), free_port(), HUB_PATH, extra, cull, log_path)
        made.append((hub, prefix, network_name))
        return hub.start()

    try:
        yield make
    finally:
        for hub, prefix, network_name in made:
            hub.stop()
            for c in client.containers.list(all=True, filters={"name": prefix}):
                c.remove(force=True)
            for n in client.networks.list(names=[network_name]):
                if n.name == network_name:
                    n.remove()


def _ready_pool(hub: PooledHub, size: int, timeout: float = 150) -> list:
    return wait_for(lambda: len(r := hub.ready_users()) >= size and r, timeout,
                    f"{size} pre-started servers in the pool's ready group", 0.5)


def _pooled_visit(hub: PooledHub, ready_before: list) -> str:
    """A visitor who must land on a pre-started, READY desktop: their user's name."""
    began = datetime.now(timezone.utc)
    v = visit(hub.url)
    assert v["status"] == 200, (v["status"], v.get("url"), v["text"][:500])
    user = v["base"].split("/user/", 1)[1].split("/", 1)[0]
    assert user in ready_before and not v["spawn_pending"], (user, ready_before)
    # The hub's own record: the server started before the visitor came.
    server = hub.user(user)["servers"][""]
    assert server["ready"] and _time(server["started"]) < began, (server, began)
    status = v["session"].get(v["base"] + "session.json", timeout=30).json()
    assert status["state"] == "ready", status
    return user


def test_visitors_get_pre_started_desktops_then_no_vacancy_and_culled_servers_are_replaced(
        make_pooled_hub, chromium):
    # A pool of 2 on a hub of at most 2 servers; the culler ends servers idle for 30 s.
    hub = make_pooled_hub("hubpool", 2, "c.JupyterHub.active_server_limit = 2\n",
                          ("--cull-timeout", "30", "--cull-every", "5"))
    ready = _ready_pool(hub, 2)
    # The first visitor in Chromium: the hub's URL -> a desktop showing its autostarted app.
    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    try:
        began = datetime.now(timezone.utc)
        page = context.new_page()
        page.goto(hub.url + "/", timeout=60000)
        page.wait_for_url("**/user/*/desktop/**", timeout=60000)
        first = page.url.split("/user/", 1)[1].split("/", 1)[0]
        assert first in ready, (first, ready)
        assert _time(hub.user(first)["servers"][""]["started"]) < began
        page.close()
        page, _ = open_desktop_page(context, f"{hub.url}/user/{first}/desktop/")
        wait_for_the_xterm(page)
    finally:
        context.close()  # no browser open from here on: the server is left idle
    second = _pooled_visit(hub, ready)
    assert second != first
    # Both servers handed out and the hub at its limit: the pool cannot start another, and
    # a third visitor is told so at once (no temporary user, no spawn that would fail).
    third = visit(hub.url)
    assert third["status"] == 429 and NO_VACANCY.format(limit=2) in third["text"], third["status"]
    assert set(hub.group(poolconfig.CLAIMED_GROUP)) == {first, second}
    # The culler stops and deletes the two idle, handed-out servers; the pool starts two new.
    wait_for(lambda: not ({first, second} & set(hub.group(poolconfig.POOL_GROUP))), 120,
             "the idle culler ending both visitors' servers", 1)
    refilled = _ready_pool(hub, 2)
    assert not {first, second} & set(refilled)
    log = hub.log()
    assert re.search(rf"IdleCuller.*Culling server {first}", log), log[-3000:]
    # The pool's waiting servers were kept from the culler: none of them was culled.
    assert not [u for u in refilled if re.search(rf"Culling server {u}", log)]


def test_restarting_the_hub_or_the_pool_service_hands_nothing_out_twice(make_pooled_hub):
    # Servers outlive the hub here (as in zero-to-jupyterhub): a restarted hub finds the pool's
    # servers running and must still know which were handed out.
    hub = make_pooled_hub("hubpoolre", 2, "c.JupyterHub.active_server_limit = 4\n"
                          "c.JupyterHub.cleanup_servers = False\n", ("--cull-timeout", "3600"))
    ready = _ready_pool(hub, 2)
    given = [_pooled_visit(hub, ready)]
    hub.stop()
    hub.start()
    assert hub.user(given[0])["servers"][""]["ready"]  # still running: only the groups tell
    ready = _ready_pool(hub, 2)
    assert given[0] not in ready
    given.append(_pooled_visit(hub, ready))
    # The pool service killed mid-work: the hub starts it again, it reads the groups again.
    pid = hub.pool_service_pid()
    assert pid, "the pool service is not a child of the hub"
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: (p := hub.pool_service_pid()) and p != pid, 60,
             "the hub restarting its pool service", 0.5)
    ready = _ready_pool(hub, 2)
    assert not set(given) & set(ready)
    given.append(_pooled_visit(hub, ready))
    assert len(set(given)) == 3 and set(hub.group(poolconfig.CLAIMED_GROUP)) == set(given)
    assert "Service repo2desktop-pool exited" in hub.log()
