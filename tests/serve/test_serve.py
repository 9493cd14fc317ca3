"""`repo2desktop serve` for real: dockerd, configurable-http-proxy, an image made by
`repo2desktop build`, Chromium. Two serves share the engine, as two tenants would:

- "open" (pool 2, at most 4; ADMIN_AUTH_TOKEN set, public API open as in tmpnb's quick start)
  carries the visitor's path: fill, redirect, browser, kill, restart, drain, burst, full, stop.
- "api" (API_AUTH_TOKEN set, so browser routes are off; short cull timeouts) carries the
  token checks and culling, and shows that two serves leave each other alone.

Tests run in file order and share the two serves (module scope); each says what it leaves.
"""
from __future__ import annotations

import concurrent.futures
import ipaddress
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from repo2desktop.runtime.rfb import GREETING
from repo2desktop.serve.readiness import rfb_greeting
from tests.host.browser import screenshot
from tests.polling import wait_for

from .serving import ServeProcess, open_desktop_page, wait_for_the_xterm

pytestmark = pytest.mark.serve

ADMIN_TOKEN = "admin-" + "a1" * 12
API_TOKEN = "api-" + "b2" * 12


@pytest.fixture(scope="module")
def open_serve(make_serve) -> ServeProcess:
    serve = make_serve("open", "--pool-size", "2", "--max-containers", "4", "--ready-timeout", "90",
                       ADMIN_AUTH_TOKEN=ADMIN_TOKEN)
    serve.wait_available(2)
    return serve


@pytest.fixture(scope="module")
def api_serve(make_serve, open_serve) -> ServeProcess:
    serve = make_serve("api", "--pool-size", "1", "--max-containers", "2",
                       "--cull-timeout", "4", "--cull-period", "1", "--cull-max", "600",
                       API_AUTH_TOKEN=API_TOKEN)
    serve.wait_available(1)
    return serve


def _claimed(serve: ServeProcess):
    return [c for c in serve.containers() if c.name.endswith("-claimed")]


def _base(container) -> str:
    return f"/user/{container.labels['repo2desktop.serve.user']}/"


# -- the pool --------------------------------------------------------------------------------

def test_pool_fills_and_every_pooled_desktop_answers_through_the_proxy(open_serve):
    stats = open_serve.stats()
    assert (stats["available"], stats["in_use"], stats["capacity"]) == (2, 0, 4), stats
    assert stats["image"] == open_serve.image
    containers = open_serve.containers()
    assert len(containers) == 2
    assert set(open_serve.routes()) == {_base(c).rstrip("/") for c in containers}
    for container in containers:
        greeting = open_serve.desktop_through_proxy(_base(container), open_serve.token_of(container))
        assert GREETING.fullmatch(greeting + "\n"), greeting
    # The fixture's desktop.yml says start: lazy; the pool forced eager, so the X server was
    # already running before anyone opened the page.
    assert "REPO2DESKTOP_START=eager" in containers[0].attrs["Config"]["Env"]


def test_visitor_containers_are_confined(open_serve):
    container = open_serve.containers()[0]
    host = container.attrs["HostConfig"]
    assert container.attrs["Config"]["User"] not in ("", "root", "0")
    uids = container.exec_run(["ps", "-eo", "uid=,comm="]).output.decode().split("\n")
    processes = [line.split() for line in uids if line.strip()]
    assert len(processes) > 3 and all(p[0] != "0" for p in processes), processes
    assert host["Memory"] > 0 and host["PidsLimit"] and host["PidsLimit"] > 0
    assert host["CpuQuota"] > 0
    assert host["CapDrop"] and "ALL" in host["CapDrop"] and not host["CapAdd"]
    assert not host["Privileged"] and "no-new-privileges:true" in host["SecurityOpt"]
    mounts = " ".join(m.get("Source", "") for m in container.attrs["Mounts"])
    assert "docker.sock" not in mounts
    network = open_serve.client.networks.get(f"r2d-serve-{open_serve.pool_name}")
    assert network.attrs["Options"]["com.docker.network.bridge.enable_icc"] == "false"


# Run in a visitor's container: connect to HOST:PORT, say "open" or "blocked <why>".
PROBE = ("import socket,sys\n"
         "try:\n socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close(); print('open')\n"
         "except OSError as e: print('blocked', e)\n")


