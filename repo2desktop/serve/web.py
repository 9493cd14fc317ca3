"""The HTTP side of `serve`, as tmpnb had it, on tornado's HTTP server.

Public (configurable-http-proxy's default target, so it answers every path no container
route takes): ``/`` and ``/spawn/<path>`` send a visitor into a ready container (token in the
redirect), ``/info`` shows the pool, ``POST /api/spawn/`` and ``GET /api/stats`` are the API.
With API_AUTH_TOKEN set, the API needs ``Authorization: token ...`` and the browser routes are
off. Admin (own port, loopback by default): ``GET``/``DELETE /api/pool``, behind
ADMIN_AUTH_TOKEN when it is set. Missing token: 401; wrong token: 403.

What a client cannot do here: take a desktop with HEAD (link previewers, uptime monitors);
take more than --claims-per-minute desktops per address without the API token (429); keep a
desktop it never received (a claim whose reply cannot be delivered goes back to the pool);
send a body over MAX_BODY (413; the body is read to its end and dropped, so nothing in it is
ever parsed as a request, and the proxy in front gets our answer; one over MAX_DRAINED ends
the connection). Nothing is logged per request: request lines carry tokens.
"""
from __future__ import annotations

import asyncio
import functools
import hmac
import json
import re
import threading
from typing import Optional, Tuple
from urllib.parse import quote

import tornado.httpserver
import tornado.iostream
import tornado.netutil
import tornado.web

from repo2desktop.serve import pages
from repo2desktop.serve.limits import ClaimLimiter, client_key
from repo2desktop.serve.options import ServeOptions
from repo2desktop.serve.pool import Pool, Slot

MAX_BODY = 64 * 1024  # the API reads no body at all; this much is tolerated, more is refused
# Beyond MAX_BODY the body is still read (and dropped) up to this, so that the proxy in front,
# still writing it, relays our 413 instead of a reset; beyond this the connection is closed.
MAX_DRAINED = 1024 * 1024
BODY_TIMEOUT = 30.0  # seconds to send a body
IDLE_TIMEOUT = 120.0  # seconds a kept-alive connection may sit without a request
Headers = Tuple[Tuple[str, str], ...]


def _check_token(header: Optional[str], expected: Optional[str]) -> Optional[int]:
    """None if allowed, else the HTTP status to answer (401 missing, 403 wrong)."""
    if not expected:
        return None
    if not header:
        return 401
    scheme, _, given = header.partition(" ")
    if scheme.lower() not in ("token", "bearer") or not hmac.compare_digest(given.strip().encode(),
                                                                             expected.encode()):
        return 403
    return None


def _log_nothing(handler: tornado.web.RequestHandler) -> None:
    """tornado's access log would print request lines, and those carry tokens."""


def _body_checked(method):
    """The verb METHOD, unless the request's body (read and dropped by now) was over MAX_BODY:
    then 413."""
    @functools.wraps(method)
    async def checked(self, *args):
        if self.body_size > MAX_BODY:
            return self.send_error(413)
        return await method(self, *args)
    return checked


@tornado.web.stream_request_body
class _Base(tornado.web.RequestHandler):
    """Shared by both ports: the body limit, JSON errors, no caching, no ETags."""

    def initialize(self, options: ServeOptions, pool: Pool, limiter: Optional[ClaimLimiter] = None):
        self.serve_options, self.pool, self.limiter = options, pool, limiter
        self.body_size = 0
        self.gone = False

    def set_default_headers(self) -> None:
        self.set_header("Server", "repo2desktop-serve")
        self.set_header("Cache-Control", "no-store")

    def compute_etag(self) -> None:
        return None

    def data_received(self, chunk: bytes) -> None:
        """The body is counted and dropped (the server's max_body_size ends one over
        MAX_DRAINED); _body_checked answers 413 when it was over MAX_BODY."""
        self.body_size += len(chunk)

    def on_connection_close(self) -> None:
        super().on_connection_close()
        self.gone = True

    def write_error(self, status_code: int, **kwargs) -> None:
        if status_code == 413:
            value = {"status": "too large", "message": f"request bodies are limited to {MAX_BODY // 1024} KiB"}
        else:
            value = {"status": self._reason.lower(), "message": self._reason}
        self.send_json(status_code, value)

    def send(self, status: int, body: str, content_type: str = "application/json",
             headers: Headers = ()) -> "asyncio.Future[None]":
        self.set_status(status)
        self.set_header("Content-Type", f"{content_type}; charset=utf-8")
        for k, v in headers:
            self.set_header(k, v)
        return self.finish(body.encode() if body else None)  # 204 must not have even b""

    def send_json(self, status: int, value, headers: Headers = ()) -> "asyncio.Future[None]":
        return self.send(status, json.dumps(value) + "\n", headers=headers)

    def refuse(self, status: int) -> None:
        message = "missing token" if status == 401 else "wrong token"
        self.send_json(status, {"status": "unauthorized" if status == 401 else "forbidden",
                                "message": message},
                       headers=(("WWW-Authenticate", "token"),) if status == 401 else ())

    async def blocking(self, function, *args):
        """FUNCTION (Docker calls) on the loop's worker threads: requests keep being served."""
        return await asyncio.get_running_loop().run_in_executor(None, function, *args)


