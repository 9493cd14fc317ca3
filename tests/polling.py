"""Waiting for a condition in the slow tiers: poll it with a deadline, never sleep a guess."""
from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float, what: str, interval: float = 0.2) -> T:
    """Call CHECK until it returns something truthy and return that. After TIMEOUT seconds
    fail with WHAT (the condition that did not come true) and CHECK's last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s (last: {value!r})")
        time.sleep(interval)