def test_one_visitor_cannot_reach_another_visitors_server(open_serve):
    a, b = open_serve.containers()[:2]
    b_ip = b.attrs["NetworkSettings"]["Networks"][f"r2d-serve-{open_serve.pool_name}"]["IPAddress"]
    own = a.exec_run(["python3", "-c", PROBE, "127.0.0.1", "8888"]).output.decode()
    assert own.startswith("open"), own  # the probe works: A's own server answers
    other = a.exec_run(["python3", "-c", PROBE, b_ip, "8888"]).output.decode()
    assert other.startswith("blocked"), f"{a.name} reached {b.name} at {b_ip}:8888: {other}"


def _host_addresses() -> list:
    """This host's IPv4 addresses outside loopback (a container's 127.0.0.1 is its own)."""
    out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True,
                         check=True).stdout
    found = [line.split()[3].split("/")[0] for line in out.splitlines()]
    return [a for a in found if not ipaddress.ip_address(a).is_loopback]


def test_visitors_cannot_reach_services_listening_on_the_host(open_serve):
    """A service of this host on all interfaces (here the test's own listener, bound to
    0.0.0.0) is not reachable from a visitor's container, neither at the network's gateway nor
    at any other address of the host; the desktops still answer through the proxy."""
    network = open_serve.client.networks.get(f"r2d-serve-{open_serve.pool_name}")
    gateway = network.attrs["IPAM"]["Config"][0]["Gateway"]
    container = open_serve.containers()[0]
    with socket.socket() as listener:
        listener.bind(("0.0.0.0", 0))
        listener.listen()
        port = listener.getsockname()[1]
        addresses = [gateway] + [a for a in _host_addresses() if a != gateway]
        for address in addresses:  # the listener answers there (from the host itself)
            socket.create_connection((address, port), timeout=3).close()
        with concurrent.futures.ThreadPoolExecutor(len(addresses)) as ex:  # 3 s each when blocked
            replies = ex.map(lambda a: container.exec_run(["python3", "-c", PROBE, a, str(port)]),
                             addresses)
            for address, reply in zip(addresses, replies):
                assert reply.output.decode().startswith("blocked"), (
                    f"{container.name} reached the host's {address}:{port}: {reply.output!r}")
    bridge = network.attrs["Options"]["com.docker.network.bridge.name"]
    rules = subprocess.run(["iptables", "-S", "INPUT"], capture_output=True, text=True,
                           check=True).stdout
    tag = f'-m comment --comment "r2d-serve:{open_serve.pool_name}"'
    assert (f"-A INPUT -i {bridge} -m conntrack --ctstate RELATED,ESTABLISHED {tag} -j ACCEPT\n"
            f"-A INPUT -i {bridge} {tag} -j DROP\n") in rules, rules  # in this order
    for container in open_serve.containers():
        greeting = open_serve.desktop_through_proxy(_base(container), open_serve.token_of(container))
        assert GREETING.fullmatch(greeting + "\n"), greeting


def test_tokens_guard_each_container_the_proxy_api_and_the_admin_api(open_serve):
    container = open_serve.containers()[0]
    base, token = _base(container), open_serve.token_of(container)
    for headers in ({}, {"Authorization": "token wrong"}):
        r = requests.get(open_serve.url(f"{base}api/status"), headers=headers, timeout=10,
                         allow_redirects=False)
        assert r.status_code in (401, 403), (headers, r.status_code)
        with pytest.raises(ConnectionError, match="refused"):
            rfb_greeting(open_serve.url(f"{base}desktop/websockify"), headers)
    # another container's token does not open this one
    other = open_serve.token_of(open_serve.containers()[1])
    r = requests.get(open_serve.url(f"{base}api/status"), headers={"Authorization": f"token {other}"},
                     timeout=10)
    assert r.status_code == 403
    assert requests.get(open_serve.url(f"{base}api/status"), timeout=10,
                        headers={"Authorization": f"token {token}"}).status_code == 200
    api = f"http://127.0.0.1:{open_serve.api_port}/api/routes"
    assert requests.get(api, timeout=10).status_code in (401, 403)
    assert requests.get(api, headers={"Authorization": "token wrong"}, timeout=10).status_code in (401, 403)
    admin = f"http://127.0.0.1:{open_serve.admin_port}/api/pool"
    for method in ("GET", "DELETE"):
        assert requests.request(method, admin, timeout=10).status_code == 401
        assert requests.request(method, admin, headers={"Authorization": "token wrong"},
                                timeout=10).status_code == 403
    assert open_serve.stats()["available"] == 2  # nothing was drained by the refused DELETEs


