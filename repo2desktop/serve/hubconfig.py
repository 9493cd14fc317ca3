"""`repo2desktop hub-config IMAGE`: the same desktop image on JupyterHub, for scale.

Writes two files (pure text, rendered from the checked arguments):
- ``jupyterhub_config.py``: one host, tmpauthenticator (each visitor a temporary user),
  DockerSpawner (containers on a private bridge without inter-container traffic, the
  image's user pinned and never root, the limits and hardening `serve` gives, at most
  ``--max-servers`` at once), jupyterhub-idle-culler as a hub service. What depends on the
  engine (the image's user, the network) is checked by the file itself each time the hub
  starts (hubstart.py);
- ``values.yaml``: the same for zero-to-jupyterhub (Helm chart ``jupyterhub``, KubeSpawner).
Every image `repo2desktop build` makes has ``jupyterhub-singleuser``, which both start.

Values reach the Python file only through repr() in one block at its top; the code below
that block is fixed text, so no argument can add a line of Python.
"""
from __future__ import annotations

import math
import os
import pprint
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from repo2desktop.errors import Repo2DesktopError
from repo2desktop.serve import hardening, names

CONFIG_NAME = "jupyterhub_config.py"
VALUES_NAME = "values.yaml"


class HubConfigError(Repo2DesktopError):
    exit_code = 2


@dataclass(frozen=True)
class HubSettings:
    image: str
    cull_timeout: int = 3600
    cull_every: int = 300
    cull_max_age: int = 14400
    mem_limit: str = "1G"
    cpu_limit: float = 1.0
    hub_port: int = 8000
    network: str = "repo2desktop-hub"
    default_url: str = "/desktop/"
    max_servers: int = 20
    pids_limit: int = 1024
    shm_size: str = "256m"

    @property
    def image_name_tag(self) -> Tuple[str, str]:
        name, sep, tag = self.image.rpartition(":")
        if not sep or "/" in tag:  # no tag, or the colon belonged to a registry port
            return self.image, "latest"
        return name, tag


def _problem(s: HubSettings) -> Optional[Tuple[str, str]]:
    """The first (flag, message) wrong in S, or None."""
    checks = [
        ("IMAGE", names.image_problem(s.image)),
        ("--network", names.network_problem(s.network)),
        ("--mem-limit", hardening.size_problem(s.mem_limit, hardening.MIN_MEMORY)),
        ("--cpu-limit", None if math.isfinite(s.cpu_limit) and s.cpu_limit > 0
         else f"must be a number of CPUs > 0, got {s.cpu_limit}"),
        ("--port", None if 1 <= s.hub_port <= 65535 else f"{s.hub_port} is not a TCP port"),
        ("--max-servers", None if s.max_servers >= 1 else f"must be at least 1, got {s.max_servers}"),
    ]
    checks += [(flag, None if value > 0 else f"must be > 0, got {value}") for flag, value in
               (("--cull-timeout", s.cull_timeout), ("--cull-every", s.cull_every),
                ("--cull-max-age", s.cull_max_age))]
    return next(((flag, message) for flag, message in checks if message), None)


def check(s: HubSettings) -> HubSettings:
    """S, or HubConfigError naming the first bad argument (nothing is written then)."""
    problem = _problem(s)
    if problem:
        raise HubConfigError(f"hub-config: {problem[0]}: {problem[1]}")
    return s


VALUES_COMMENT = ("# The arguments of `repo2desktop hub-config`; HOST_CONFIG: the limits and hardening\n"
                  "# `repo2desktop serve` gives its containers (memory without swap, processes,\n"
                  "# /dev/shm, no capabilities, no privilege gain).\n")
CONFIG_BODY = '''
c = get_config()  # noqa: F821 (provided by JupyterHub)

# Checked against the engine each time the hub starts (the image is a tag that may move):
# the image's user as Docker resolves it, pinned as a uid and never root; NETWORK, exactly
# that name, a bridge without inter-container traffic (made if missing, refused if another
# kind). A failure stops the hub with one line instead of starting it half-configured.
try:
    import docker

    from repo2desktop.serve import hubstart

    _client = docker.from_env()
    SERVER_USER = hubstart.server_user(_client, IMAGE)
    GATEWAY = hubstart.gateway(hubstart.private_network(_client, NETWORK))
except Exception as e:
    sys.exit(f"jupyterhub_config.py: {e}")

c.JupyterHub.authenticator_class = "tmp"
c.Authenticator.allow_all = True  # every visitor may become a temporary user (JupyterHub >= 5)
c.JupyterHub.spawner_class = "docker"
c.JupyterHub.bind_url = f"http://:{PORT}"
c.JupyterHub.cleanup_servers = True
# Temporary users are free to make: this bounds the containers they can start.
c.JupyterHub.active_server_limit = MAX_SERVERS

# The hub's own port listens on loopback only: the proxy and the idle culler, on this host,
# are all that reach it directly. The servers reach the hub's API as visitors' browsers do,
# through the public proxy (at this host's address on NETWORK), so no container, of this
# network or any other, reaches more of the hub than the public does. If you move the
# proxy (bind_url), point hub_connect_url at an address of it the containers can reach.
c.JupyterHub.hub_ip = "127.0.0.1"
c.DockerSpawner.hub_connect_url = f"http://{GATEWAY}:{PORT}"

c.DockerSpawner.image = IMAGE
c.DockerSpawner.cmd = ["jupyterhub-singleuser"]
c.DockerSpawner.default_url = DEFAULT_URL
c.DockerSpawner.network_name = NETWORK
c.DockerSpawner.use_internal_ip = True  # the proxy reaches containers on the private network
c.DockerSpawner.remove = True  # a stopped (culled) server leaves no container
c.DockerSpawner.environment = {"REPO2DESKTOP_START": "eager"}  # desktop up with the server
c.DockerSpawner.extra_create_kwargs = {"user": SERVER_USER}
c.DockerSpawner.mem_limit = MEM_LIMIT
c.DockerSpawner.cpu_limit = CPU_LIMIT
c.DockerSpawner.extra_host_config = HOST_CONFIG
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                f"--timeout={CULL_TIMEOUT}", f"--cull-every={CULL_EVERY}",
                f"--max-age={CULL_MAX_AGE}", "--cull-users=True"],
}]
c.JupyterHub.load_roles = [{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers",
               "admin:users"],
    "services": ["idle-culler"],
}]
'''


