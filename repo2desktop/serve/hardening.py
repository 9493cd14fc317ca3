"""The hardening and limits of every visitor container, declared once.

`serve` passes them to the Docker SDK (docker_adapter.Engine.run); `hub-config` writes the
same mapping into DockerSpawner's ``extra_host_config`` (the SDK's host-config keywords are
the same names). The memory limit itself each sets by its own name (``mem_limit``: the SDK's
keyword, DockerSpawner's setting); swap is bounded here from it. Sizes are checked here too:
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


def host_config(mem_limit: str, pids_limit: int, shm_size: str) -> Dict[str, Any]:
    """Docker SDK host-config keywords every visitor container gets beside MEM_LIMIT."""
    return {
        "memswap_limit": mem_limit,  # memory + swap = memory: no swap beyond the limit
        "pids_limit": pids_limit,
        "shm_size": shm_size,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
    }