def test_tokens_never_reach_the_log(open_serve):
    """The proxy logs a request it cannot forward (CHP 5.3 logs the path; serve would strip a
    token from anything it logs); no visitor's token appears."""
    api = f"http://127.0.0.1:{open_serve.api_port}/api/routes/user/deadend"
    auth = {"Authorization": f"token {open_serve.proxy_token}"}
    assert requests.post(api, json={"target": "http://127.0.0.1:9"}, headers=auth, timeout=10).status_code == 201
    secret = "f00d" * 12
    try:
        r = requests.get(open_serve.url(f"/user/deadend/desktop/?token={secret}"), timeout=10)
        assert r.status_code in (502, 503)
        wait_for(lambda: "503 GET /user/deadend/desktop/" in open_serve.log(), 10, "the proxy's error line")
    finally:
        requests.delete(api, headers=auth, timeout=10)
    log = open_serve.log()
    assert secret not in log
    for container in open_serve.containers():
        assert open_serve.token_of(container) not in log


def test_a_serve_that_cannot_close_its_network_to_the_host_stops_with_the_way_out(serve_image, serves):
    """Without the capability iptables needs (root without CAP_NET_ADMIN here; a user
    without root elsewhere), serve refuses to start in one line naming --allow-host-access and
    leaves nothing; with --allow-host-access it starts and says what that means."""
    no_net_admin = ["setpriv", "--bounding-set", "-net_admin", "--inh-caps", "-net_admin"]
    refused = ServeProcess(serve_image, "no-firewall", [], {})
    refused.wrapper = no_net_admin
    serves.append(refused)
    code, output = refused.run_refused()
    assert code == 1, output
    assert re.fullmatch(r"repo2desktop: serve: \S*iptables -w 10 -\S INPUT.*: .*Permission denied.* "
                        r"\(closing the pool's network to this host needs root; --allow-host-access "
                        r"runs without it, letting visitors reach services listening on this host\)\n",
                        output), output
    assert refused.containers() == []
    assert refused.client.containers.list(all=True, filters={"name": refused.pool_name}) == []
    assert refused.client.networks.list(filters={"label": f"repo2desktop.serve.pool={refused.pool_name}"}) == []
    opted_out = ServeProcess(serve_image, "allow-host-access", ["--pool-size", "1", "--max-containers", "1",
                                                                 "--allow-host-access"], {})
    opted_out.wrapper = no_net_admin
    serves.append(opted_out)
    opted_out.start()
    assert ("serve: --allow-host-access: visitors can reach services listening on this host"
            in opted_out.log())
    assert opted_out.signal(signal.SIGTERM) == 0


# -- a visitor -------------------------------------------------------------------------------

