"""Fixtures of the serve tier: one image built by `repo2desktop build`, `repo2desktop serve`
processes (real dockerd, real configurable-http-proxy), a Chromium.

The image is tests/image/fixtures/desktop-only (start: lazy, so the pool must force eager)
built once per session under this tier's own name; BuildKit's cache shares its layers with the
image tier, and the name keeps this tier off the image tier's lock.
"""
from __future__ import annotations

import os
from typing import Iterator

import pytest

from tests.image.images import FIXTURES, image_exists, run_build, untag

from .serving import SERVE_AUDIO_IMAGE, SERVE_IMAGE, ServeProcess, chp_executable

# R2D_TEST_SERVE_REUSE_IMAGE=1 keeps an existing test image instead of rebuilding it.
REUSE_ENV = "R2D_TEST_SERVE_REUSE_IMAGE"


@pytest.fixture(scope="session")
def serve_image(docker_engine: None) -> str:
    chp_executable()  # fail early, with the install hint
    if os.environ.get(REUSE_ENV) == "1" and image_exists(SERVE_IMAGE):
        return SERVE_IMAGE  # while developing serve itself: the image's code is unchanged
    untag(SERVE_IMAGE)
    result = run_build(FIXTURES / "desktop-only", SERVE_IMAGE, "build-serve-desktop-only",
                       name="serve-desktop-only")
    if not result.ok:
        pytest.fail(result.failure(), pytrace=False)
    return SERVE_IMAGE


@pytest.fixture(scope="session")
def serve_audio_image(docker_engine: None) -> str:
    """The image tier's tigervnc fixture (`audio: true`) under this tier's own name, built once
    for the sound tests behind serve and behind JupyterHub."""
    if os.environ.get(REUSE_ENV) == "1" and image_exists(SERVE_AUDIO_IMAGE):
        return SERVE_AUDIO_IMAGE
    untag(SERVE_AUDIO_IMAGE)
    result = run_build(FIXTURES / "tigervnc", SERVE_AUDIO_IMAGE, "build-serve-audio", name="serve-audio")
    if not result.ok:
        pytest.fail(result.failure(), pytrace=False)
    return SERVE_AUDIO_IMAGE


@pytest.fixture(scope="session")
def serves(sigterm_interrupts: None) -> Iterator[list]:
    """Every serve process started in this session; SIGTERM'd (they clean up) at its end,
    also after a SIGTERM to this session."""
    started: list = []
    try:
        yield started
    finally:
        for process in started:
            process.stop()


@pytest.fixture(scope="module")
def make_serve(serve_image, serves):
    def make(name: str, *args: str, **env: str) -> ServeProcess:
        process = ServeProcess(serve_image, name, list(args), env)
        serves.append(process)
        return process.start()
    return make
