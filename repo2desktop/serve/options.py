"""`repo2desktop serve` options: tmpnb's flags, parsed into one frozen ServeOptions.

Defaults are safe rather than permissive: tokens on, memory/CPU/process limits set, the admin
API on loopback, visitor containers never root. Bad values stop with one clear line, exit 2.
"""
from __future__ import annotations

import argparse
import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

from repo2desktop.config import formatspec
from repo2desktop.errors import Repo2DesktopError
from repo2desktop.serve import hardening, names, users


class OptionError(Repo2DesktopError):
    """A serve option that cannot be used (printed as `serve: --flag: message`)."""

    exit_code = 2

    def __init__(self, flag: str, message: str):
        super().__init__(f"serve: {flag}: {message}")


COMMAND_FIELDS = ("base_path", "port", "ip", "token")
# Jupyter inside the container: base path, port and IP come from serve; the token from the
# JUPYTER_TOKEN environment variable (so it is not on the command line of the default command).
DEFAULT_COMMAND = ("jupyter notebook --no-browser --ip={ip} --port={port} "
                   "--ServerApp.base_url={base_path}")
CONTAINER_PORT = 8888
REDIRECTS = {"desktop": "desktop/", "lab": "lab", "tree": "tree"}


@dataclass(frozen=True)
class Mount:
    host: str
    container: str
    mode: str  # "ro" | "rw"


@dataclass(frozen=True)
class Cors:
    allow_origin: Optional[str] = None
    allow_methods: Optional[str] = None
    allow_headers: Optional[str] = None
    allow_credentials: bool = False
    expose_headers: Optional[str] = None
    max_age: Optional[int] = None

    def headers(self) -> Dict[str, str]:
        if not self.allow_origin:
            return {}
        out = {"Access-Control-Allow-Origin": self.allow_origin}
        if self.allow_methods:
            out["Access-Control-Allow-Methods"] = self.allow_methods
        if self.allow_headers:
            out["Access-Control-Allow-Headers"] = self.allow_headers
        if self.allow_credentials:
            out["Access-Control-Allow-Credentials"] = "true"
        if self.expose_headers:
            out["Access-Control-Expose-Headers"] = self.expose_headers
        if self.max_age is not None:
            out["Access-Control-Max-Age"] = str(self.max_age)
        return out