def render_config(s: HubSettings) -> str:
    s = check(s)
    values = {
        "IMAGE": s.image, "NETWORK": s.network, "PORT": s.hub_port, "MAX_SERVERS": s.max_servers,
        "MEM_LIMIT": s.mem_limit, "CPU_LIMIT": s.cpu_limit, "DEFAULT_URL": s.default_url,
        "CULL_TIMEOUT": s.cull_timeout, "CULL_EVERY": s.cull_every, "CULL_MAX_AGE": s.cull_max_age,
        "HOST_CONFIG": hardening.host_config(s.mem_limit, s.pids_limit, s.shm_size),
    }
    head = (
        "# jupyterhub_config.py for a repo2desktop image on one host, written by\n"
        "# `repo2desktop hub-config`; the values are in the block below, edit freely.\n"
        "#\n"
        "#   pip install 'repo2desktop[serve]' jupyterhub jupyterhub-tmpauthenticator \\\n"
        "#       dockerspawner jupyterhub-idle-culler\n"
        "#   npm install -g configurable-http-proxy@5.3.0\n"
        f"#   jupyterhub -f {CONFIG_NAME}\n"
        "#\n"
        "# Each visitor of http://HOST:PORT/ becomes a temporary user (tmpauthenticator) and gets\n"
        "# a container of IMAGE (DockerSpawner) that opens straight into its desktop; at most\n"
        "# MAX_SERVERS run at once; the idle culler stops servers idle for CULL_TIMEOUT s or\n"
        "# older than CULL_MAX_AGE s.\n"
        "import sys\n\n"
    )
    block = "".join(f"{name} = {pprint.pformat(value, width=96, sort_dicts=False)}\n"
                    for name, value in values.items())
    return head + VALUES_COMMENT + block + CONFIG_BODY


def values(s: HubSettings) -> Dict:
    """The z2jh values, as data (the unit test checks every key path against the chart's)."""
    name, tag = s.image_name_tag
    return {
        "hub": {"config": {"JupyterHub": {"authenticator_class": "tmp",
                                          "active_server_limit": s.max_servers}}},
        "singleuser": {
            "image": {"name": name, "tag": tag},
            "cmd": "jupyterhub-singleuser",
            "defaultUrl": s.default_url,
            "extraEnv": {"REPO2DESKTOP_START": "eager"},
            "uid": 1000,
            "memory": {"limit": s.mem_limit, "guarantee": "256M"},
            "cpu": {"limit": s.cpu_limit},
            "networkPolicy": {"enabled": True},
            "storage": {"type": "none"},
        },
        "cull": {"enabled": True, "users": True, "timeout": s.cull_timeout,
                 "every": s.cull_every, "maxAge": s.cull_max_age},
    }


def render_values(s: HubSettings) -> str:
    import io

    from ruamel.yaml import YAML

    s = check(s)
    out = io.StringIO()
    out.write(f"# zero-to-jupyterhub (Helm chart `jupyterhub`) values for {s.image!r}\n"
              "# Generated by `repo2desktop hub-config`. Push the image to a registry\n"
              "# your cluster pulls from, then: helm upgrade --install hub jupyterhub/jupyterhub "
              "--values values.yaml\n")
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.dump(values(s), out)
    return out.getvalue()


def write(s: HubSettings, out_dir: str, force: bool = False) -> List[str]:
    os.makedirs(out_dir, exist_ok=True)
    files = {CONFIG_NAME: render_config(s), VALUES_NAME: render_values(s)}
    existing = [n for n in files if os.path.exists(os.path.join(out_dir, n))]
    if existing and not force:
        raise HubConfigError(f"hub-config: {', '.join(os.path.join(out_dir, n) for n in existing)} "
                             "exists; pass --force to replace")
    written = []
    for name, text in files.items():
        path = os.path.join(out_dir, name)
        with open(path, "w") as f:
            f.write(text)
        written.append(path)
    return written
