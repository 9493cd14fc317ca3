"""`repo2desktop serve` against clients that are careless or hostile, for real (dockerd,
configurable-http-proxy, the serve image, Chromium): aborted and oversized requests, HEAD
probes, one address taking every spare, and one visitor's web page reading another's files.

One serve ("rough": 2 spares, at most 6, at most 2 claims per address per minute) carries them
all. Its claims come from distinct loopback source addresses (127.0.0.N): configurable-http-proxy
tells serve each one in X-Forwarded-For, so each test has its own per-address allowance.
"""
from __future__ import annotations

import http.client
import json
import socket
import struct
import time
from typing import Dict, Optional, Tuple

import pytest
import requests

from tests.polling import wait_for

from .serving import ServeProcess, open_desktop_page, wait_for_the_xterm

pytestmark = pytest.mark.serve

CLAIMS_PER_MINUTE = 2


@pytest.fixture(scope="module")
def rough(make_serve) -> ServeProcess:
    serve = make_serve("rough", "--pool-size", "2", "--max-containers", "6", "--ready-timeout", "90",
                       "--claims-per-minute", str(CLAIMS_PER_MINUTE))
    serve.wait_available(2)
    return serve


def request_from(serve: ServeProcess, source: str, method: str, path: str,
                 headers: Optional[Dict[str, str]] = None, body: bytes = b""
                 ) -> Tuple[int, http.client.HTTPMessage, bytes]:
    """METHOD PATH at the proxy from the loopback address SOURCE (127.0.0.N): (status,
    headers (names in any case: the proxy lowercases them), body)."""
    conn = http.client.HTTPConnection("127.0.0.1", serve.port, timeout=30, source_address=(source, 0))
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


def claimed_ids(serve: ServeProcess) -> set:
    return {c.id for c in serve.containers() if c.name.endswith("-claimed")}


def wait_until_quiet(serve: ServeProcess, quiet: float = 1.5, timeout: float = 60) -> str:
    """Serve's log once it has not grown for QUIET seconds (whatever the requests set off has
    been handled and logged): the log."""
    last = {"size": -1, "since": time.monotonic()}

    def settled():
        size = len(serve.log())
        if size != last["size"]:
            last["size"], last["since"] = size, time.monotonic()
            return False
        return time.monotonic() - last["since"] >= quiet
    wait_for(settled, timeout, "serve's log quiet", 0.2)
    return serve.log()


def send_and_leave(serve: ServeProcess, data: bytes, reset: bool) -> None:
    """Open a connection to the proxy, send DATA, and go away without reading a reply: with
    RESET a connection reset (as a killed browser tab), else an orderly close."""
    s = socket.create_connection(("127.0.0.1", serve.port), timeout=10)
    try:
        s.sendall(data)
        if reset:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        s.close()


