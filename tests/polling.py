"""Waiting for a condition in the slow tiers: poll it with a deadline, never sleep a guess."""
from __future__ import annotations

import time
from typing import Callable, TypeVar, Union

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float, what: Union[str, Callable[[], str]],
             interval: float = 0.2) -> T:
    """Call CHECK until it returns something truthy and return that. After TIMEOUT seconds
    fail with WHAT (the condition that did not come true; a callable is asked then, for what
    only the moment of failure knows: a log's tail, the last error) and CHECK's last value.
    CHECK may raise to give up at once (a process that exited)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what() if callable(what) else what}: not within {timeout:g} s "
                                 f"(last: {value!r})")
        time.sleep(interval)
