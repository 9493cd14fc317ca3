"""Everything `serve` says to the Docker engine, through the Docker SDK only.

Every object made here carries ``repo2desktop.serve.pool=<pool name>``, and every listing
filters on it: a serve only ever sees, adopts or removes its own pool's containers and
network. Claiming a container renames it (``...-claimed``), so a restarted serve knows which
containers belong to visitors without any other state.
"""
from __future__ import annotations

import hashlib
import shlex
import threading
from dataclasses import dataclass
from typing import Callable, List, Optional

import docker
import docker.errors

from repo2desktop.errors import Repo2DesktopError
from repo2desktop.serve import hardening, users
from repo2desktop.serve.options import CONTAINER_PORT, ServeOptions

POOL_LABEL = "repo2desktop.serve.pool"
USER_LABEL = "repo2desktop.serve.user"
CLAIMED_SUFFIX = "-claimed"
# What makes a bridge network drop traffic between its containers.
NO_ICC = {"com.docker.network.bridge.enable_icc": "false"}
BRIDGE_NAME = "com.docker.network.bridge.name"


class DockerError(Repo2DesktopError):
    pass


@dataclass
class Found:
    """A container of this pool as the engine reports it (for adoption)."""

    id: str
    user_id: str
    token: str
    claimed: bool
    running: bool
    created: float


def container_name(pool: str, user_id: str, claimed: bool = False) -> str:
    return f"r2d-serve-{pool}-{user_id}" + (CLAIMED_SUFFIX if claimed else "")


def bridge_name(pool: str) -> str:
    """The host interface of the pool's own network: known in advance (the firewall names it)
    and within Linux's 15 characters whatever the pool's name."""
    return "r2d-" + hashlib.sha256(pool.encode()).hexdigest()[:11]


class Engine:
    def __init__(self, options: ServeOptions):
        self.options = options
        self.pool = options.pool_name
        try:
            self.client = docker.from_env(timeout=60)
            self.client.ping()
        except docker.errors.DockerException as e:
            raise DockerError(f"serve needs a Docker engine: {e}") from e
        self.network_name = options.docker_network or f"r2d-serve-{self.pool}"
        self.own_network = options.docker_network is None
        self.user = self._visitor_user()

    # -- the image and its user ------------------------------------------------------------
    def _visitor_user(self) -> str:
        return visitor_user(self.client, self.options.image, self.options.container_user,
                            hint="; pass --container-user UID[:GID]")

    # -- the network -----------------------------------------------------------------------
    def ensure_network(self) -> dict:
        """Our private bridge without inter-container traffic, on a known interface (adopted
        if it exists). Returns the network's attributes (the firewall reads its bridge)."""
        if not self.own_network:
            return self.client.networks.get(self.network_name).attrs  # raises NotFound: a clear message
        existing = self.client.networks.list(names=[self.network_name])
        existing = [n for n in existing if n.name == self.network_name]  # names= matches parts
        for network in existing:
            if (network.attrs.get("Labels") or {}).get(POOL_LABEL) == self.pool:
                return network.attrs
        if existing:
            raise DockerError(f"network {self.network_name} exists but is not this pool's")
        return self.client.networks.create(
            self.network_name, driver="bridge", options={**NO_ICC, BRIDGE_NAME: bridge_name(self.pool)},
            labels={POOL_LABEL: self.pool}).attrs

    def remove_network(self) -> None:
        if not self.own_network:
            return
        for network in self.client.networks.list(filters={"label": f"{POOL_LABEL}={self.pool}"}):
            try:
                network.remove()
            except docker.errors.NotFound:
                pass

    # -- containers ------------------------------------------------------------------------
    def run(self, user_id: str, base_path: str, token: str):
        o = self.options
        kwargs = dict(
            command=shlex.split(o.render_command(base_path, token)), detach=True,
            name=container_name(self.pool, user_id), labels={POOL_LABEL: self.pool, USER_LABEL: user_id},
            # eager: the desktop is up before a visitor arrives; SHARED_ORIGIN: every visitor
            # is on this one host, so proxied pages are sandboxed (jupyter/shared_origin.py).
            environment={"JUPYTER_TOKEN": token, "REPO2DESKTOP_START": "eager",
                         "REPO2DESKTOP_SHARED_ORIGIN": "1"},
            user=self.user, network=self.network_name, mem_limit=o.mem_limit,
            **hardening.host_config(o.mem_limit, o.pids_limit, o.shm_size),
            extra_hosts=dict(o.extra_hosts) or None,
            volumes={m.host: {"bind": m.container, "mode": m.mode} for m in o.host_directories} or None,
        )
        if o.cpu_quota:
            kwargs.update(cpu_quota=o.cpu_quota, cpu_period=100000)
        if o.cpu_shares:
            kwargs["cpu_shares"] = o.cpu_shares
        return self.client.containers.run(o.image, **kwargs)

    def address(self, container_id: str) -> str:
        """The container's IP on our network (where CHP and the probes reach it)."""
        container = self.client.containers.get(container_id)
        networks = container.attrs["NetworkSettings"]["Networks"]
        ip = (networks.get(self.network_name) or {}).get("IPAddress")
        if not ip:
            raise DockerError(f"container {container_id[:12]} has no address on {self.network_name}")
        return f"http://{ip}:{CONTAINER_PORT}"

    def running(self, container_id: str) -> bool:
        try:
            return self.client.containers.get(container_id).status == "running"
        except docker.errors.NotFound:
            return False

    def mark_claimed(self, container_id: str, user_id: str) -> None:
        self.client.containers.get(container_id).rename(container_name(self.pool, user_id, True))

    def unmark_claimed(self, container_id: str, user_id: str) -> None:
        self.client.containers.get(container_id).rename(container_name(self.pool, user_id))

    def log_tail(self, container_id: str, lines: int = 25) -> str:
        try:
            return self.client.containers.get(container_id).logs(tail=lines).decode(errors="replace")
        except docker.errors.APIError:
            return "(no log: the container is gone)"

    def remove(self, container_id: str) -> None:
        try:
            self.client.containers.get(container_id).remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as e:
            if "already in progress" not in str(e):
                raise

    def list_own(self) -> List[Found]:
        found = []
        for c in self.client.containers.list(all=True, filters={"label": f"{POOL_LABEL}={self.pool}"}):
            env = dict(e.split("=", 1) for e in (c.attrs["Config"].get("Env") or []) if "=" in e)
            created = c.attrs.get("Created", "")
            found.append(Found(c.id, c.labels.get(USER_LABEL, ""), env.get("JUPYTER_TOKEN", ""),
                               c.name.endswith(CLAIMED_SUFFIX), c.status == "running",
                               _timestamp(created)))
        return found

    # -- events ----------------------------------------------------------------------------
    def watch_deaths(self, on_death: Callable[[str], None], stopping: threading.Event) -> None:
        """Call ON_DEATH(container id) as soon as the engine reports one of ours died."""
        def loop():
            while not stopping.is_set():
                try:
                    stream = self.client.events(decode=True, filters={
                        "type": "container", "event": ["die", "destroy"],
                        "label": f"{POOL_LABEL}={self.pool}"})
                    self._stream = stream
                    for event in stream:
                        if stopping.is_set():
                            return
                        on_death(event.get("id") or event.get("Actor", {}).get("ID", ""))
                except Exception:  # the stream broke (engine restart): reopen it
                    if not stopping.wait(1):
                        continue
        threading.Thread(target=loop, name="docker-events", daemon=True).start()

    def stop_watching(self) -> None:
        stream = getattr(self, "_stream", None)
        if stream is not None:
            try:
                stream.close()
            except Exception:
                pass


