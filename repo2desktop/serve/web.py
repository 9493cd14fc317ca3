"""The HTTP side of `serve`, as tmpnb had it.

Public (configurable-http-proxy's default target, so it answers every path no container
route takes): ``/`` and ``/spawn/<path>`` send a visitor into a ready container (token in the
redirect), ``/info`` shows the pool, ``POST /api/spawn/`` and ``GET /api/stats`` are the API.
With API_AUTH_TOKEN set, the API needs ``Authorization: token ...`` and the browser routes are
off. Admin (own port, loopback by default): ``GET``/``DELETE /api/pool``, behind
ADMIN_AUTH_TOKEN when it is set. Missing token: 401; wrong token: 403.
"""
from __future__ import annotations

import hmac
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional, Tuple
from urllib.parse import quote

from repo2desktop.serve import pages
from repo2desktop.serve.options import ServeOptions
from repo2desktop.serve.pool import Pool


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # A burst of visitors must queue, not be refused at the socket.
    request_queue_size = 256


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


class _Base(BaseHTTPRequestHandler):
    server_version = "repo2desktop-serve"
    protocol_version = "HTTP/1.1"
    options: ServeOptions
    pool: Pool

    def log_message(self, format, *args):  # request lines may carry paths; say nothing
        pass

    def send(self, status: int, body: str, content_type: str = "application/json",
             headers: Tuple[Tuple[str, str], ...] = ()) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, status: int, value, headers: Tuple[Tuple[str, str], ...] = ()) -> None:
        self.send(status, json.dumps(value) + "\n", headers=headers)

    def refuse(self, status: int) -> None:
        message = "missing token" if status == 401 else "wrong token"
        self.send_json(status, {"status": "unauthorized" if status == 401 else "forbidden",
                                "message": message},
                       headers=(("WWW-Authenticate", "token"),) if status == 401 else ())

    def read_body(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 1 << 16))


class PublicHandler(_Base):
    def _cors(self) -> Tuple[Tuple[str, str], ...]:
        return tuple(self.options.cors.headers().items())

    def do_OPTIONS(self):
        self.send(204, "", "text/plain", headers=self._cors())

    def _visitor_url(self, slot, path: str) -> str:
        return f"{slot.base_path}{quote(path, safe='/._~-')}?token={slot.token}"

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/api/stats":
            return self._stats()
        if self.options.api_token:  # tmpnb: with an API token the browser routes are off
            return self.send_json(404, {"status": "not found"})
        if path == "/":
            return self._visit(self.options.redirect_uri)
        m = re.fullmatch(r"/spawn/?(.*)", path)
        if m:
            return self._visit(m.group(1) or self.options.redirect_uri)
        if path in ("/info", "/info/"):
            counts = self.pool.counts()
            return self.send(200, pages.info(counts, self.pool.snapshot(), list(self.pool.failures),
                                             self.options.image), "text/html")
        self.send(404, "<h1>Not found</h1>\n", "text/html")

    do_HEAD = do_GET

    def do_POST(self):
        self.read_body()
        path = self.path.split("?", 1)[0]
        if path not in ("/api/spawn", "/api/spawn/"):
            return self.send_json(404, {"status": "not found"})
        denied = _check_token(self.headers.get("Authorization"), self.options.api_token)
        if denied:
            return self.refuse(denied)
        slot = self.pool.claim()
        if slot is None:
            return self.send_json(429, {"status": "full"}, headers=self._cors() + (("Retry-After", "3"),))
        self.send_json(200, {"url": self._visitor_url(slot, self.options.redirect_uri),
                             "token": slot.token}, headers=self._cors())

    def _stats(self):
        denied = _check_token(self.headers.get("Authorization"), self.options.api_token)
        if denied:
            return self.refuse(denied)
        counts = self.pool.counts()
        counts["image"] = self.options.image
        self.send_json(200, counts, headers=self._cors())

    def _visit(self, path: str):
        slot = self.pool.claim()
        if slot is None:
            return self.send(429, pages.no_vacancy(self.pool.counts()), "text/html",
                             headers=(("Retry-After", str(pages.RETRY_SECONDS)),))
        self.send(302, "", "text/plain", headers=(("Location", self._visitor_url(slot, path)),))


class AdminHandler(_Base):
    def _allowed(self) -> bool:
        denied = _check_token(self.headers.get("Authorization"), self.options.admin_token)
        if denied:
            self.refuse(denied)
        return not denied

    def do_GET(self):
        if self.path.split("?", 1)[0].rstrip("/") != "/api/pool":
            return self.send_json(404, {"status": "not found"})
        if not self._allowed():
            return
        slots = [{"id": s.user_id, "state": s.state, "container": s.container_id[:12],
                  "created": s.created, "claimed": s.claimed_at} for s in self.pool.snapshot()]
        self.send_json(200, {"counts": self.pool.counts(), "image": self.options.image,
                             "pool": self.options.pool_name, "containers": slots})

    def do_DELETE(self):
        if self.path.split("?", 1)[0].rstrip("/") != "/api/pool":
            return self.send_json(404, {"status": "not found"})
        if not self._allowed():
            return
        self.send_json(200, {"drained": self.pool.drain()})


def serve_in_thread(handler: type, ip: str, port: int, options: ServeOptions, pool: Pool) -> Server:
    bound = type(handler.__name__, (handler,), {"options": options, "pool": pool})
    server = Server((ip, port), bound)
    threading.Thread(target=server.serve_forever, daemon=True, name=handler.__name__).start()
    return server
