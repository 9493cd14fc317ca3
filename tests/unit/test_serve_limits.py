"""`repo2desktop serve`'s pure rules against misbehaving clients: whose claim a request is
(X-Forwarded-For only from the proxy, and only its last entry), the per-address cap with a
clock in hand, the option, the page; and which paths a visitor container sandboxes. The
serve tier (tests/serve/test_misbehaving_clients.py) runs them for real."""
from __future__ import annotations

import argparse

import pytest
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

from repo2desktop.cli import main
from repo2desktop.jupyter import shared_origin
from repo2desktop.serve import options, pages
from repo2desktop.serve.limits import WINDOW, ClaimLimiter, client_key


@pytest.mark.parametrize("peer, forwarded, key", [
    ("127.0.0.1", "198.51.100.7", "198.51.100.7"),  # the proxy says who it is
    ("127.0.0.1", "203.0.113.1, 198.51.100.7", "198.51.100.7"),  # the client wrote the first
    ("127.0.0.1", "203.0.113.1,::ffff:198.51.100.7", "198.51.100.7"),  # IPv4 seen by a dual-stack proxy
    ("::1", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),  # IPv6 counted per /64
    ("127.0.0.1", "not-an-address", "127.0.0.1"),
    ("127.0.0.1", None, "127.0.0.1"),
    ("198.51.100.9", "203.0.113.1", "198.51.100.9"),  # not the proxy: the header is not believed
    ("::ffff:127.0.0.1", "198.51.100.7", "198.51.100.7"),
])
def test_client_key(peer, forwarded, key):
    assert client_key(peer, forwarded) == key


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cap_per_address_per_minute_with_refunds():
    clock = Clock()
    limiter = ClaimLimiter(2, clock)
    assert limiter.take("a") and limiter.take("a")
    assert not limiter.take("a")
    assert limiter.take("b")  # another address has its own allowance
    assert limiter.retry_after("a") == 60
    clock.now += 20
    assert limiter.retry_after("a") == 40
    limiter.refund("a")  # a claim that never became a desktop does not count
    assert limiter.take("a") and not limiter.take("a")
    clock.now += WINDOW - 20  # the first claim is a minute old
    assert limiter.take("a")
    assert not limiter.take("a")


def test_no_cap_and_forgetting_old_addresses():
    assert all(ClaimLimiter(0).take("a") for _ in range(1000))
    clock = Clock()
    limiter = ClaimLimiter(1, clock)
    for n in range(100):
        limiter.take(f"10.0.0.{n}")
    clock.now += WINDOW + 1
    limiter.take("10.0.1.1")  # a minute later the others are swept
    assert list(limiter._claims) == ["10.0.1.1"]


def parse(*argv: str) -> options.ServeOptions:
    p = argparse.ArgumentParser()
    options.add_arguments(p)
    return options.from_args(p.parse_args(list(argv)), {})


def test_claims_per_minute_option(capsys):
    assert parse("img").claims_per_minute == 10
    assert parse("img", "--claims-per-minute", "0").claims_per_minute == 0
    assert main(["serve", "img", "--claims-per-minute", "-1"]) == 2
    assert capsys.readouterr().err == (
        "repo2desktop: serve: --claims-per-minute: must be 0 (no cap) or more, got -1\n")


def test_too_many_page_says_how_long_and_does_not_retry_by_itself():
    page = pages.too_many(10, 42)
    assert "Too many desktops" in page and "10 desktops" in page and "42 s" in page
    assert "http-equiv" not in page


def _first_chunk_headers(transform_class, path: str) -> HTTPHeaders:
    request = HTTPServerRequest(start_line=RequestStartLine("GET", path, "HTTP/1.1"),
                                headers=HTTPHeaders({"Host": "x"}))
    _, headers, _ = transform_class(request).transform_first_chunk(
        200, HTTPHeaders({"Content-Type": "text/html"}), b"<p>", True)
    return headers


def test_sandboxed_paths_are_the_proxied_ones_but_the_desktop():
    prefixes = shared_origin.proxied_prefixes("/user/abc/", ["desktop", "notes", "desktop"])
    assert prefixes == ("/user/abc/proxy/", "/user/abc/notes/")
    transform = type("T", (shared_origin.SandboxTransform,), {"prefixes": prefixes})
    for path in ("/user/abc/proxy/9000/x.html", "/user/abc/proxy/absolute/9000/",
                 "/user/abc/proxy/localhost:9000/a", "/user/abc/notes/index.html"):
        policy = _first_chunk_headers(transform, path).get_list("Content-Security-Policy")
        assert policy == [shared_origin.SANDBOX], path
        assert "allow-same-origin" not in policy[0]
    for path in ("/user/abc/desktop/", "/user/abc/lab", "/user/abc/notesX", "/user/abd/proxy/9000/"):
        assert "Content-Security-Policy" not in _first_chunk_headers(transform, path), path
