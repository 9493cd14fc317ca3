"""`repo2desktop hub-config`'s options, declared once (HUB, rows of flags.Flag: argparse,
HubSettings and the README's table are made from it), and their checks. What it writes is
hubconfig.py's.

`repo2desktop hub-config IMAGE` writes two files:
- ``jupyterhub_config.py``: one host, tmpauthenticator (each visitor a temporary user),
  DockerSpawner (containers on a private bridge without inter-container traffic, the
  image's user pinned and never root, the limits and hardening `serve` gives, at most
  ``--max-servers`` at once), jupyterhub-idle-culler as a hub service, and with
  ``--pool-size`` the pre-started pool (repo2desktop/hub/). Its addresses, ports, network
  and container names are flags, so it runs as written beside other hubs. What depends
  on the engine (the image's user, the network) is checked by the file itself each time
  the hub starts (hubstart.py);
- ``values.yaml``: the same for zero-to-jupyterhub (Helm chart ``jupyterhub``, KubeSpawner).
Every image `repo2desktop build` makes has ``jupyterhub-singleuser``, which both start.
"""
from __future__ import annotations

import importlib.util
import ipaddress
import math
import re
from typing import Optional, Tuple

from repo2desktop.errors import Repo2DesktopError
from repo2desktop.serve import flags, hardening, names

DEFAULT_URL = "/desktop/"
POOL_MODULE = "repo2desktop.hub.poolconfig"


class HubConfigError(Repo2DesktopError):
    exit_code = 2


def _ip_problem(ip: str) -> Optional[str]:
    if ip == "":
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return f"{ip!r} is not an IP address of this host ('' for all)"
    if address.is_loopback:
        return (f"{ip} is loopback, where the servers cannot reach the hub: they reach its API "
                "through the proxy; give an address of this host (default: all)")
    return None


def _name_prefix_problem(prefix: str) -> Optional[str]:
    if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,39}", prefix):
        return f"{prefix!r} is not a container name prefix (1-40 of a-z A-Z 0-9 _ . -, not first)"
    return None


F = flags.Flag
# Every `hub-config` option, once.
HUB: Tuple[flags.Flag, ...] = (
    F("image", "the image the servers run (made by `repo2desktop build`)", metavar="IMAGE",
      check=names.image_problem),
    F("--out", "folder to write into", "."),
    F("--force", "replace files that exist", type=bool),
    F("--ip", "address the public proxy listens on", "", shown="all addresses", check=_ip_problem),
    F("--port", "the hub's public port (the proxy)", 8000, int, check=flags.tcp_port()),
    F("--hub-port", "the hub's own API port, on 127.0.0.1", 8081, int, check=flags.tcp_port()),
    F("--proxy-api-port", "the proxy's REST API port, on 127.0.0.1", 8001, int, check=flags.tcp_port()),
    F("--network", "Docker network for the servers (made without inter-container traffic)",
      "repo2desktop-hub", check=names.network_problem),
    F("--name-prefix", "the servers' container names are PREFIX-USER", "repo2desktop-hub",
      check=_name_prefix_problem),
    F("--max-servers", "servers running at once, all visitors together", 20, int,
      check=flags.at_least(1)),
    F("--pool-size", "servers kept started ahead of time and handed to visitors (0 = none: "
      "each visitor waits for a spawn)", 0, int, check=flags.positive(zero_ok=True)),
    F("--mem-limit", "memory per server, no swap beyond it", "1G",
      check=lambda size: hardening.size_problem(size, hardening.MIN_MEMORY)),
    F("--cpu-limit", "CPUs per server", 1.0, float, shown="`1`",
      check=lambda n: None if math.isfinite(n) and n > 0 else f"must be a number of CPUs > 0, got {n}"),
    F("--cull-timeout", "stop servers whose user did nothing this many seconds (the activity each "
      "server reports: input on the desktop, notebooks, kernels; not the proxy's traffic)", 3600, int,
      check=flags.positive()),
    F("--cull-every", "seconds between culler passes", 300, int, check=flags.positive()),
    F("--cull-max-age", "stop servers older than this many seconds", 14400, int, check=flags.positive()),
)
del F
# Where the files go, not what is in them.
OUTPUT_ONLY = ("out", "force")


class _HubSettingsMethods:
    @property
    def image_name_tag(self) -> Tuple[str, str]:
        name, sep, tag = self.image.rpartition(":")
        if not sep or "/" in tag:  # no tag, or the colon belonged to a registry port
            return self.image, "latest"
        return name, tag


# One field per option but --out/--force, with the table's defaults (IMAGE has none).
HubSettings = flags.options_class(
    "HubSettings", [f for f in HUB if f.dest not in OUTPUT_ONLY], base=_HubSettingsMethods,
    defaults=True, doc="`hub-config`'s checked arguments, one field per row of HUB.")


def _problem(s) -> Optional[Tuple[str, str]]:
    """The first (flag, message) wrong in S, or None."""
    problem = flags.first_problem(s, [f for f in HUB if f.dest not in OUTPUT_ONLY])
    if problem:
        return ("IMAGE" if problem[0] == "image" else problem[0]), problem[1]
    ports = {}
    for flag, port in (("--port", s.port), ("--hub-port", s.hub_port), ("--proxy-api-port", s.proxy_api_port)):
        if port in ports:
            return flag, f"{port} is {ports[port]} already"
        ports[port] = flag
    if s.pool_size > s.max_servers:
        return "--pool-size", f"{s.pool_size} is more than --max-servers {s.max_servers}"
    if s.pool_size and importlib.util.find_spec(POOL_MODULE.rsplit(".", 1)[0]) is None:
        return "--pool-size", "the pool's module (repo2desktop.hub) is not installed here"
    return None


def check(s):
    """S, or HubConfigError naming the first bad argument (nothing is written then)."""
    problem = _problem(s)
    if problem:
        raise HubConfigError(f"hub-config: {problem[0]}: {problem[1]}")
    return s


def add_arguments(parser) -> None:
    flags.add_arguments(parser, HUB)


def from_args(args):
    return HubSettings(**{f.dest: getattr(args, f.dest) for f in HUB if f.dest not in OUTPUT_ONLY})