class PublicHandler(_Base):
    def _cors(self) -> Headers:
        return tuple(self.serve_options.cors.headers().items())

    def _visitor_url(self, slot: Slot, path: str) -> str:
        return f"{slot.base_path}{quote(path, safe='/._~-')}?token={slot.token}"

    def _browser_target(self) -> Optional[str]:
        """The in-container path a browser route sends its visitor to, None if not one."""
        path = self.request.path
        if path == "/":
            return self.serve_options.redirect_uri
        m = re.fullmatch(r"/spawn/?(.*)", path)
        return (m.group(1) or self.serve_options.redirect_uri) if m else None

    @_body_checked
    async def options(self) -> None:  # CORS preflight; tornado names handler methods after verbs
        self.send(204, "", "text/plain", headers=self._cors())

    @_body_checked
    async def get(self) -> None:
        if self.request.path == "/api/stats":
            return self._stats()
        if self.serve_options.api_token:  # tmpnb: with an API token the browser routes are off
            return self.send_json(404, {"status": "not found"})
        target = self._browser_target()
        if target is not None:
            return await self._claim_and_reply(browser_target=target)
        if self.request.path in ("/info", "/info/"):
            return self.send(200, pages.info(self.pool.counts(), self.pool.snapshot(),
                                             list(self.pool.failures), self.serve_options.image), "text/html")
        self.send(404, "<h1>Not found</h1>\n", "text/html")

    @_body_checked
    async def head(self) -> None:
        """Like GET, but never claims: link previewers and uptime monitors probe with HEAD, and
        a HEAD that took a desktop would drain the pool for nobody."""
        if self.request.path == "/api/stats":
            return self._stats()
        if self.serve_options.api_token:
            return self.send_json(404, {"status": "not found"})
        if self._browser_target() is not None or self.request.path in ("/info", "/info/"):
            return self.send(200, "", "text/html")
        self.send(404, "", "text/html")

    @_body_checked
    async def post(self) -> None:
        if self.request.path not in ("/api/spawn", "/api/spawn/"):
            return self.send_json(404, {"status": "not found"})
        denied = _check_token(self.request.headers.get("Authorization"), self.serve_options.api_token)
        if denied:
            return self.refuse(denied)
        await self._claim_and_reply(browser_target=None)

    def _stats(self) -> None:
        denied = _check_token(self.request.headers.get("Authorization"), self.serve_options.api_token)
        if denied:
            return self.refuse(denied)
        counts = self.pool.counts()
        counts["image"] = self.serve_options.image
        self.send_json(200, counts, headers=self._cors())

    async def _claim_and_reply(self, browser_target: Optional[str]) -> None:
        """A desktop for this client: for the API (BROWSER_TARGET None) its URL as JSON, for a
        browser route a redirect into BROWSER_TARGET. Anonymous claims count against the
        client's address; with API_AUTH_TOKEN the caller is a trusted front end spawning for
        many visitors, so it is not capped."""
        key = client_key(self.request.remote_ip, self.request.headers.get("X-Forwarded-For"))
        metered = not self.serve_options.api_token
        if metered and not self.limiter.take(key):
            return self._too_many(key, browser_target is not None)
        slot = await self.blocking(self.pool.claim)
        if slot is None:
            if metered:
                self.limiter.refund(key)
            return self._full(browser_target is not None)
        if not self.gone:
            if browser_target is None:
                reply = self.send_json(200, {"url": self._visitor_url(slot, self.serve_options.redirect_uri),
                                             "token": slot.token}, headers=self._cors())
            else:
                reply = self.send(302, "", "text/plain",
                                  headers=(("Location", self._visitor_url(slot, browser_target)),))
            try:
                await reply
                return
            except tornado.iostream.StreamClosedError:
                pass
        # The client left before the reply (behind the proxy: the proxy dropped our connection
        # when its client went): nobody has this desktop's URL, so it is still a spare.
        if metered:
            self.limiter.refund(key)
        await self.blocking(self.pool.release, slot)

    def _too_many(self, key: str, browser: bool) -> None:
        cap = self.serve_options.claims_per_minute
        wait = self.limiter.retry_after(key)
        retry = (("Retry-After", str(wait)),)
        if browser:
            return self.send(429, pages.too_many(cap, wait), "text/html", headers=retry)
        self.send_json(429, {"status": "rate limited",
                             "message": f"at most {cap} desktops per address per minute; "
                                        f"try again in {wait} s"},
                       headers=self._cors() + retry)

    def _full(self, browser: bool) -> None:
        if browser:
            return self.send(429, pages.no_vacancy(self.pool.counts()), "text/html",
                             headers=(("Retry-After", str(pages.RETRY_SECONDS)),))
        self.send_json(429, {"status": "full"}, headers=self._cors() + (("Retry-After", "3"),))


