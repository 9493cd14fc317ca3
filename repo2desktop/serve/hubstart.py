"""What a `hub-config` jupyterhub_config.py asks of the engine each time the hub starts.

The checks run there, not when the file is written: the image (a tag) and the networks may
have changed since. Each failure is one line (HubStartError); the generated file turns it
into the hub's exit, so JupyterHub never starts with half a configuration.
"""
from __future__ import annotations

from repo2desktop.errors import Repo2DesktopError
from repo2desktop.serve.docker_adapter import NO_ICC, DockerError, networks_named, visitor_user

HUB_LABEL = "repo2desktop.hub"
ICC_OPTION = "com.docker.network.bridge.enable_icc"


class HubStartError(Repo2DesktopError):
    pass


def server_user(client, image: str) -> str:
    """The image's user as Docker resolves it, pinned as 'UID[:GROUP]'; never root."""
    try:
        return visitor_user(client, image)
    except DockerError as e:
        raise HubStartError(str(e)) from None


def private_network(client, name: str):
    """The bridge NAME without inter-container traffic: made if missing, adopted if it is
    exactly NAME and has inter-container traffic off, refused otherwise."""
    found = networks_named(client, name)
    if not found:
        return client.networks.create(name, driver="bridge", options=NO_ICC,
                                      labels={HUB_LABEL: name})
    network = found[0]
    network.reload()
    if network.attrs.get("Driver") != "bridge" or \
            (network.attrs.get("Options") or {}).get(ICC_OPTION) != "false":
        raise HubStartError(f"network {name!r} exists and lets containers reach each other "
                            f"(not a bridge with {ICC_OPTION}=false); remove it or choose "
                            "another with `hub-config --network`")
    return network


def gateway(network) -> str:
    """This host's address on NETWORK: where its containers reach the public proxy."""
    network.reload()
    return network.attrs["IPAM"]["Config"][0]["Gateway"]
