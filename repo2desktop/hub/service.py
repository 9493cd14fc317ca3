"""The pool service: every INTERVAL seconds, read the pool's users from the hub's REST API,
plan (plan.py) and carry the steps out through the same API. Nothing is kept in this
process that a restart would need: the hub's groups hold the state (poolconfig.py).

Only the hub's API is used (JUPYTERHUB_API_URL, JUPYTERHUB_API_TOKEN as the hub gives any
managed service), so the spawner may be DockerSpawner, KubeSpawner or any other.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Dict, List, Optional
from urllib.parse import quote

import requests

from repo2desktop.hub.plan import Steps, new_user_name, plan
from repo2desktop.hub.poolconfig import POOL_GROUP, READY_GROUP

log = logging.getLogger("repo2desktop.hub")
# The desktop's own answer: the page's status (repo2desktop/jupyter/page.py).
SESSION_PATH = "desktop/session.json"
TOKEN_SECONDS = 300  # a starting user's token, only for asking its desktop
START_THREADS = 8
FULL_BACKOFF = 3  # rounds without a start after the hub answered 429 (its server limit)


class HubError(RuntimeError):
    pass


class HubAPI:
    """The few calls of the hub's REST API the pool makes."""

    def __init__(self, api_url: str, token: str, timeout: float = 30):
        self.api = api_url.rstrip("/")
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"token {token}"
        self.timeout = timeout

    def call(self, method: str, path: str, ok=(200, 201, 202, 204), **kwargs) -> requests.Response:
        answer = self.http.request(method, self.api + path, timeout=self.timeout, **kwargs)
        if answer.status_code not in ok:
            raise HubError(f"{method} {path}: HTTP {answer.status_code} {answer.text[:200]}")
        return answer

    def group_members(self, group: str) -> List[str]:
        return self.call("GET", f"/groups/{quote(group)}").json()["users"]

    def user(self, name: str) -> Optional[Dict]:
        answer = self.call("GET", f"/users/{quote(name)}", ok=(200, 404))
        return answer.json() if answer.status_code == 200 else None

    def create_user(self, name: str) -> None:
        self.call("POST", f"/users/{quote(name)}")
        self.call("POST", f"/groups/{quote(POOL_GROUP)}/users", json={"users": [name]})

    def start(self, name: str) -> bool:
        """Ask for NAME's server; False when the hub is at its active_server_limit."""
        answer = self.call("POST", f"/users/{quote(name)}/server", ok=(201, 202, 400, 429))
        if answer.status_code == 400 and "already" in answer.text:
            return True
        if answer.status_code == 400:
            raise HubError(f"POST /users/{name}/server: HTTP 400 {answer.text[:200]}")
        return answer.status_code != 429

    def delete_user(self, name: str) -> None:
        self.call("DELETE", f"/users/{quote(name)}", ok=(204, 404))

    def mark_active(self, names: List[str], now: datetime) -> None:
        stamp = now.isoformat().replace("+00:00", "Z")
        for name in names:
            # 400: a server that stopped meanwhile (retired in the next round)
            self.call("POST", f"/users/{quote(name)}/activity", ok=(200, 204, 400, 404),
                      json={"servers": {"": {"last_activity": stamp}}})

    def user_token(self, name: str) -> Dict:
        return self.call("POST", f"/users/{quote(name)}/tokens", json={
            "scopes": [f"access:servers!user={name}"], "expires_in": TOKEN_SECONDS,
            "note": "repo2desktop pool: is the desktop ready"}).json()

    def delete_token(self, name: str, token_id: str) -> None:
        self.call("DELETE", f"/users/{quote(name)}/tokens/{quote(token_id)}", ok=(204, 404))

    def add_ready(self, name: str) -> None:
        self.call("POST", f"/groups/{quote(READY_GROUP)}/users", json={"users": [name]})


class Pool:
    def __init__(self, hub: HubAPI, pool_size: int, public_url: Optional[str],
                 interval: float = 2.0):
        self.hub, self.size, self.interval = hub, pool_size, interval
        self.full_until = 0.0  # monotonic time until which the hub is taken to be full
        self.public_url = public_url.rstrip("/") if public_url else None
        self.tokens: Dict[str, Dict] = {}  # starting user -> its short-lived token

    def models(self) -> List[Dict]:
        return [m for m in (self.hub.user(n) for n in self.hub.group_members(POOL_GROUP)) if m]

    def desktop_ready(self, model: Dict) -> bool:
        """Whether the user's desktop says READY (asked with the user's own short-lived
        token through the hub's proxy); without a public URL, the hub's word is enough."""
        if not self.public_url:
            return True
        name = model["name"]
        if name not in self.tokens:
            self.tokens[name] = self.hub.user_token(name)
        url = self.public_url + model["servers"][""]["url"] + SESSION_PATH
        try:
            answer = requests.get(url, timeout=10, allow_redirects=False,
                                  headers={"Authorization": f"token {self.tokens[name]['token']}"})
            return answer.status_code == 200 and answer.json().get("state") == "ready"
        except (requests.RequestException, ValueError) as e:
            log.info("%s: desktop not answering yet (%s)", name, type(e).__name__)
            return False

    def step(self, now: Optional[datetime] = None) -> Steps:
        now = now or datetime.now(timezone.utc)
        models = {m["name"]: m for m in self.models()}
        steps = plan(list(models.values()), self.size, now)
        for name in steps.retire:
            log.info("%s: retired (its server stopped or never became ready)", name)
            self.forget_token(name)
            self.hub.delete_user(name)
        self.hub.mark_active(steps.keep_active, now)
        for name in steps.check:
            if self.desktop_ready(models[name]):
                self.forget_token(name)
                self.hub.add_ready(name)  # from here on the authenticator may hand it out
                log.info("%s: ready", name)
        if time.monotonic() < self.full_until:
            return steps  # the hub said it is full a moment ago: ask again later, not each round
        names = steps.start + [self.create() for _ in range(steps.create)]
        # At once: the hub answers a start when the server is up or after its
        # slow_spawn_timeout, and twenty visitors should not wait for twenty starts in a row.
        with ThreadPoolExecutor(max_workers=max(1, min(len(names), START_THREADS))) as starts:
            started = dict(zip(names, starts.map(self.hub.start, names)))
        if started and not all(started.values()):
            # Those kept as starting users without a server: their start is asked again
            # (retired after plan.START_TIMEOUT), so a full hub costs one request a few rounds.
            if not self.full_until:
                log.info("the hub is at its server limit: the pool waits for a free place")
            self.full_until = time.monotonic() + FULL_BACKOFF * self.interval
        elif started:
            self.full_until = 0.0
        for name in (n for n, ok in started.items() if ok):
            log.info("%s: started", name)
        return steps

    def create(self) -> str:
        name = new_user_name()
        self.hub.create_user(name)
        return name

    def forget_token(self, name: str) -> None:
        token = self.tokens.pop(name, None)
        if token:
            self.hub.delete_token(name, token["id"])

    def run(self, interval: float) -> None:
        log.info("pool of %d, every %g s, desktops asked at %s", self.size, interval,
                 self.public_url or "(not asked: the hub's ready is enough)")
        self.interval = interval
        while True:
            began = time.monotonic()
            try:
                self.step()
            except (requests.RequestException, HubError) as e:
                log.warning("pool step failed, retried in %g s: %s", interval, e)
            time.sleep(max(0.0, interval - (time.monotonic() - began)))
