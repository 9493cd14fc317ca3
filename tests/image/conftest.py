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
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

from .images import (BASE_IMAGE_ENV, DEFAULT_BASE_IMAGE, ContainerPool, ImageBuilder, docker,
                     image_exists)

BUILDER_KEY = pytest.StashKey[ImageBuilder]()
# The tier's image and container names are fixed (r2d-test-*), so two sessions on one dockerd
# would untag and rebuild each other's images: a second session waits for the first.
LOCK_FILE = Path(tempfile.gettempdir()) / "r2d-test-image-tier.lock"
LOCK_WAIT = 3600.0


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """dockerd answers and the base image exists (`make test-image` sets up both)."""
    try:
        info = docker("info", "--format", "{{.ServerVersion}}", check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:  # no CLI, or it hangs
        pytest.fail(f"the image tier needs dockerd; `docker info` failed: {e!r} (make engine)",
                    pytrace=False)
    if info.returncode != 0 or not info.stdout.strip():
        pytest.fail(f"the image tier needs dockerd; `docker info` failed: {info.stderr.strip()} "
                    "(`make engine` or scripts/start-dockerd.bash starts it)", pytrace=False)
    base = os.environ.get(BASE_IMAGE_ENV) or DEFAULT_BASE_IMAGE
    if not image_exists(base):
        pytest.fail(f"base image {base} is missing: `make base-image` "
                    "(scripts/make-base-image.bash) makes it", pytrace=False)


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


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def containers(tier_lock: None) -> Iterator[ContainerPool]:
    """Every container started in this session, removed at its end. SIGTERM (a CI timeout,
    `timeout`, a kill) becomes an interrupt, so pytest still tears down and removes them."""
    pool = ContainerPool()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield pool
    finally:
        pool.remove_all()
        signal.signal(signal.SIGTERM, previous)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    builder = config.stash.get(BUILDER_KEY, None)
    results = [*builder.results.values(), *builder.others] if builder else []
    if not results:
        return
    terminalreporter.section("image builds (repo2desktop build)")
    for result in results:
        terminalreporter.write_line(f"{result.name:<14} {result.seconds:7.1f} s  {result.state:<16} {result.log_path}")
    terminalreporter.write_line(f"{'total':<14} {sum(r.seconds for r in results):7.1f} s")
