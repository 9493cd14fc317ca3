"""A pool's containers go to one visitor each and stay theirs: a drain never removes a
container it raced a visitor for, and a second `serve` with the same pool name is refused
instead of adopting (and later removing) the first one's containers.

One serve ("integrity": 2 spares, at most 4) carries the module; it is stopped at the end.
"""
from __future__ import annotations

import concurrent.futures
import os
import signal
import time
from typing import List

import pytest

from repo2desktop.runtime.rfb import GREETING
from repo2desktop.serve.lease import Lease
from tests.polling import wait_for

from .serving import ServeProcess

pytestmark = pytest.mark.serve

# Drain while a visitor asks for a container, once per delay: the DELETE goes this many
# seconds after the first spawn, so some rounds drain before any claim, some in the middle of
# them, some after. The race needs a claim between the drain's look at the spares and its
# removal of them: on the code before the fix the first round already lost a visitor's container.
DRAIN_DELAYS = (0.0, 0.0, 0.005, 0.01, 0.02, 0.05)


@pytest.fixture(scope="module")
def integrity_serve(make_serve) -> ServeProcess:
    serve = make_serve("integrity", "--pool-size", "2", "--max-containers", "4",
                       "--ready-timeout", "90")
    serve.wait_available(2)
    yield serve
    serve.stop()


def _spawn_until(serve: ServeProcess, finished: concurrent.futures.Future) -> List[dict]:
    """POST /api/spawn/ again and again until FINISHED is done (one more after it): the 200
    replies. Every other reply must be 429 (none ready)."""
    granted = []
    while True:
        last = finished.done()
        r = serve.spawn()
        assert r.status_code in (200, 429), (r.status_code, r.text)
        if r.status_code == 200:
            granted.append(r.json())
        if last:
            return granted


def _user_id(url: str) -> str:
    return url.split("/")[2]


def test_a_visitor_never_gets_a_container_that_a_concurrent_drain_removes(integrity_serve):
    serve = integrity_serve
    overlapped = 0
    for round_, delay in enumerate(DRAIN_DELAYS, 1):
        serve.wait_available(2, timeout=120)
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            drain: concurrent.futures.Future = concurrent.futures.Future()
            spawner = ex.submit(_spawn_until, serve, drain)
            time.sleep(delay)
            drain.set_result(serve.admin("DELETE"))
            granted = spawner.result()
        assert drain.result().status_code == 200, drain.result().text
        drained = drain.result().json()["drained"]
        names = {c.name for c in serve.containers()}
        for reply in granted:
            user_id = _user_id(reply["url"])
            assert f"r2d-serve-{serve.pool_name}-{user_id}-claimed" in names, (
                f"round {round_}: {user_id} was handed to a visitor and then removed "
                f"(drained {drained}); log:\n{serve.log()[-1500:]}")
            greeting = serve.desktop_through_proxy(f"/user/{user_id}/", reply["token"])
            assert GREETING.fullmatch(greeting + "\n"), greeting
        print(f"round {round_} (DELETE after {delay * 1000:.0f} ms): drained {drained}, "
              f"{len(granted)} visitors got a container meanwhile")
        overlapped += bool(granted and drained)
        # The visitors leave: their containers go (serve sees them die) and the pool refills.
        for container in serve.containers():
            if container.name.endswith("-claimed"):
                container.remove(force=True)
    # Not vacuous: in some round visitors got containers while the drain removed others.
    assert overlapped, "no round had claims and a drain together"
    wait_for(lambda: serve.stats()["in_use"] == 0, 30, "the visitors' removed containers noticed")


# -- one live serve per pool -------------------------------------------------------------------

def _same_pool(serve: ServeProcess, name: str) -> ServeProcess:
    """A second serve process of SERVE's pool, with its own ports and log."""
    second = ServeProcess(serve.image, name, serve.args, {})
    second.pool_name = serve.pool_name
    return second


def _pool_state(serve: ServeProcess):
    return {c.id: c.name for c in serve.containers()}, set(serve.routes())


def test_a_second_serve_of_the_same_pool_is_refused_and_touches_nothing(integrity_serve):
    serve = integrity_serve
    serve.wait_available(2, timeout=120)
    assert serve.spawn().status_code == 200  # a visitor's session, which must survive
    serve.wait_available(2, timeout=120)
    before = _pool_state(serve)
    code, output = _same_pool(serve, "integrity-second").run_refused()
    assert code == 1, output
    assert (f"serve: pool '{serve.pool_name}' is held by a live serve (pid {serve.process.pid} "
            in output), output
    assert f"docker rm -f r2d-serve-{serve.pool_name}.lease" in output
    assert output.count("\n") == 1, output  # one line, no traceback
    assert _pool_state(serve) == before
    assert serve.stats()["in_use"] == 1 and serve.process.poll() is None


def test_a_lost_lease_is_taken_again_by_its_serve(integrity_serve):
    serve = integrity_serve
    lease = serve.client.containers.get(f"r2d-serve-{serve.pool_name}.lease")
    lease.remove(force=True)
    wait_for(lambda: "was lost and taken again" in serve.log(), 30, "the lease taken again")
    again = serve.client.containers.get(f"r2d-serve-{serve.pool_name}.lease")
    assert again.id != lease.id and again.status == "running"
    assert serve.stats()["available"] >= 1


def test_a_hung_serve_is_taken_over_and_steps_down_without_removing_anything(integrity_serve):
    """`docker rm -f` of the lease of a serve that does not answer (here: SIGSTOP) lets another
    take the pool; when the first one wakes up it finds the pool held and steps down, leaving
    the containers (visitors' sessions included) to the new holder."""
    serve = integrity_serve
    before = {c.id for c in serve.containers()}
    user = serve.containers()[0].attrs["Config"]["User"]
    serve.process.send_signal(signal.SIGSTOP)
    other = Lease(serve.client, serve.pool_name, serve.image, user)  # the other serve, here
    try:
        serve.client.containers.get(f"r2d-serve-{serve.pool_name}.lease").remove(force=True)
        other.acquire(on_lost=lambda: None)
        serve.process.send_signal(signal.SIGCONT)
        assert serve.process.wait(60) == 0
        log = serve.log()
        assert f"pool '{serve.pool_name}' is held by a live serve (pid {os.getpid()} " in log
        assert "serve: stepping down; the containers stay for that serve" in log
        assert {c.id for c in serve.containers()} == before
    finally:
        serve.process.send_signal(signal.SIGCONT)
        other.release()
    serve.start()  # the pool is free again: adopted, sessions kept
    assert {c.id for c in serve.containers()} >= before
    assert serve.stats()["in_use"] == 1


def test_a_killed_serve_frees_its_pool_at_once_for_the_next_to_adopt(integrity_serve):
    serve = integrity_serve
    before = {c.id for c in serve.containers()}
    serve.process.send_signal(signal.SIGKILL)
    serve.process.wait(30)
    serve.start()
    assert {c.id for c in serve.containers()} >= before
    assert serve.stats()["in_use"] == 1
    assert "adopted, in use" in serve.log()
