"""`repo2desktop serve` options: tmpnb's flags, parsed into one frozen ServeOptions.

Defaults are safe rather than permissive: tokens on, memory/CPU/process limits set, the admin
API on loopback, visitor containers never root. Bad values stop with one clear line, exit 2.
"""
from __future__ import annotations

import argparse
import ipaddress
import os
import re
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from repo2desktop.config import formatspec
from repo2desktop.errors import Repo2DesktopError
from repo2desktop.serve import flags, hardening, names, users


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


def _command_problem(command: str) -> Optional[str]:
    problem = formatspec.template_problem(command)
    if problem:  # before the dry run below: a huge width is gigabytes
        return problem
    try:
        command.format(**{name: "x" for name in COMMAND_FIELDS})
    except (KeyError, IndexError, ValueError) as e:
        return f"unknown or malformed field {e}; fields: " + ", ".join("{%s}" % f for f in COMMAND_FIELDS)
    return None


def _cpu_quota_problem(quota: Optional[int]) -> Optional[str]:
    if quota is not None and quota != 0 and quota < 1000:
        return "must be 0 (none) or at least 1000 microseconds"
    return None


F = flags.Flag
# Every `serve` option, once: argparse, ServeOptions and the README's table are made from it.
SERVE: Tuple[flags.Flag, ...] = (
    F("image", "the image to serve", field="image_arg", metavar="IMAGE", nargs="?", shown="required, here or as --image"),
    F("--image", "image to serve (made by `repo2desktop build`)"),
    F("--pool-name", "label naming this pool. Two serves on one engine need different names "
      "(they never touch each other's containers)", shown="`serve-PORT`"),
    F("--command", "container command, fields {base_path} {port} {ip} {token}; the token comes "
      "from JUPYTER_TOKEN", DEFAULT_COMMAND, check=_command_problem),
    F("--pool-size", "ready spares kept warm", 3, int, check=flags.at_least(1)),
    F("--max-containers", "containers in all, claimed or not", 20, int),
    F("--max-dock-workers", "containers starting at once: starting desktops take the CPU that "
      "claimed ones need", 2, int, check=flags.at_least(1)),
    F("--ready-timeout", "seconds a container has to answer before it is replaced", 120.0, float,
      shown="`120`", check=flags.positive()),
    F("--cull-timeout", "remove a claimed container whose visitor did nothing this many seconds "
      "(its Jupyter server's last activity: input on the desktop, notebooks, kernels; not frames "
      "to an open tab)", 3600.0, float,
      shown="`3600`", check=flags.positive()),
    F("--cull-period", "seconds between culling passes", 600.0, float, shown="`600`",
      check=flags.positive()),
    F("--cull-max", "remove any claimed container older than this many seconds, busy or not "
      "(0 = never)", 14400.0, float, shown="`14400`", check=flags.positive(zero_ok=True)),
    F("--mem-limit", "memory limit per container, no swap beyond it; 0 is refused (Docker reads "
      "it as no limit)", "1g", check=lambda size: hardening.size_problem(size, hardening.MIN_MEMORY)),
    F("--cpu-shares", "relative CPU weight", None, int),
    F("--cpu-quota", "CPU microseconds per 100 ms (0 = none)", 100000, int, shown="`100000` (one core)",
      check=_cpu_quota_problem),
    F("--pids-limit", "processes+threads per container", hardening.PIDS_LIMIT, int,
      check=lambda n: None if n >= 16 else "a desktop needs at least 16 processes"),
    F("--shm-size", "/dev/shm size (browsers in the desktop need it); 0 is refused", hardening.SHM_SIZE,
      check=lambda size: hardening.size_problem(size, 1)),
    F("--container-user", "USER[:GROUP] to run as, resolved as Docker does in the image's "
      "/etc/passwd and pinned as its uid; root in any spelling is refused",
      shown="the image's USER", check=lambda user: users.early_problem(user) if user is not None else None),
    F("--host-directories", "comma-separated HOST[:CONTAINER][:ro|rw] mounts (default rw)", "",
      shown="none"),
    F("--extra-hosts", "comma-separated hostname:IP entries", "", shown="none"),
    F("--docker-network", "use this existing network instead of a private one (then "
      "inter-container traffic is as that network allows)", shown="a private bridge per pool, "
      "`r2d-serve-POOL`"),
    F("--allow-host-access", "let visitors reach services listening on this host (by default serve "
      "closes the pool's network to the host with iptables, which needs root)", type=bool),
    F("--ip", "public IP of the proxy", "0.0.0.0", shown="`0.0.0.0` (all)"),
    F("--port", "public port of the proxy", 8000, int, check=flags.tcp_port()),
    F("--admin-ip", "admin API IP (loopback unless ADMIN_AUTH_TOKEN is set)", "127.0.0.1"),
    F("--admin-port", "admin API port", 10000, int, check=flags.tcp_port()),
    F("--proxy-api-port", "loopback port of the proxy's REST API", 0, int, shown="a free one",
      check=flags.tcp_port(zero_ok=True)),
    F("--user-length", "characters of the /user/ID/ path", 12, int,
      check=lambda n: None if 4 <= n <= 64 else "must be between 4 and 64"),
    F("--redirect-uri", "where / sends a visitor in their container: desktop, lab, tree, or a path",
      "desktop"),
    F("--claims-per-minute", "desktops one client address may take per minute (0 = no cap; callers "
      "with API_AUTH_TOKEN are not capped). A class behind one NAT address needs more", 10, int,
      check=lambda n: None if n >= 0 else f"must be 0 (no cap) or more, got {n}"),
    F("--allow-origin", "CORS: Access-Control-Allow-Origin of the API ('*' for any)", shown="off"),
    F("--allow-methods", "CORS: Access-Control-Allow-Methods", shown="off"),
    F("--allow-headers", "CORS: Access-Control-Allow-Headers", shown="off"),
    F("--allow-credentials", "CORS: Access-Control-Allow-Credentials", type=bool),
    F("--expose-headers", "CORS: Access-Control-Expose-Headers", shown="off"),
    F("--max-age", "CORS: Access-Control-Max-Age", None, int, shown="off"),
    F("--proxy-command", "configurable-http-proxy executable", shown="found on PATH or in build/node"),
)
del F


