"""How a JupyterHub config turns the pool on: pure data, no jupyterhub import.

`repo2desktop hub-config --pool-size N` renders these into jupyterhub_config.py (as
``c.JupyterHub.services``, ``c.JupyterHub.load_roles`` and ``c.Class.trait = value``) and
into the z2jh values.yaml (``hub.services``, ``hub.loadRoles``, ``hub.config``).

The pool's state lives in the hub's own database, as membership of three groups:
- POOL_GROUP: every user the pool service made and has not deleted;
- READY_GROUP: those whose server and desktop answer and that nobody was given;
- CLAIMED_GROUP: those the authenticator handed to a visitor (never handed out again).
A pool user in POOL_GROUP alone is still starting. Restarting the hub or the service loses
nothing: both read the groups again.
"""
from __future__ import annotations

from typing import Dict, List, Optional

SERVICE_NAME = "repo2desktop-pool"
ROLE_NAME = "repo2desktop-pool"
POOL_GROUP = "repo2desktop-pool"
READY_GROUP = "repo2desktop-pool-ready"
CLAIMED_GROUP = "repo2desktop-pool-claimed"
GROUPS = (POOL_GROUP, READY_GROUP, CLAIMED_GROUP)
# Pool users' names: never a name tmpauthenticator makes (a UUID), never reused (random).
USER_PREFIX = "pool-"
AUTHENTICATOR_CLASS = "repo2desktop.hub.authenticator.PoolAuthenticator"
# The service's environment variable for the proxy's URL as the service reaches it (where it
# asks each warming desktop's session.json); the --public-url argument wins.
PUBLIC_URL_ENV = "REPO2DESKTOP_POOL_PUBLIC_URL"


def service_command(pool_size: int, python: str, public_url: Optional[str] = None,
                    interval: float = 2.0) -> List[str]:
    command = [python, "-m", "repo2desktop.hub", f"--pool-size={int(pool_size)}",
               f"--interval={float(interval):g}"]
    if public_url:
        command.append(f"--public-url={public_url}")
    return command


def hub_services(pool_size: int, python: str, public_url: Optional[str] = None,
                 interval: float = 2.0) -> List[Dict]:
    """Entries for c.JupyterHub.services: the pool service, started and restarted by the hub.

    PUBLIC_URL: the hub's proxy as the service reaches it (e.g. ``http://GATEWAY:PORT`` on one
    host, ``http://proxy-public`` in zero-to-jupyterhub); without it (and without the
    REPO2DESKTOP_POOL_PUBLIC_URL variable) a server counts as ready when the hub says so,
    without asking its desktop."""
    return [{"name": SERVICE_NAME,
             "command": service_command(pool_size, python, public_url, interval)}]


def hub_roles() -> List[Dict]:
    """Entries for c.JupyterHub.load_roles: the pool service's role, the narrowest that works.

    - ``admin:users``: creating a user has no narrower scope in JupyterHub (it also lets the
      service delete the users it made and mark their servers active, so the idle culler
      leaves servers nobody was given yet);
    - ``servers!group=POOL``: start and read only the pool's own users' servers;
    - ``tokens!group=POOL``: a short-lived token of a starting pool user, with which the service
      asks that user's desktop whether it is ready (a service cannot be given access to
      servers by group: the single-user server does not resolve group filters);
    - ``groups!group=…``: change only the pool's groups' members.
    """
    return [{
        "name": ROLE_NAME,
        "description": "repo2desktop's pool: keep pre-started servers for temporary visitors",
        "scopes": ["admin:users",
                   f"servers!group={POOL_GROUP}",
                   f"tokens!group={POOL_GROUP}",
                   f"groups!group={POOL_GROUP}",
                   f"groups!group={READY_GROUP}",
                   f"read:groups!group={CLAIMED_GROUP}"],
        "services": [SERVICE_NAME],
    }]


def config_traits(pool_size: int) -> Dict[str, Dict]:
    """{"ClassName": {"trait": value}}: set each as c.ClassName.trait = value."""
    return {
        "JupyterHub": {
            "authenticator_class": AUTHENTICATOR_CLASS,
            # Made empty if missing; load_groups only ever adds, so a restart keeps members.
            "load_groups": {group: {"users": []} for group in GROUPS},
        },
    }
