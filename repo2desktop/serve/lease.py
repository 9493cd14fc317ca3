"""The pool's lease: at most one live `serve` per pool name on an engine.

Two serves with one ``--pool-name`` would adopt, drain and finally remove each other's
containers, visitors' sessions included. So a serve holds its pool through a *lease
container*, ``r2d-serve-<pool>.lease``: the pool's image running ``cat`` with its standard input
attached to the serve (StdinOnce, auto-remove, no network, no capabilities). The engine creates
a container under a taken name for one caller only, so one serve gets the lease; when that
serve ends in any way (exit, crash, SIGKILL) the engine closes the attached input, ``cat`` ends
and the container is removed: a dead serve's pool is free at once, with no timeout to wait out,
and a live one is never taken over behind its back. ``docker rm -f`` of the lease container
takes a pool from a hung serve, which then steps down.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from typing import Callable, Optional

import docker
import docker.errors

from repo2desktop.errors import Repo2DesktopError
from repo2desktop.serve.docker_adapter import DockerError

LEASE_LABEL = "repo2desktop.serve.lease"
OWNER_LABEL = "repo2desktop.serve.owner"
SINCE_LABEL = "repo2desktop.serve.since"
# A serve that has just ended still shows a running lease container for a moment (the engine
# notices the closed input, `cat` exits, the container goes): how long that may take.
SETTLE_SECONDS = 5.0


class PoolTaken(Repo2DesktopError):
    """Another live serve holds this pool."""


def lease_name(pool: str) -> str:
    # "." never appears in a visitor's id, so this never collides with r2d-serve-<pool>-<id>.
    return f"r2d-serve-{pool}.lease"


def owner() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


class Lease:
    def __init__(self, client: docker.DockerClient, pool: str, image: str, user: str):
        self.client, self.pool, self.image, self.user = client, pool, image, user
        self.name = lease_name(pool)
        self.container_id: Optional[str] = None
        self._socket = None
        self._released = threading.Event()

    # -- taking it -------------------------------------------------------------------------
    def acquire(self, on_lost: Callable[[], None]) -> None:
        """Hold the pool, or raise PoolTaken naming the serve that does. ON_LOST is called
        (from a thread) if the lease container goes while this serve still holds it."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            try:
                container_id = self._create()
            except docker.errors.APIError as e:
                if e.status_code != 409:  # 409: the name is taken
                    raise DockerError(f"serve: could not take the lease of pool '{self.pool}' "
                                      f"({self.name}): {e}") from e
                self._settle_or_refuse(deadline)
                continue
            try:
                self._hold(container_id, on_lost)
            except docker.errors.APIError as e:
                raise DockerError(f"serve: could not start the lease of pool '{self.pool}' "
                                  f"({self.name}): {e}") from e
            return

    def _create(self) -> str:
        api = self.client.api
        host_config = api.create_host_config(auto_remove=True, network_mode="none",
                                             cap_drop=["ALL"], security_opt=["no-new-privileges:true"],
                                             mem_limit="32m", pids_limit=8)
        # stdin_open without detach: the engine sets StdinOnce (input closed when we go).
        created = api.create_container(
            self.image, entrypoint=["cat"], command=[], stdin_open=True, user=self.user,
            name=self.name, host_config=host_config,
            labels={LEASE_LABEL: self.pool, OWNER_LABEL: owner(),
                    SINCE_LABEL: time.strftime("%Y-%m-%d %H:%M:%S %z")})
        return created["Id"]

    def _settle_or_refuse(self, deadline: float) -> None:
        """The name is taken. A lease left by a serve that just ended (running for a moment
        more, or created but never started by one killed in between) goes: wait for that, or
        remove a never-started one. A lease still running after the wait is a live serve's."""
        try:
            held = self.client.api.inspect_container(self.name)
        except docker.errors.NotFound:
            return  # gone meanwhile: try again
        status = held["State"]["Status"]
        if time.monotonic() < deadline:
            time.sleep(0.2)
            return
        if status != "running":
            try:
                self.client.api.remove_container(held["Id"], force=True)
            except docker.errors.NotFound:
                pass
            return
        labels = held["Config"].get("Labels") or {}
        raise PoolTaken(
            f"serve: pool '{self.pool}' is held by a live serve ({labels.get(OWNER_LABEL, 'unknown')}, "
            f"since {labels.get(SINCE_LABEL, '?')}); two serves of one pool would remove each "
            f"other's visitors' containers. Stop that serve first (SIGHUP leaves its sessions "
            f"for this one to adopt), or use another --pool-name; a serve that died frees its "
            f"pool at once, a hung one is taken over with `docker rm -f {self.name}`")

    def _hold(self, container_id: str, on_lost: Callable[[], None]) -> None:
        api = self.client.api
        try:
            # stdout too: the attachment then ends when the container does (the watcher sees it).
            self._socket = api.attach_socket(container_id, params={"stdin": 1, "stdout": 1,
                                                                   "stream": 1})
            api.start(container_id)
        except Exception:
            self._close()
            try:
                api.remove_container(container_id, force=True)
            except docker.errors.APIError:
                pass
            raise
        self.container_id = container_id
        self._released.clear()
        threading.Thread(target=self._watch, args=(self._socket, on_lost), daemon=True,
                         name="pool-lease").start()

    def _watch(self, attached, on_lost: Callable[[], None]) -> None:
        raw = getattr(attached, "_sock", attached)
        try:
            while raw.recv(4096):
                pass
        except OSError:
            pass
        if not self._released.is_set():
            self.container_id = None
            on_lost()

    # -- giving it back --------------------------------------------------------------------
    @property
    def held(self) -> bool:
        return self.container_id is not None

    def release(self) -> None:
        """Give the pool up now (not a moment after exit): the next serve may adopt at once."""
        self._released.set()
        container_id, self.container_id = self.container_id, None
        self._close()
        if container_id:
            try:
                self.client.api.remove_container(container_id, force=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as e:
                if "already in progress" not in str(e):
                    raise

    def _close(self) -> None:
        attached, self._socket = self._socket, None
        if attached is None:
            return
        raw = getattr(attached, "_sock", attached)
        try:
            raw.shutdown(socket.SHUT_RDWR)  # wakes the watcher's recv (close alone may not)
        except OSError:
            pass
        attached.close()
        raw.close()
