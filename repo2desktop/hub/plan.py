"""What the pool service does next, decided from the hub's user models (pure: models in,
steps out; service.py carries them out through the hub's REST API).

A pool user is in one of three states, read from its groups (poolconfig.py):
- claimed (in CLAIMED_GROUP): a visitor's; the pool never touches it again (the idle
  culler stops its server and deletes it);
- ready (in READY_GROUP): kept while the hub says its server is ready, retired (deleted)
  otherwise — never sent back to starting, so it is never handed out twice;
- starting (in POOL_GROUP only): started, waited for, asked for its desktop, then ready;
  retired when it takes longer than START_TIMEOUT.
Ready and starting users are topped up to the pool's size with new users.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Dict, List, Optional

from repo2desktop.hub.poolconfig import CLAIMED_GROUP, READY_GROUP, USER_PREFIX

START_TIMEOUT = 300.0  # s from the user's creation to a ready desktop


@dataclass(frozen=True)
class Steps:
    create: int  # new users to make and start
    start: List[str]  # starting users without a server
    check: List[str]  # starting users whose server the hub calls ready: ask the desktop
    retire: List[str]  # users to delete (their server is stopped with them)
    keep_active: List[str]  # unclaimed users whose servers the idle culler must not stop


def new_user_name() -> str:
    return USER_PREFIX + secrets.token_hex(8)


def parse_time(text: Optional[str]) -> Optional[datetime]:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def server_of(model: Dict) -> Optional[Dict]:
    """The user's default server model, when the hub has one (running or pending)."""
    return (model.get("servers") or {}).get("")


def plan(models: List[Dict], pool_size: int, now: datetime,
         start_timeout: float = START_TIMEOUT) -> Steps:
    start, check, retire, keep = [], [], [], []
    warm = 0
    for model in models:
        name, groups, server = model["name"], set(model.get("groups") or ()), server_of(model)
        if CLAIMED_GROUP in groups:
            continue
        ready_server = bool(server and server.get("ready"))
        if READY_GROUP in groups:
            if ready_server:
                warm += 1
                keep.append(name)
            else:
                retire.append(name)
            continue
        created = parse_time(model.get("created")) or now
        if (now - created).total_seconds() > start_timeout:
            retire.append(name)
            continue
        warm += 1
        if server is None:
            start.append(name)
        else:
            keep.append(name)
            if ready_server:
                check.append(name)
    return Steps(create=max(0, pool_size - warm), start=start, check=check, retire=retire,
                 keep_active=keep)
