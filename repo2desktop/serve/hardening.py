"""The hardening and limits of every visitor container, declared once.

`serve` passes them to the Docker SDK (docker_adapter.Engine.run); `hub-config` writes the
same mapping into DockerSpawner's ``extra_host_config`` (the SDK's host-config keywords are
the same names) and its Kubernetes counterpart into the z2jh values (kubernetes()). The
memory limit itself each sets by its own name (``mem_limit``: the SDK's keyword,
DockerSpawner's setting, z2jh's ``singleuser.memory.limit``); swap is bounded here from it.
The defaults of the per-container limits are here too (serve's flags and hub-config take
them from here). Sizes are checked here too:
Docker reads a memory limit or /dev/shm size of 0 as "none" (the engine's default), which is
no limit at all for memory.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Optional

# Docker's own size syntax, ASCII digits only (Python's \d would take any script's digits).
SIZE = re.compile(r"([0-9]{1,20})([bkmgBKMG]?)")
UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
MIN_MEMORY = 6 * 1024 ** 2  # the engine refuses a smaller memory limit
MAX_SIZE = 2 ** 62  # the engine's sizes are int64
PIDS_LIMIT = 1024  # processes + threads: a desktop with a browser uses a few hundred
SHM_SIZE = "256m"  # /dev/shm: browsers in the desktop crash with Docker's 64m
# The uid a z2jh server runs as: KubeSpawner cannot read the image's USER (the one-host
# hub resolves it each time it starts); 1000 is the notebook user of every image
# `repo2desktop build` makes (repo2docker's NB_UID).
KUBERNETES_UID = 1000


def size_bytes(text: str) -> Optional[int]:
    match = SIZE.fullmatch(text)
    return int(match.group(1)) * UNITS[match.group(2).lower()] if match else None


def size_problem(text: str, minimum: int = 1) -> Optional[str]:
    """Why TEXT is no size such as 512m or 2g that limits anything, or None."""
    size = size_bytes(text)
    if size is None:
        return f"{text!r} is not a size such as 512m or 2g"
    if size == 0:
        return f"{text!r} would mean no limit; give a size such as 512m or 2g"
    if size < minimum:
        return f"{text!r} is less than the engine's minimum of {minimum // 1024 ** 2}m"
    if size > MAX_SIZE:
        return f"{text!r} is larger than the engine can take"
    return None


def host_config(mem_limit: str, pids_limit: int = PIDS_LIMIT, shm_size: str = SHM_SIZE) -> Dict[str, Any]:
    """Docker SDK host-config keywords every visitor container gets beside MEM_LIMIT."""
    return {
        "memswap_limit": mem_limit,  # memory + swap = memory: no swap beyond the limit
        "pids_limit": pids_limit,
        "shm_size": shm_size,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
    }


def kubernetes() -> Dict[str, Any]:
    """The same policy for zero-to-jupyterhub (KubeSpawner), as z2jh values: ``singleuser``
    keys (never root, no privilege gain) and, through ``hub.config``, KubeSpawner's
    container security context (no capabilities, which the chart has no key for).
    Kubernetes nodes run without swap by default, so the memory limit has none beyond it;
    a pod's process limit and /dev/shm are the cluster's settings (kubelet's podPidsLimit;
    an emptyDir of medium Memory), not the chart's."""
    return {
        "singleuser": {"uid": KUBERNETES_UID, "allowPrivilegeEscalation": False},
        "hub.config": {"KubeSpawner": {"container_security_context": {
            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}}},
    }
