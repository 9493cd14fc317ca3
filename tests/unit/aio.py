"""Run a coroutine to its end from a test, whatever loop the test's thread has.

In the full suite the image and serve tiers keep one Chromium open for the session through
Playwright's sync API, which leaves an asyncio loop marked running in the main thread; a unit
test that runs after them cannot call asyncio.run() there. A thread of its own always can."""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Awaitable, Callable


def run_in_own_loop(make: Callable[[], Awaitable[Any]], timeout: float = 30.0) -> Any:
    """MAKE() is called inside the new thread, so no coroutine is created that is never awaited."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(make())
        except BaseException as e:  # re-raised in the test's thread
            outcome["error"] = e

    thread = threading.Thread(target=target, name="unit-asyncio")
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"the coroutine did not finish in {timeout} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
