"""`serve` against the real engine: the user a visitor container runs as is the one Docker
resolves (USER 00 and a name whose /etc/passwd line says uid 0 are root), and the pool's
network is found by its exact name (the engine's `names` filter matches parts of names).

Images here are the serve image with one more layer (built with the Docker SDK, no cache
needed); each test removes what it made.
"""
from __future__ import annotations

import subprocess

import docker
import pytest

from repo2desktop.serve.docker_adapter import NO_ICC, POOL_LABEL

from .serving import SESSION, ServeProcess, derived_image

pytestmark = pytest.mark.serve


@pytest.fixture(scope="module")
def client() -> docker.DockerClient:
    return docker.from_env(timeout=120)


ROOT_USERS = {
    # The engine reads '00' as uid 0 (checked: `docker run --user 00 IMAGE id` says root).
    "user-00": "USER 00",
    # A name whose passwd line says uid 0 is root too, whatever the name.
    "name-with-uid-0": "USER root\nRUN echo 'toor:x:0:0::/root:/bin/sh' >> /etc/passwd\nUSER toor",
}


@pytest.mark.parametrize("case", sorted(ROOT_USERS))
def test_serve_refuses_an_image_docker_would_run_as_root(serve_image, serves, client, case):
    tag = f"r2d-test-root-{case}-{SESSION}"
    derived_image(client, serve_image, tag, ROOT_USERS[case])
    process = ServeProcess(tag, f"root-{case}", ["--pool-size", "1"], {})
    serves.append(process)  # stopped, its containers removed by label, even if it did start
    try:
        try:
            result = subprocess.run(process.argv(), env=process.env, capture_output=True,
                                    text=True, timeout=90, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve kept running with {ROOT_USERS[case]!r}: visitors ran as root")
        user = ("'00' is root (uid 0) as Docker reads it" if case == "user-00"
                else "'toor' is root (uid 0) in the image's /etc/passwd")
        assert (result.returncode, result.stderr.strip()) == (1, (
            f"repo2desktop: image {tag!r}: USER {user}; visitor containers never run as root; "
            "pass --container-user UID[:GID]")), result.stdout
        assert not process.containers()
    finally:
        client.images.remove(tag, force=True)


def test_serve_starts_beside_a_network_whose_name_contains_its_own(make_serve, client):
    """Another network whose name merely contains r2d-serve-<pool> (with inter-container
    traffic on) is neither taken for the pool's nor a reason to refuse to start."""
    pool = f"r2d-test-near-{SESSION}"
    decoy = client.networks.create(f"old-r2d-serve-{pool}-icc", driver="bridge")
    try:
        serve = make_serve("near", "--pool-size", "1", "--max-containers", "1")
        assert serve.pool_name == pool
        serve.wait_available(1)
        (container,) = serve.containers()
        assert set(container.attrs["NetworkSettings"]["Networks"]) == {f"r2d-serve-{pool}"}
        (network,) = client.networks.list(filters={"label": f"{POOL_LABEL}={pool}"})
        assert network.name == f"r2d-serve-{pool}"
        assert network.attrs["Options"].items() >= NO_ICC.items()
        # The image's USER (a name) resolved in its /etc/passwd and pinned as the uid.
        assert container.attrs["Config"]["User"] == "1000"
        serve.stop()
    finally:
        decoy.remove()
