"""Who is asking, and how many desktops they may take: the per-address cap on claims.

Without it six anonymous requests empty a pool of five spares. Behind configurable-http-proxy
every request comes from loopback, and the proxy appends the address it saw to
X-Forwarded-For; entries before that one are whatever the client wrote, so only the last is
believed, and only from a loopback peer (the proxy). IPv6 clients are counted per /64, the
block one subscriber gets.
"""
from __future__ import annotations

import collections
import ipaddress
import math
import threading
import time
from typing import Callable, Deque, Dict, Optional

WINDOW = 60.0  # seconds: the cap is per minute


def _ip(text: str):
    """TEXT as an IP address (IPv4-mapped IPv6 as IPv4), None if it is not one."""
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    return ip.ipv4_mapped if ip.version == 6 and ip.ipv4_mapped else ip


def _normal(text: str) -> Optional[str]:
    """TEXT as an address key (IPv6 as its /64), None if it is not an IP address."""
    ip = _ip(text)
    if ip is None:
        return None
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def client_key(peer: str, forwarded_for: Optional[str]) -> str:
    """The address a request counts against: PEER, or from a loopback peer (the proxy) the last
    X-Forwarded-For entry."""
    key = _normal(peer) or peer
    ip = _ip(peer)
    if forwarded_for and ip is not None and ip.is_loopback:
        return _normal(forwarded_for.split(",")[-1]) or key
    return key


class ClaimLimiter:
    """At most PER_MINUTE claims per address in any 60 s (0: no cap). take() reserves one
    (False when the address is at its cap), refund() gives back one that did not become a
    visitor's desktop. Memory: one timestamp per claim of the last minute."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute, self.clock = per_minute, clock
        self._claims: Dict[str, Deque[float]] = {}
        self._lock = threading.Lock()
        self._swept = clock()

    def _recent(self, key: str, now: float) -> Deque[float]:
        times = self._claims.setdefault(key, collections.deque())
        while times and now - times[0] >= WINDOW:
            times.popleft()
        return times

    def _sweep(self, now: float) -> None:
        """Forget addresses with no claim in the last minute (once a minute)."""
        if now - self._swept < WINDOW:
            return
        self._swept = now
        for key in [k for k, times in self._claims.items() if not times or now - times[-1] >= WINDOW]:
            del self._claims[key]

    def take(self, key: str) -> bool:
        if not self.per_minute:
            return True
        with self._lock:
            now = self.clock()
            self._sweep(now)
            times = self._recent(key, now)
            if len(times) >= self.per_minute:
                return False
            times.append(now)
            return True

    def refund(self, key: str) -> None:
        if not self.per_minute:
            return
        with self._lock:
            times = self._claims.get(key)
            if times:
                times.pop()

    def retry_after(self, key: str) -> int:
        """Whole seconds until KEY may claim again (at least 1)."""
        with self._lock:
            times = self._recent(key, self.clock())
            if len(times) < self.per_minute:
                return 1
            return max(1, math.ceil(WINDOW - (self.clock() - times[0])))
