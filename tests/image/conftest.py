"""Fixtures of the slow tier: lazy once-per-session image builds, containers, a browser.

    python -m pytest tests/image            # needs dockerd and the base image (make test-image)
    R2D_TEST_NO_CACHE=1 python -m pytest tests/image   # the same, building without layer cache

Each fixture repository under tests/image/fixtures/ is built the first time a test needs it
(`python -m repo2desktop build tests/image/fixtures/NAME --no-run --image-name r2d-test-NAME
--user-id 1000 --user-name jovyan`); a failed build errors every test that needs it, with the
tail of its log. Containers are removed with `docker rm -f ID` at the end; images stay.
"""
from __future__ import annotations

import fcntl
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

from .images import ContainerPool, ImageBuilder

BUILDER_KEY = pytest.StashKey[ImageBuilder]()
# The tier's image and container names are fixed (r2d-test-*), so two sessions on one dockerd
# would untag and rebuild each other's images: a second session waits for the first.
LOCK_FILE = Path(tempfile.gettempdir()) / "r2d-test-image-tier.lock"
LOCK_WAIT = 3600.0


@pytest.fixture(scope="session")
def tier_lock(docker_engine: None) -> Iterator[None]:
    """Held for the whole session by everything that builds images or runs containers."""
    with open(LOCK_FILE, "a") as lock:
        began = time.monotonic()
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - began > LOCK_WAIT:
                    pytest.fail(f"another image-tier session held {LOCK_FILE} for {LOCK_WAIT:.0f} s",
                                pytrace=False)
                if time.monotonic() - began < 2:
                    print(f"\nimage tier: waiting for another session ({LOCK_FILE})", file=sys.__stderr__)
                time.sleep(2)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def images(request: pytest.FixtureRequest, tier_lock: None) -> ImageBuilder:
    """``images.build(NAME)`` -> image name; each fixture is built at most once per session."""
    builder = ImageBuilder()
    request.config.stash[BUILDER_KEY] = builder
    return builder


@pytest.fixture(scope="session")
def containers(tier_lock: None, sigterm_interrupts: None) -> Iterator[ContainerPool]:
    """Every container started in this session, removed at its end (also after a SIGTERM)."""
    pool = ContainerPool()
    try:
        yield pool
    finally:
        pool.remove_all()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    builder = config.stash.get(BUILDER_KEY, None)
    results = [*builder.results.values(), *builder.others] if builder else []
    if not results:
        return
    terminalreporter.section("image builds (repo2desktop build)")
    for result in results:
        terminalreporter.write_line(f"{result.name:<14} {result.seconds:7.1f} s  {result.state:<16} {result.log_path}")
    terminalreporter.write_line(f"{'total':<14} {sum(r.seconds for r in results):7.1f} s")