def spawn_request(body: bytes = b"", declared: Optional[int] = None) -> bytes:
    length = len(body) if declared is None else declared
    return (b"POST /api/spawn/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(length).encode() + b"\r\n\r\n" + body)


# -- HEAD ------------------------------------------------------------------------------------

def test_head_requests_answer_without_claiming_a_container(rough):
    """Link previewers and uptime monitors send HEAD: it must never take a desktop."""
    rough.wait_available(2)
    for path in ("/", "/spawn/", "/spawn/desktop", "/spawn/lab"):
        for _ in range(3):
            status, headers, body = request_from(rough, "127.0.0.9", "HEAD", path)
            assert status == 200, (path, status, headers)
            assert "Location" not in headers and body == b""
    assert claimed_ids(rough) == set()
    stats = rough.stats()
    assert (stats["available"], stats["in_use"]) == (2, 0), stats


# -- aborted requests ----------------------------------------------------------------------------

def test_300_spawns_aborted_mid_body_claim_nothing_and_log_no_traceback(rough):
    """Each client declares a body, sends part of it and goes: a short body is the client's
    error; no container is claimed for someone who is gone, and the log does not fill up."""
    rough.wait_available(2)
    before = len(rough.log().splitlines())
    for i in range(300):
        send_and_leave(rough, spawn_request(b'{"partial": ', declared=100), reset=i % 2 == 0)
    log = wait_until_quiet(rough)
    assert claimed_ids(rough) == set()
    stats = rough.stats()
    assert (stats["available"], stats["in_use"]) == (2, 0), stats
    new_lines = log.splitlines()[before:]
    assert "Traceback" not in log
    assert len(new_lines) <= 5, "\n".join(new_lines[:40])


def test_a_spawn_whose_client_left_before_the_reply_goes_back_to_the_pool(rough):
    """Whole requests whose clients are gone before serve answers (the claim renames the
    container on the engine first, which takes a moment): the desktop goes back to the pool."""
    rough.wait_available(2)
    for i in range(20):
        send_and_leave(rough, spawn_request(), reset=i % 2 == 0)
    log = wait_until_quiet(rough)
    assert "Traceback" not in log
    assert claimed_ids(rough) == set(), "containers claimed for clients that had left"
    # Some of them reached serve while it claimed (the proxy forwards before it sees the
    # close), so the way back was taken, not just never needed.
    assert "returned (its visitor left before the reply)" in log
    stats = rough.wait_available(2)
    assert stats["in_use"] == 0, stats


# -- bodies -------------------------------------------------------------------------------------

def test_an_oversized_body_is_refused_and_never_read_as_a_second_request(rough):
    """A body longer than serve accepts, whose tail is a second spawn request: refused as a
    whole; nothing in it is ever parsed as a request of its own (which would claim a
    container and put an unasked-for reply on the proxy's connection)."""
    rough.wait_available(2)
    smuggled = b"POST /api/spawn/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    body = b"x" * (64 * 1024) + smuggled
    status, _, reply = request_from(rough, "127.0.0.5", "POST", "/api/spawn/", body=body,
                                    headers={"Content-Type": "application/octet-stream"})
    assert status == 413, (status, reply[:200])
    wait_until_quiet(rough)
    assert claimed_ids(rough) == set()
    assert rough.stats()["in_use"] == 0
    # A body within the limit is still fine.
    status, _, reply = request_from(rough, "127.0.0.5", "POST", "/api/spawn/", body=b"{}",
                                    headers={"Content-Type": "application/json"})
    assert status == 200, reply
    assert json.loads(reply)["url"].startswith("/user/")
    assert len(claimed_ids(rough)) == 1


# -- one address, every spare ---------------------------------------------------------------

def test_claims_per_address_are_capped_and_a_forged_forwarded_for_does_not_help(rough):
    rough.wait_available(2)
    claimed = claimed_ids(rough)
    for _ in range(CLAIMS_PER_MINUTE):
        status, _, reply = request_from(rough, "127.0.0.2", "POST", "/api/spawn/")
        assert status == 200, reply
    rough.wait_available(1)
    status, headers, reply = request_from(rough, "127.0.0.2", "POST", "/api/spawn/")
    assert status == 429, reply
    answer = json.loads(reply)
    assert answer["status"] == "rate limited" and f"{CLAIMS_PER_MINUTE} desktops" in answer["message"]
    assert 1 <= int(headers["Retry-After"]) <= 60
    # The browser route: the same cap, as a page that says so.
    status, headers, page = request_from(rough, "127.0.0.2", "GET", "/")
    assert status == 429 and "Location" not in headers
    assert b"Too many desktops" in page
    # configurable-http-proxy appends the address it saw; what the client wrote before it
    # is not believed.
    for forged in ("203.0.113.7", "203.0.113.7, 198.51.100.1", "127.0.0.3"):
        status, _, reply = request_from(rough, "127.0.0.2", "POST", "/api/spawn/",
                                        headers={"X-Forwarded-For": forged})
        assert status == 429, (forged, reply)
    assert len(claimed_ids(rough) - claimed) == CLAIMS_PER_MINUTE
    assert rough.stats()["available"] >= 1  # one address did not empty the pool
    # Another address has its own allowance.
    status, _, reply = request_from(rough, "127.0.0.3", "POST", "/api/spawn/")
    assert status == 200, reply


# -- one origin for every visitor ---------------------------------------------------------------

# A visitor's own web page, served through their Jupyter server's /proxy/9000/, that tries to
# read another visitor's files with that visitor's login cookie (same origin, cookie path
# /user/<B>/). Its title says what happened.
THIEF_PAGE = """<!doctype html><title>waiting</title><script>
fetch("/user/%s/api/contents", {credentials: "include"})
  .then(r => r.ok ? r.text().then(t => "READ " + t.slice(0, 80)) : "STATUS " + r.status)
  .catch(e => "BLOCKED " + e)
  .then(s => { document.title = s; });
</script>"""
SERVE_THIEF_PAGE = """
import http.server, os, sys
os.makedirs("/tmp/site", exist_ok=True)
with open("/tmp/site/x.html", "w") as f:
    f.write(sys.argv[1])
os.chdir("/tmp/site")
http.server.ThreadingHTTPServer(("127.0.0.1", 9000), http.server.SimpleHTTPRequestHandler).serve_forever()
"""


def _claim_from(serve: ServeProcess, source: str) -> Tuple[str, str]:
    status, _, reply = request_from(serve, source, "POST", "/api/spawn/")
    assert status == 200, reply
    answer = json.loads(reply)
    return answer["url"].split("/")[2], answer["token"]


def test_a_visitors_proxied_page_cannot_read_another_visitors_server(rough, chromium):
    """Visitor A serves a page through jupyter-server-proxy; visitor B, logged in to their own
    desktop, opens it. The page is sandboxed (an origin of its own), and the login cookies are
    SameSite=Strict: B's files stay B's. B's desktop page itself still works."""
    rough.wait_available(2)
    a_id, a_token = _claim_from(rough, "127.0.0.6")
    b_id, b_token = _claim_from(rough, "127.0.0.6")
    (a,) = [c for c in rough.containers() if c.labels["repo2desktop.serve.user"] == a_id]
    a.exec_run(["python3", "-c", SERVE_THIEF_PAGE, THIEF_PAGE % b_id], detach=True)
    thief = rough.url(f"/user/{a_id}/proxy/9000/x.html?token={a_token}")
    wait_for(lambda: requests.get(thief, timeout=10).status_code == 200, 30, "A's page served")
    policy = requests.get(thief, timeout=10).headers.get("Content-Security-Policy", "")
    assert "sandbox" in policy and "allow-same-origin" not in policy, policy
    desktop = requests.get(rough.url(f"/user/{b_id}/desktop/?token={b_token}"), timeout=30)
    assert desktop.status_code == 200
    assert "sandbox" not in desktop.headers.get("Content-Security-Policy", "")

    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    try:
        page, _ = open_desktop_page(context, rough.url(f"/user/{b_id}/desktop/?token={b_token}"))
        wait_for_the_xterm(page)  # B's desktop works under the new cookies and headers
        cookies = [c for c in context.cookies() if c["path"].startswith(f"/user/{b_id}")]
        assert cookies and all(c["sameSite"] == "Strict" for c in cookies), cookies
        # Control: B's own page reads B's files with that cookie.
        own = page.evaluate(f"""() => fetch("/user/{b_id}/api/contents").then(r => r.status)""")
        assert own == 200
        stolen = context.new_page()
        stolen.goto(thief)
        title = wait_for(lambda: (t := stolen.title()) != "waiting" and t, 30, "the page's fetch settled")
        assert title.startswith("BLOCKED"), f"A's page read B's files: {title}"
    finally:
        context.close()