def networks_named(client, name: str) -> list:
    """The networks whose name is NAME. The engine's `names` filter matches any part of a
    name ('r2d-serve-x' finds 'old-r2d-serve-x-icc' too), so the exact name is checked here."""
    return [n for n in client.networks.list(names=[name]) if n.name == name]


def visitor_user(client, image_name: str, requested: Optional[str] = None, hint: str = "") -> str:
    """The user visitor containers of IMAGE_NAME run as: REQUESTED (--container-user) or the
    image's USER, resolved as Docker resolves it (names in the image's own /etc/passwd) and
    pinned as 'UID[:GROUP]'. DockerError when that is root or cannot be resolved (HINT
    added when the image's USER is the problem)."""
    try:
        image = client.images.get(image_name)
    except docker.errors.ImageNotFound:
        raise DockerError(f"image {image_name!r} not found on this engine "
                          "(build it with `repo2desktop build REPO --image-name NAME`)") from None
    spec = requested if requested is not None else (image.attrs.get("Config") or {}).get("User") or ""
    try:
        passwd = _image_file(client, image.id, "/etc/passwd") if users.needs_passwd(spec) else None
        return users.pinned(spec, passwd)
    except users.Refused as e:
        if requested is not None:
            raise DockerError(f"--container-user: {e}") from None
        raise DockerError(f"image {image_name!r}: USER {e}{hint}") from None


MAX_IMAGE_FILE = 1024 * 1024  # /etc/passwd of any sane image is far smaller


def _image_file(client, image_id: str, path: str) -> Optional[str]:
    """A small regular file of the image (its /etc/passwd), read from a container that is
    created and removed, never started; None when the image has no such file."""
    import io
    import tarfile

    container = client.containers.create(image_id, command=["true"], network_disabled=True)
    try:
        try:
            stream, stat = container.get_archive(path)
        except docker.errors.NotFound:
            return None
        if stat.get("size", 0) > MAX_IMAGE_FILE or stat.get("linkTarget"):
            raise users.Refused(f"the image's {path} is a link or larger than {MAX_IMAGE_FILE} bytes")
        data = b"".join(stream)
    finally:
        container.remove(force=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        member = archive.next()
        if member is None or not member.isfile():
            raise users.Refused(f"the image's {path} is not a regular file")
        return archive.extractfile(member).read().decode("utf-8", "replace")


def _timestamp(text: str) -> float:
    import datetime as dt

    if not text:
        return 0.0
    # Docker gives nanoseconds; Python parses up to microseconds.
    head, _, frac = text.rstrip("Z").partition(".")
    return dt.datetime.fromisoformat(head + "." + (frac[:6] or "0") + "+00:00").timestamp()
