"""Fixtures shared by the slow tiers: the Docker engine, SIGTERM handling, one Chromium."""
from __future__ import annotations

import os
import signal
import subprocess
from typing import Iterator

import pytest

from .host.browser import launched_chromium


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """dockerd answers and the base image exists (`make test-image` sets up both)."""
    from .image.images import BASE_IMAGE_ENV, DEFAULT_BASE_IMAGE, docker, image_exists

    try:
        info = docker("info", "--format", "{{.ServerVersion}}", check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:  # no CLI, or it hangs
        pytest.fail(f"this tier needs dockerd; `docker info` failed: {e!r} (make engine)",
                    pytrace=False)
    if info.returncode != 0 or not info.stdout.strip():
        pytest.fail(f"this tier needs dockerd; `docker info` failed: {info.stderr.strip()} "
                    "(`make engine` or scripts/start-dockerd.bash starts it)", pytrace=False)
    base = os.environ.get(BASE_IMAGE_ENV) or DEFAULT_BASE_IMAGE
    if not image_exists(base):
        pytest.fail(f"base image {base} is missing: `make base-image` "
                    "(scripts/make-base-image.bash) makes it", pytrace=False)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (a CI timeout, `timeout`, a kill) becomes an interrupt while the fixtures that
    use this one live, so pytest still tears them down: containers removed, serves stopped."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="session")
def chromium():
    """One Chromium for the image and serve tiers: Playwright's sync API allows only one
    running instance per thread, so each tier starting its own fails in a combined run."""
    with launched_chromium() as browser:
        yield browser
