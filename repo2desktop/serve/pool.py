"""The pool: every container's state, and the rules that keep ``--pool-size`` spares warm.

States: starting (created, desktop not answering yet) -> ready (routed, waiting for a visitor)
-> claimed (a visitor has it). A container leaves the pool by being removed: it failed its
readiness, died, was culled, was drained, or serve stopped. Each change is one terminal line.
All state is behind one lock; Docker and proxy calls happen outside it.
"""
from __future__ import annotations

import collections
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Deque, Dict, List, Optional, Tuple

from repo2desktop.serve import activity
from repo2desktop.serve.docker_adapter import Engine
from repo2desktop.serve.options import ServeOptions
from repo2desktop.serve.proxy import ProxyClient
from repo2desktop.serve.readiness import wait_ready

STARTING, READY, CLAIMED = "starting", "ready", "claimed"
ALPHABET = string.ascii_lowercase + string.digits


@dataclass
class Slot:
    user_id: str
    token: str
    created: float = field(default_factory=time.time)
    container_id: str = ""
    state: str = STARTING
    ready_at: Optional[float] = None
    claimed_at: Optional[float] = None
    server: str = ""  # http://IP:8888 on our network
    gone: bool = False  # removed or dead: every thread working on it stops

    @property
    def base_path(self) -> str:
        return f"/user/{self.user_id}/"

    @property
    def route(self) -> str:
        return f"/user/{self.user_id}"


@dataclass(frozen=True)
class Failure:
    at: float
    user_id: str
    reason: str