class _ServeOptionsMethods:
    def render_command(self, base_path: str, token: str) -> str:
        return self.command.format(base_path=base_path, port=CONTAINER_PORT, ip="0.0.0.0", token=token)

    @property
    def cors(self) -> Cors:
        return Cors(self.allow_origin, self.allow_methods, self.allow_headers, self.allow_credentials,
                    self.expose_headers, self.max_age)


# One field per option (IMAGE and --image become `image`), plus the tokens read from the
# environment (tmpnb's variable names).
ServeOptions = flags.options_class(
    "ServeOptions", [f for f in SERVE if f.dest != "image_arg"],
    extra=[("api_token", Optional[str]), ("admin_token", Optional[str]),
           ("proxy_token", Optional[str])],
    base=_ServeOptionsMethods, doc="`serve`'s checked options, one field per row of SERVE.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    flags.add_arguments(p, SERVE)


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
    problem = flags.first_problem(args, SERVE)
    if problem:
        raise OptionError(*problem)
    if args.max_containers < args.pool_size:
        raise OptionError("--max-containers", f"{args.max_containers} is less than --pool-size "
                          f"{args.pool_size}")
    admin_token = env.get("ADMIN_AUTH_TOKEN") or None
    if not _is_loopback(args.admin_ip) and not admin_token:
        raise OptionError("--admin-ip", f"{args.admin_ip} is not loopback: set ADMIN_AUTH_TOKEN "
                          "to expose the admin API")
    pool_name = args.pool_name or f"serve-{args.port}"
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,39}", pool_name):
        raise OptionError("--pool-name", f"{pool_name!r}: use 1-40 of a-z 0-9 _ . -")
    values = {flag.dest: getattr(args, flag.dest) for flag in SERVE if flag.dest != "image_arg"}
    values.update(
        image=image, pool_name=pool_name, cpu_quota=args.cpu_quota or None,
        host_directories=_mounts(args.host_directories), extra_hosts=_extra_hosts(args.extra_hosts),
        redirect_uri=_redirect(args.redirect_uri), admin_token=admin_token,
        api_token=env.get("API_AUTH_TOKEN") or None, proxy_token=env.get("CONFIGPROXY_AUTH_TOKEN") or None)
    return ServeOptions(**values)