def test_root_redirects_into_a_ready_desktop_and_chromium_shows_it(open_serve, chromium):
    r = requests.get(open_serve.url("/"), allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.text
    location = r.headers["Location"]
    assert re.fullmatch(r"/user/[a-z0-9]{12}/desktop/\?token=[0-9a-f]{48}", location), location
    # The claim starts a replacement at once; let it come up first (see open_desktop_page).
    wait_for(lambda: len(open_serve.containers(all=False)) == 3, 60, "replacement container running")
    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    try:
        page, seconds = open_desktop_page(context, open_serve.url(location))
        print(f"\n/ -> desktop canvas in {seconds:.2f} s")
        try:
            wait_for_the_xterm(page)
        finally:
            screenshot(page, "serve-visitor-desktop.png")
    finally:
        context.close()
    # The claimed container is replaced: two spares again, one in use.
    stats = open_serve.wait_available(2, timeout=90)
    assert stats["in_use"] == 1


def test_redirect_paths_lab_and_tree(open_serve):
    r = requests.get(open_serve.url("/spawn/tree"), allow_redirects=False, timeout=30)
    assert r.status_code == 302 and "/tree?token=" in r.headers["Location"]
    page = requests.get(open_serve.url(r.headers["Location"]), timeout=30)
    assert page.status_code == 200 and "<title>Home" in page.text or "jupyter" in page.text.lower()
    base = r.headers["Location"].split("tree?")[0]
    token = r.headers["Location"].rsplit("=", 1)[1]
    lab = requests.get(open_serve.url(f"{base}lab"), headers={"Authorization": f"token {token}"},
                       timeout=30)
    assert lab.status_code == 200 and "JupyterLab" in lab.text


def test_a_killed_container_is_noticed_and_replaced_within_10_s(open_serve):
    """One in use (its visitor's session ends: route and container go) and one spare (a new
    spare starts): both seen from the engine's event stream, not a periodic sweep."""
    open_serve.wait_available(2, timeout=90)
    in_use = _claimed(open_serve)[0]
    spare = next(c for c in open_serve.containers() if not c.name.endswith("-claimed"))
    routes = {_base(c).rstrip("/") for c in (in_use, spare)}
    assert routes <= set(open_serve.routes())
    before = {c.id for c in open_serve.containers()}
    in_use.kill()
    spare.kill()
    killed = time.monotonic()
    wait_for(lambda: not routes & set(open_serve.routes()), 10, "routes of the killed containers removed")
    wait_for(lambda: not {in_use.id, spare.id} & (ids := {c.id for c in open_serve.containers()}) and ids - before,
             10, "killed containers removed and a new spare started")
    assert time.monotonic() - killed < 10
    log = open_serve.log()
    assert "died while claimed" in log and "died while ready" in log
    stats = open_serve.wait_available(2, timeout=90)
    assert stats["in_use"] == 1


# -- the second serve: API token, culling, neighbours -----------------------------------------

def test_api_token_guards_the_api_and_turns_browser_routes_off(api_serve):
    for path in ("/api/stats",):
        assert requests.get(api_serve.url(path), timeout=10).status_code == 401
        assert requests.get(api_serve.url(path), headers={"Authorization": "token no"},
                            timeout=10).status_code == 403
    assert requests.post(api_serve.url("/api/spawn/"), timeout=10).status_code == 401
    assert requests.post(api_serve.url("/api/spawn/"), headers={"Authorization": "token no"},
                         timeout=10).status_code == 403
    for path in ("/", "/info", "/spawn/desktop"):
        assert requests.get(api_serve.url(path), timeout=10, allow_redirects=False).status_code == 404
    assert api_serve.stats()["available"] == 1  # nothing was claimed by the refused requests


def test_idle_claimed_container_is_culled_and_the_pool_refills(api_serve):
    r = api_serve.spawn()
    assert r.status_code == 200, r.text
    url = r.json()["url"]
    assert url.endswith("/desktop/?token=" + r.json()["token"])
    route = url.split("/desktop/")[0]
    assert route in api_serve.routes()
    wait_for(lambda: route not in api_serve.routes() and api_serve.stats()["in_use"] == 0, 20,
             "idle container culled (--cull-timeout 4, --cull-period 1)")
    assert re.search(r"removed \(culled: idle for \d+ s\)", api_serve.log())
    api_serve.wait_available(1, timeout=90)


def test_a_container_that_never_gets_ready_is_removed_logged_and_never_handed_out(make_serve):
    """A command whose Jupyter never answers: after --ready-timeout it is removed, the log shows
    the failure with the tail of the container's log, a new one is tried (with back-off), and
    no visitor ever gets it."""
    broken = make_serve("broken", "--pool-size", "1", "--max-containers", "1", "--ready-timeout", "3",
                        "--command", "bash -c 'echo this-server-never-answers; exec sleep 600'")
    wait_for(lambda: "FAILED" in broken.log(), 60, "a readiness failure logged", 0.5)
    log = broken.log()
    assert re.search(r"pool: FAILED \w+: not ready within 3 s \(last: .+\); removed", log), log
    assert "| this-server-never-answers" in log  # the tail of the container's own log
    r = broken.spawn()
    assert r.status_code == 429 and r.json() == {"status": "full"}
    assert broken.stats()["failed"] >= 1 and broken.stats()["available"] == 0
    assert requests.get(broken.url("/"), allow_redirects=False, timeout=10).status_code == 429
    assert broken.routes() == {}  # never routed
    assert broken.signal(signal.SIGTERM) == 0
    assert broken.containers() == []


def test_the_proxy_is_supervised_and_gets_its_routes_back(open_serve):
    """configurable-http-proxy killed: serve restarts it and re-creates every route."""
    routes = set(open_serve.routes())
    claimed = _claimed(open_serve)[0]
    pid = open_serve.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    (chp,) = [c for c in children if b"configurable-http-proxy" in Path(f"/proc/{c}/cmdline").read_bytes()]
    os.kill(int(chp), signal.SIGKILL)

    def back():
        try:
            return set(open_serve.routes()) == routes
        except (requests.RequestException, AssertionError):
            return False
    wait_for(back, 30, "proxy restarted with every route", 0.5)
    assert "proxy: configurable-http-proxy exited" in open_serve.log()
    assert GREETING.fullmatch(open_serve.desktop_through_proxy(
        _base(claimed), open_serve.token_of(claimed)) + "\n")


def test_two_serves_on_one_engine_leave_each_other_alone(open_serve, api_serve):
    open_ids = {c.id for c in open_serve.containers()}
    open_stats = open_serve.stats()
    api_ids = {c.id for c in api_serve.containers()}
    assert open_ids and api_ids and not open_ids & api_ids
    assert api_serve.signal(signal.SIGTERM) == 0
    assert api_serve.containers() == []
    assert {c.id for c in open_serve.containers()} >= {i for i in open_ids if i}
    after = open_serve.stats()
    assert (after["available"], after["in_use"]) == (open_stats["available"], open_stats["in_use"])


# -- restart, drain, burst, full, stop ----------------------------------------------------------

def test_restart_adopts_containers_and_keeps_claimed_sessions(open_serve):
    open_serve.wait_available(2, timeout=90)
    r = open_serve.spawn()
    assert r.status_code == 200
    url = r.json()["url"]
    base, token = url.split("desktop/")[0], r.json()["token"]
    # The claim makes the filler start a replacement: let the pool settle first, or the
    # snapshot may miss the container that is still being created.
    open_serve.wait_available(2, timeout=90)
    before = {c.id for c in open_serve.containers()}
    in_use = open_serve.stats()["in_use"]
    assert open_serve.signal(signal.SIGHUP) == 0  # exit, leaving the pool for the next serve
    assert {c.id for c in open_serve.containers()} == before
    open_serve.start()
    greeting = open_serve.desktop_through_proxy(base, token)
    assert GREETING.fullmatch(greeting + "\n")
    stats = open_serve.wait_available(2, timeout=90)
    assert stats["in_use"] == in_use
    assert {c.id for c in open_serve.containers()} >= before  # adopted, not replaced


def test_drain_removes_spares_only_and_refills(open_serve):
    open_serve.wait_available(2, timeout=90)
    claimed = {c.id for c in _claimed(open_serve)}
    spares = {c.id for c in open_serve.containers()} - claimed
    r = open_serve.admin("DELETE")
    assert r.status_code == 200 and r.json()["drained"] == len(spares)
    remaining = {c.id for c in open_serve.containers()}
    assert claimed <= remaining and not spares & remaining
    pool = open_serve.admin().json()
    assert pool["counts"]["in_use"] == len(claimed)


def test_burst_of_50_spawns_gets_only_200_or_429_and_the_pool_stays_consistent(open_serve):
    open_serve.wait_available(1, timeout=90)
    with concurrent.futures.ThreadPoolExecutor(50) as ex:
        codes = list(ex.map(lambda _: open_serve.spawn().status_code, range(50)))
    assert set(codes) <= {200, 429}, codes
    assert 200 in codes and 429 in codes
    wait_for(lambda: open_serve.stats()["starting"] == 0, 90, "no container still starting", 0.5)
    stats, containers, routes = open_serve.stats(), open_serve.containers(), open_serve.routes()
    assert stats["available"] + stats["in_use"] == len(containers) <= stats["capacity"]
    assert len(routes) == len(containers)  # every container routed, no orphan route
    assert {_base(c).rstrip("/") for c in containers} == set(routes)
    assert len(_claimed(open_serve)) == stats["in_use"]


def test_beyond_capacity_gets_429_and_the_no_vacancy_page(open_serve):
    while open_serve.stats()["available"]:
        assert open_serve.spawn().status_code == 200
    assert open_serve.stats()["in_use"] == 4
    r = open_serve.spawn()
    assert r.status_code == 429 and r.json() == {"status": "full"}
    page = requests.get(open_serve.url("/"), allow_redirects=False, timeout=10)
    assert page.status_code == 429 and "No vacancy" in page.text
    refresh = re.search(r'http-equiv="refresh" content="(\d+)', page.text)
    assert refresh and int(refresh.group(1)) <= 5
    info = requests.get(open_serve.url("/info"), timeout=10)
    assert info.status_code == 200 and re.search(r'id="in-use">4<', info.text)
    assert 'http-equiv="refresh"' in info.text


def test_stop_leaves_no_container_network_or_route(open_serve):
    network = f"r2d-serve-{open_serve.pool_name}"
    assert open_serve.routes()
    assert open_serve.signal(signal.SIGTERM) == 0
    assert open_serve.containers() == []
    assert open_serve.client.networks.list(names=[network]) == []
    rules = subprocess.run(["iptables", "-S", "INPUT"], capture_output=True, text=True,
                           check=True).stdout
    assert f"r2d-serve:{open_serve.pool_name}" not in rules, rules
    with pytest.raises(requests.ConnectionError):  # the proxy, with its routes, is gone
        requests.get(f"http://127.0.0.1:{open_serve.api_port}/api/routes", timeout=5)
    with pytest.raises(requests.ConnectionError):
        requests.get(open_serve.url("/"), timeout=5)
    log = open_serve.log()
    assert "serve: stopped; removed" in log
    assert not re.search(r"token=[0-9a-f]{48}", log)