class Pool:
    def __init__(self, options: ServeOptions, engine: Engine, proxy: ProxyClient,
                 log: Callable[[str], None]):
        self.options, self.engine, self.proxy, self.log = options, engine, proxy, log
        self.slots: Dict[str, Slot] = {}
        self.ready: Deque[str] = collections.deque()
        self.failures: Deque[Failure] = collections.deque(maxlen=50)
        self.lock = threading.RLock()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.consecutive_failures = 0
        # When a claimed container's visitor last did something (activity.py); None: unknown.
        self.person_activity: Callable[[Slot], Optional[float]] = (
            lambda slot: activity.person_last_activity(slot.server, slot.base_path, slot.token))

    # -- counts --------------------------------------------------------------------------------
    def counts(self) -> Dict[str, int]:
        with self.lock:
            states = [s.state for s in self.slots.values()]
        return {"available": states.count(READY), "in_use": states.count(CLAIMED),
                "starting": states.count(STARTING), "capacity": self.options.max_containers,
                "failed": len(self.failures)}

    def _summary(self) -> str:
        c = self.counts()
        return f"(ready {c['available']}, in use {c['in_use']}, starting {c['starting']})"

    def snapshot(self) -> List[Slot]:
        with self.lock:
            return sorted(self.slots.values(), key=lambda s: s.created)

    # -- launching -----------------------------------------------------------------------------
    def _new_id(self) -> str:
        while True:
            user_id = "".join(secrets.choice(ALPHABET) for _ in range(self.options.user_length))
            if user_id not in self.slots:
                return user_id

    def fill_forever(self) -> None:
        """The filler thread: start containers while spares < pool size and total < max, at
        most --max-dock-workers at a time (tmpnb's name)."""
        while not self.stopping.is_set():
            with self.lock:
                spares = sum(1 for s in self.slots.values() if s.state in (STARTING, READY))
                starting = sum(1 for s in self.slots.values() if s.state == STARTING)
                room = self.options.max_containers - len(self.slots)
                need = min(self.options.pool_size - spares, room,
                           self.options.max_dock_workers - starting)
            if need > 0:
                if self.consecutive_failures:
                    delay = min(2 ** self.consecutive_failures, 30)
                    if self.stopping.wait(delay):
                        return
                self.launch()
                continue
            self.wake.wait(1.0)
            self.wake.clear()

    def launch(self) -> None:
        with self.lock:
            slot = Slot(self._new_id(), secrets.token_hex(24))
            self.slots[slot.user_id] = slot
        try:
            container = self.engine.run(slot.user_id, slot.base_path, slot.token)
        except Exception as e:
            self._fail(slot, f"could not start a container: {e}", log_tail=False)
            return
        slot.container_id = container.id
        if slot.gone or self.stopping.is_set():  # stopped while the engine was creating it
            self.engine.remove(container.id)
            return
        self.log(f"pool: {slot.user_id} starting {self._summary()}")
        threading.Thread(target=self._await_ready, args=(slot,), daemon=True,
                         name=f"ready-{slot.user_id}").start()

    def adopt(self, slot: Slot) -> None:
        """A container of this pool found running at start: claimed ones are routed again at
        once (their visitors keep their session); spares are checked like new ones."""
        with self.lock:
            self.slots[slot.user_id] = slot
        if slot.state == CLAIMED:
            try:
                slot.server = self.engine.address(slot.container_id)
                self.proxy.add_route(slot.route, slot.server)
            except Exception as e:
                self.remove(slot, f"adoption failed: {e}")
                return
            self.log(f"pool: {slot.user_id} adopted, in use {self._summary()}")
        else:
            self.log(f"pool: {slot.user_id} adopted, checking it {self._summary()}")
            threading.Thread(target=self._await_ready, args=(slot,), daemon=True).start()

    def _await_ready(self, slot: Slot) -> None:
        began = time.monotonic()

        def server() -> str:
            if not slot.server:
                slot.server = self.engine.address(slot.container_id)
            return slot.server

        reason = wait_ready(server, slot.base_path, slot.token, self.options.ready_timeout,
                            alive=lambda: not slot.gone,
                            cancelled=self.stopping.is_set)
        if slot.gone or self.stopping.is_set():
            return
        if reason is None:
            try:
                self.proxy.add_route(slot.route, slot.server)
            except Exception as e:
                self._fail(slot, f"proxy route: {e}")
                return
            with self.lock:
                gone = slot.gone
                if not gone:
                    slot.state, slot.ready_at = READY, time.time()
                    self.ready.append(slot.user_id)
            if gone:  # removed (drained, died) while its route was being added: no orphan route
                self._delete_route(slot)
                return
            self.consecutive_failures = 0
            self.wake.set()  # a start slot is free (--max-dock-workers)
            self.log(f"pool: {slot.user_id} ready in {time.monotonic() - began:.1f} s {self._summary()}")
        else:
            self._fail(slot, reason)

    def _fail(self, slot: Slot, reason: str, log_tail: bool = True) -> None:
        tail = self.engine.log_tail(slot.container_id) if log_tail and slot.container_id else ""
        self.failures.append(Failure(time.time(), slot.user_id, reason))
        self.consecutive_failures += 1
        self.log(f"pool: FAILED {slot.user_id}: {reason}; removed, a new one will start"
                 + ("\n  | " + "\n  | ".join(tail.rstrip().splitlines()) if tail.strip() else ""))
        self.remove(slot, None)

    # -- visitors ------------------------------------------------------------------------------
    def claim(self) -> Optional[Slot]:
        """A ready container for a visitor (marked claimed on the engine first, so a restarted
        serve never hands it to anyone else), or None when none is ready."""
        while True:
            with self.lock:
                slot = None
                while self.ready:
                    candidate = self.slots.get(self.ready.popleft())
                    if candidate and candidate.state == READY and not candidate.gone:
                        slot = candidate
                        break
                if slot is None:
                    return None
                slot.state, slot.claimed_at = CLAIMED, time.time()
            self.wake.set()
            try:
                self.engine.mark_claimed(slot.container_id, slot.user_id)
            except Exception as e:
                self.remove(slot, f"could not be claimed: {e}")
                continue
            self.log(f"pool: {slot.user_id} claimed {self._summary()}")
            return slot

    def release(self, slot: Slot) -> None:
        """Undo a claim whose visitor never got the reply (they left first): nobody has the
        URL, so the container is a spare again, first in line. Unmarked on the engine before
        it is handed out again; if that fails it is removed (the filler replaces it)."""
        try:
            self.engine.unmark_claimed(slot.container_id, slot.user_id)
        except Exception as e:
            self.remove(slot, f"could not be returned to the pool: {e}")
            return
        with self.lock:
            if slot.gone or slot.state != CLAIMED:
                return
            slot.state, slot.claimed_at = READY, None
            self.ready.appendleft(slot.user_id)
        self.log(f"pool: {slot.user_id} returned (its visitor left before the reply) {self._summary()}")

    # -- leaving the pool ----------------------------------------------------------------------
    def _take_out(self, slot: Slot) -> bool:
        """Under the lock: SLOT is no longer in the pool (nobody can claim it); True the first
        time only."""
        first = not slot.gone
        slot.gone = True
        self.slots.pop(slot.user_id, None)
        return first

    def remove(self, slot: Slot, why: Optional[str], taken_out: bool = False) -> None:
        """Route, container and slot gone; WHY (if any) is logged. TAKEN_OUT: the caller has
        already taken the slot out of the pool under the lock."""
        with self.lock:
            first = taken_out or self._take_out(slot)
        if first and why:
            self.log(f"pool: {slot.user_id} removed ({why}) {self._summary()}")
        self._delete_route(slot)
        if slot.container_id:
            try:
                self.engine.remove(slot.container_id)
            except Exception as e:
                self.log(f"pool: could not remove container {slot.container_id[:12]}: {e}")
        self.wake.set()

    def _delete_route(self, slot: Slot) -> None:
        try:
            self.proxy.delete_route(slot.route)
        except Exception:
            pass  # the proxy may be restarting; routes are re-created from slots anyway

    def on_death(self, container_id: str) -> None:
        """The engine says one of our containers died (events stream)."""
        with self.lock:
            slot = next((s for s in self.slots.values() if s.container_id == container_id), None)
        if slot is None or slot.gone:
            return
        self.failures.append(Failure(time.time(), slot.user_id, f"died while {slot.state}"))
        self.remove(slot, f"died while {slot.state}; refilling")

    def drain(self) -> int:
        """Remove every spare (ready or starting), never a claimed one; the filler refills.

        The spares leave the pool under the lock, in the same step that finds them: a visitor
        claiming at that moment gets one before (and it is not drained) or none after, never
        one that is being removed. The slow part (route, container) happens outside it."""
        with self.lock:
            idle = [s for s in self.slots.values() if s.state in (READY, STARTING) and not s.gone]
            for slot in idle:
                self._take_out(slot)
        for slot in idle:
            self.remove(slot, "drained", taken_out=True)
        return len(idle)

    def cull(self, now: Optional[float] = None) -> List[Tuple[str, str]]:
        """Remove claimed containers whose visitor has been idle past --cull-timeout, or older
        than --cull-max. Returns (id, reason) of each one removed.

        Idle is the person's idleness: the container's own Jupyter server's last activity
        (activity.py: input on the desktop, notebooks, kernels; not frames flowing to an open
        tab). Only a container whose Jupyter server does not answer is judged by the proxy's
        traffic, as before (a hung or dead one has none, and goes)."""
        now = time.time() if now is None else now
        traffic: Optional[dict] = None
        culled = []
        for slot in self.snapshot():
            if slot.state != CLAIMED:
                continue
            reason = None
            if self.options.cull_max and now - slot.created > self.options.cull_max:
                reason = f"older than --cull-max {self.options.cull_max:g} s"
            else:
                seen = self.person_activity(slot)
                if seen is None:
                    traffic = self.proxy.last_activity() if traffic is None else traffic
                    seen = traffic.get(slot.route, 0.0)
                last = max(seen, slot.claimed_at or 0.0)
                if now - last > self.options.cull_timeout:
                    reason = f"idle for {now - last:.0f} s"
            if reason:
                self.remove(slot, f"culled: {reason}")
                culled.append((slot.user_id, reason))
        return culled

    def reroute(self) -> None:
        """After a proxy restart: every routed container gets its route back."""
        for slot in self.snapshot():
            if slot.state in (READY, CLAIMED) and slot.server:
                try:
                    self.proxy.add_route(slot.route, slot.server)
                except Exception as e:
                    self.log(f"proxy: could not re-route {slot.user_id}: {e}")

    def remove_all(self) -> None:
        self.stopping.set()
        self.wake.set()
        threads = [threading.Thread(target=self.remove, args=(s, None)) for s in self.snapshot()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
