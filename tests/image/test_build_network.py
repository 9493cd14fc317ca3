"""Untrusted build steps do not reach the build host's loopback.

The build-network fixture's postBuild connects to a listener this test opens on the host's
127.0.0.1. Builds run on the engine's default network (host networking only with
REPO2DESKTOP_BUILD_NETWORK=host), so the connection fails inside the build, the log says
so, and the listener accepts nothing.
"""
from __future__ import annotations

import shutil
import socket
import threading
from pathlib import Path

import pytest

from .images import FIXTURES, IMAGES, build_env, docker, run_build, untag

pytestmark = pytest.mark.image


def test_build_steps_cannot_reach_the_hosts_loopback(images, tmp_path: Path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    accepted: list = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, peer = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            accepted.append(peer)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    repo = tmp_path / "build-network"
    shutil.copytree(FIXTURES / "build-network", repo)
    (repo / "host-port").write_text(f"{port}\n")
    env = build_env()
    env.pop("REPO2DESKTOP_BUILD_NETWORK", None)  # the default, whatever the caller set
    image = IMAGES["build-network"]
    untag(image)
    try:
        result = images.record(run_build(repo, image, "build-build-network", env=env,
                                         name="build-network"))
    finally:
        stop.set()
        thread.join(5)
        listener.close()
    try:
        assert result.ok, result.failure()
        lines = [line for line in result.output.splitlines() if "build-network: " in line]
        assert any(f"build-network: could not connect to 127.0.0.1:{port}" in line for line in lines), \
            (lines, result.log_path)
        assert not any("CONNECTED" in line for line in lines), lines
        assert accepted == [], f"the build reached the host's 127.0.0.1:{port} from {accepted}"
    finally:
        untag(image)
        assert docker("image", "inspect", image, check=False).returncode != 0