@dataclass(frozen=True)
class ServeOptions:
    image: str
    pool_name: str
    command: str = DEFAULT_COMMAND
    pool_size: int = 3
    max_containers: int = 20
    ready_timeout: float = 120.0
    max_dock_workers: int = 2
    cull_timeout: float = 3600.0
    cull_period: float = 600.0
    cull_max: float = 14400.0
    mem_limit: str = "1g"
    cpu_shares: Optional[int] = None
    cpu_quota: Optional[int] = 100000  # microseconds per 100 ms period: one core
    pids_limit: int = 1024
    shm_size: str = "256m"
    container_user: Optional[str] = None
    host_directories: Tuple[Mount, ...] = ()
    extra_hosts: Tuple[Tuple[str, str], ...] = ()
    docker_network: Optional[str] = None
    allow_host_access: bool = False  # no firewall between the pool's network and this host
    ip: str = "0.0.0.0"
    port: int = 8000
    admin_ip: str = "127.0.0.1"
    admin_port: int = 10000
    user_length: int = 12
    redirect_uri: str = "desktop/"
    cors: Cors = field(default_factory=Cors)
    api_token: Optional[str] = None
    admin_token: Optional[str] = None
    proxy_token: Optional[str] = None
    proxy_command: Optional[str] = None
    proxy_api_port: int = 0  # 0: a free loopback port
    claims_per_minute: int = 10  # desktops one address may take per minute without API_AUTH_TOKEN; 0: no cap

    def render_command(self, base_path: str, token: str) -> str:
        return self.command.format(base_path=base_path, port=CONTAINER_PORT, ip="0.0.0.0",
                                   token=token)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("image_arg", nargs="?", metavar="IMAGE", help="the image (or --image)")
    p.add_argument("--image", help="image to serve (made by `repo2desktop build`)")
    p.add_argument("--pool-name", help="label naming this pool; default serve-PORT. Two serves "
                   "on one engine need different names (they never touch each other's containers)")
    p.add_argument("--command", default=DEFAULT_COMMAND,
                   help="container command, fields {base_path} {port} {ip} {token} "
                        f"(default: {DEFAULT_COMMAND!r}; the token comes from JUPYTER_TOKEN)")
    p.add_argument("--pool-size", type=int, default=3, help="ready spares kept warm (default 3)")
    p.add_argument("--max-containers", type=int, default=20,
                   help="containers in all, claimed or not (default 20)")
    p.add_argument("--max-dock-workers", type=int, default=2,
                   help="containers starting at once (default 2): starting desktops take the CPU "
                        "that claimed ones need")
    p.add_argument("--ready-timeout", type=float, default=120.0,
                   help="seconds a container has to answer before it is replaced (default 120)")
    p.add_argument("--cull-timeout", type=float, default=3600.0,
                   help="remove a claimed container idle this many seconds (default 3600)")
    p.add_argument("--cull-period", type=float, default=600.0,
                   help="seconds between culling passes (default 600)")
    p.add_argument("--cull-max", type=float, default=14400.0,
                   help="remove any claimed container older than this, busy or not (default 14400; 0 = never)")
    p.add_argument("--mem-limit", default="1g", help="memory limit per container, no swap "
                   "(default 1g; 0 is refused: it would mean none)")
    p.add_argument("--cpu-shares", type=int, default=None, help="relative CPU weight")
    p.add_argument("--cpu-quota", type=int, default=100000,
                   help="CPU microseconds per 100 ms (default 100000 = one core; 0 = none)")
    p.add_argument("--pids-limit", type=int, default=1024, help="processes+threads per container")
    p.add_argument("--shm-size", default="256m", help="/dev/shm size (browsers in the desktop need it; "
                   "default 256m)")
    p.add_argument("--container-user", help="USER[:GROUP] to run as (default: the image's user); "
                   "resolved as Docker does, in the image's /etc/passwd: never root")
    p.add_argument("--host-directories", default="",
                   help="comma-separated HOST[:CONTAINER][:ro|rw] mounts (default rw)")
    p.add_argument("--extra-hosts", default="", help="comma-separated hostname:IP entries")
    p.add_argument("--docker-network", help="use this existing network instead of a private one "
                   "(then inter-container traffic is as that network allows)")
    p.add_argument("--allow-host-access", action="store_true",
                   help="let visitors reach services listening on this host (by default serve "
                        "closes the pool's network to the host with iptables, which needs root)")
    p.add_argument("--ip", default="0.0.0.0", help="public IP of the proxy (default all)")
    p.add_argument("--port", type=int, default=8000, help="public port of the proxy (default 8000)")
    p.add_argument("--admin-ip", default="127.0.0.1", help="admin API IP (loopback unless "
                   "ADMIN_AUTH_TOKEN is set)")
    p.add_argument("--admin-port", type=int, default=10000, help="admin API port (default 10000)")
    p.add_argument("--user-length", type=int, default=12, help="characters of the /user/<id>/ path")
    p.add_argument("--redirect-uri", default="desktop",
                   help="where / sends a visitor in their container: desktop (default), lab, tree, or a path")
    p.add_argument("--allow-origin", help="Access-Control-Allow-Origin of the API ('*' for any)")
    p.add_argument("--allow-methods", help="Access-Control-Allow-Methods")
    p.add_argument("--allow-headers", help="Access-Control-Allow-Headers")
    p.add_argument("--allow-credentials", action="store_true", help="Access-Control-Allow-Credentials")
    p.add_argument("--expose-headers", help="Access-Control-Expose-Headers")
    p.add_argument("--max-age", type=int, help="Access-Control-Max-Age")
    p.add_argument("--claims-per-minute", type=int, default=10,
                   help="desktops one client address may take per minute (default 10; 0 = no cap; "
                        "callers with API_AUTH_TOKEN are not capped). A class behind one NAT "
                        "address needs more")
    p.add_argument("--proxy-api-port", type=int, default=0,
                   help="loopback port of the proxy's REST API (default: a free one)")
    p.add_argument("--proxy-command", help="configurable-http-proxy executable (default: found on "
                   "PATH or in build/node)")


def _positive(flag: str, value: float, zero_ok: bool = False) -> None:
    if value < 0 or (value == 0 and not zero_ok):
        raise OptionError(flag, f"must be {'>= 0' if zero_ok else '> 0'}, got {value}")


def _mounts(text: str) -> Tuple[Mount, ...]:
    mounts = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        parts = item.split(":")
        mode = "rw"
        if parts[-1] in ("ro", "rw", "r"):  # tmpnb wrote ":r" for read-only
            mode = "ro" if parts.pop() in ("ro", "r") else "rw"
        if not parts or len(parts) > 2 or not all(os.path.isabs(p) for p in parts):
            raise OptionError("--host-directories",
                              f"{item!r} is not HOST[:CONTAINER][:ro|rw] with absolute paths")
        if not os.path.isdir(parts[0]):
            raise OptionError("--host-directories", f"{parts[0]} is not a folder on this host")
        mounts.append(Mount(parts[0], parts[-1], mode))
    return tuple(mounts)


def _extra_hosts(text: str) -> Tuple[Tuple[str, str], ...]:
    hosts = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        name, _, ip = item.partition(":")
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise OptionError("--extra-hosts", f"{item!r} is not hostname:IP") from None
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]*", name):
            raise OptionError("--extra-hosts", f"{name!r} is not a host name")
        hosts.append((name, ip))
    return tuple(hosts)


def _redirect(value: str) -> str:
    value = value.lstrip("/")
    if value in REDIRECTS:
        return REDIRECTS[value]
    if not re.fullmatch(r"[A-Za-z0-9._~/-]*", value) or ".." in value:
        raise OptionError("--redirect-uri", f"{value!r} is not a path inside the container's server")
    return value