class AdminHandler(_Base):
    def _allowed(self) -> bool:
        if self.request.path.rstrip("/") != "/api/pool":
            self.send_json(404, {"status": "not found"})
            return False
        denied = _check_token(self.request.headers.get("Authorization"), self.serve_options.admin_token)
        if denied:
            self.refuse(denied)
        return not denied

    @_body_checked
    async def get(self) -> None:
        if not self._allowed():
            return
        slots = [{"id": s.user_id, "state": s.state, "container": s.container_id[:12],
                  "created": s.created, "claimed": s.claimed_at} for s in self.pool.snapshot()]
        self.send_json(200, {"counts": self.pool.counts(), "image": self.serve_options.image,
                             "pool": self.serve_options.pool_name, "containers": slots})

    @_body_checked
    async def delete(self) -> None:
        if not self._allowed():
            return
        self.send_json(200, {"drained": await self.blocking(self.pool.drain)})


class Server:
    """One tornado HTTP server on an event loop of its own thread. The port is bound in the
    constructor, so a taken port fails `serve` at start; shutdown() stops serving (from any
    thread), server_close() frees the loop."""

    def __init__(self, handler: type, ip: str, port: int, options: ServeOptions, pool: Pool):
        limiter = ClaimLimiter(options.claims_per_minute)
        self.app = tornado.web.Application(
            [(r".*", handler, {"options": options, "pool": pool, "limiter": limiter})],
            log_function=_log_nothing)
        self.sockets = tornado.netutil.bind_sockets(port, ip)
        self.loop = asyncio.new_event_loop()
        self.http: Optional[tornado.httpserver.HTTPServer] = None
        started = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(started,), daemon=True,
                                       name=handler.__name__)
        self.thread.start()
        started.wait()

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.http = tornado.httpserver.HTTPServer(
            self.app, max_body_size=MAX_DRAINED, body_timeout=BODY_TIMEOUT,
            idle_connection_timeout=IDLE_TIMEOUT, max_header_size=MAX_BODY)
        self.http.add_sockets(self.sockets)
        started.set()
        self.loop.run_forever()

    def shutdown(self) -> None:
        if not self.thread.is_alive():
            return

        async def stop() -> None:
            self.http.stop()
            await self.http.close_all_connections()
            self.loop.stop()
        asyncio.run_coroutine_threadsafe(stop(), self.loop)
        self.thread.join(10)

    def server_close(self) -> None:
        if not self.thread.is_alive() and not self.loop.is_closed():
            self.loop.close()


def serve_in_thread(handler: type, ip: str, port: int, options: ServeOptions, pool: Pool) -> Server:
    return Server(handler, ip, port, options, pool)
