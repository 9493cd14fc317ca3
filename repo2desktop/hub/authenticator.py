"""PoolAuthenticator: tmpauthenticator's temporary visitors, given a pre-started server.

Each visitor of /hub/tmplogin becomes one of the pool's ready users (READY_GROUP), whose
server is running and whose desktop already answered; the claim (out of READY_GROUP, into
CLAIMED_GROUP) is committed to the hub's database before the visitor's login cookie is set,
in one step without an await, so two visitors (or a restarted hub) never get the same user.
With no ready user left the visitor becomes a new temporary user as with tmpauthenticator
(an ordinary spawn), or, when the hub's active_server_limit is reached, gets a 429 page that
says so at once instead of a spawn that would fail the same way.
"""
from __future__ import annotations

from jupyterhub import orm
from tmpauthenticator import TmpAuthenticator
from tornado import web

from repo2desktop.hub.poolconfig import CLAIMED_GROUP, READY_GROUP

NO_VACANCY = ("No vacancy: all {limit} desktops of this hub are in use. "
              "Try again in a few minutes.")


def _group(db, name: str) -> orm.Group:
    group = orm.Group.find(db, name)
    if group is None:  # load_groups makes them at start; a hub without them is misconfigured
        raise web.HTTPError(500, f"the pool's group {name!r} is missing (c.JupyterHub.load_groups)")
    return group


def claim_ready_user(db, users) -> str | None:
    """The name of a ready pool user, now claimed (committed), or None. Synchronous on
    purpose: the hub runs one event loop, so nothing else touches the groups meanwhile."""
    ready, claimed = _group(db, READY_GROUP), _group(db, CLAIMED_GROUP)
    for orm_user in sorted(ready.users, key=lambda u: u.id):  # the oldest first
        if claimed in orm_user.groups:  # handed out already: never again
            ready.users.remove(orm_user)
            continue
        # The hub's own view of the server: running, nothing pending (a server the culler or
        # a restart stopped is not handed out; the service removes it from the pool).
        if not users[orm_user].spawner.ready:
            continue
        ready.users.remove(orm_user)
        claimed.users.append(orm_user)
        db.commit()
        return orm_user.name
    db.commit()
    return None


class PoolAuthenticator(TmpAuthenticator):
    async def authenticate(self, handler, data):
        name = claim_ready_user(handler.db, handler.users)
        if name:
            self.log.info("repo2desktop pool: visitor given %s (pre-started)", name)
            return {"name": name}
        limit = handler.active_server_limit
        if limit and handler.users.count_active_users()["active"] >= limit:
            self.log.info("repo2desktop pool: no ready server and %s servers active", limit)
            raise web.HTTPError(429, NO_VACANCY.format(limit=limit))
        self.log.info("repo2desktop pool: no ready server; an ordinary spawn")
        return await super().authenticate(handler, data)