def _is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return ip == "localhost"


def from_args(args: argparse.Namespace, environ: Optional[Dict[str, str]] = None) -> ServeOptions:
    """Check every option and read the tokens from ENVIRON (tmpnb's variable names)."""
    env = os.environ if environ is None else environ
    image = args.image or args.image_arg
    if not image:
        raise OptionError("IMAGE", "name the image to serve (`repo2desktop serve IMAGE`)")
    if args.image and args.image_arg and args.image != args.image_arg:
        raise OptionError("--image", f"two different images given: {args.image_arg!r} and {args.image!r}")
    if names.image_problem(image):
        raise OptionError("IMAGE", names.image_problem(image))
    problem = formatspec.template_problem(args.command)
    if problem:  # before the dry run below: a huge width is gigabytes
        raise OptionError("--command", problem)
    try:
        args.command.format(**{name: "x" for name in COMMAND_FIELDS})
    except (KeyError, IndexError, ValueError) as e:
        raise OptionError("--command", f"unknown or malformed field {e}; fields: "
                          + ", ".join("{%s}" % f for f in COMMAND_FIELDS)) from None
    if args.pool_size < 1:
        raise OptionError("--pool-size", f"must be at least 1, got {args.pool_size}")
    if args.max_containers < args.pool_size:
        raise OptionError("--max-containers", f"{args.max_containers} is less than --pool-size "
                          f"{args.pool_size}")
    if args.max_dock_workers < 1:
        raise OptionError("--max-dock-workers", f"must be at least 1, got {args.max_dock_workers}")
    _positive("--ready-timeout", args.ready_timeout)
    _positive("--cull-timeout", args.cull_timeout)
    _positive("--cull-period", args.cull_period)
    _positive("--cull-max", args.cull_max, zero_ok=True)
    if args.cpu_quota is not None and args.cpu_quota != 0 and args.cpu_quota < 1000:
        raise OptionError("--cpu-quota", "must be 0 (none) or at least 1000 microseconds")
    if args.pids_limit < 16:
        raise OptionError("--pids-limit", "a desktop needs at least 16 processes")
    if not 4 <= args.user_length <= 64:
        raise OptionError("--user-length", "must be between 4 and 64")
    for flag, size, minimum in (("--mem-limit", args.mem_limit, hardening.MIN_MEMORY),
                                ("--shm-size", args.shm_size, 1)):
        problem = hardening.size_problem(size, minimum)
        if problem:
            raise OptionError(flag, problem)
    user = args.container_user
    problem = users.early_problem(user) if user is not None else None
    if problem:  # names are resolved in the image's /etc/passwd when serve starts
        raise OptionError("--container-user", problem)
    admin_token = env.get("ADMIN_AUTH_TOKEN") or None
    if not _is_loopback(args.admin_ip) and not admin_token:
        raise OptionError("--admin-ip", f"{args.admin_ip} is not loopback: set ADMIN_AUTH_TOKEN "
                          "to expose the admin API")
    for flag, port in (("--port", args.port), ("--admin-port", args.admin_port),
                       ("--proxy-api-port", args.proxy_api_port or 1)):
        if not 1 <= port <= 65535:
            raise OptionError(flag, f"{port} is not a TCP port")
    if args.claims_per_minute < 0:
        raise OptionError("--claims-per-minute", f"must be 0 (no cap) or more, got {args.claims_per_minute}")
    pool_name = args.pool_name or f"serve-{args.port}"
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,39}", pool_name):
        raise OptionError("--pool-name", f"{pool_name!r}: use 1-40 of a-z 0-9 _ . -")
    return ServeOptions(
        image=image, pool_name=pool_name, command=args.command, pool_size=args.pool_size,
        max_containers=args.max_containers, ready_timeout=args.ready_timeout,
        max_dock_workers=args.max_dock_workers,
        cull_timeout=args.cull_timeout, cull_period=args.cull_period, cull_max=args.cull_max,
        mem_limit=args.mem_limit, cpu_shares=args.cpu_shares, cpu_quota=args.cpu_quota or None,
        pids_limit=args.pids_limit, shm_size=args.shm_size, container_user=user,
        host_directories=_mounts(args.host_directories), extra_hosts=_extra_hosts(args.extra_hosts),
        docker_network=args.docker_network, ip=args.ip, port=args.port, admin_ip=args.admin_ip,
        allow_host_access=args.allow_host_access,
        admin_port=args.admin_port, user_length=args.user_length,
        redirect_uri=_redirect(args.redirect_uri),
        cors=Cors(args.allow_origin, args.allow_methods, args.allow_headers,
                  args.allow_credentials, args.expose_headers, args.max_age),
        api_token=env.get("API_AUTH_TOKEN") or None, admin_token=admin_token,
        proxy_token=env.get("CONFIGPROXY_AUTH_TOKEN") or None, proxy_command=args.proxy_command,
        proxy_api_port=args.proxy_api_port, claims_per_minute=args.claims_per_minute)
