"""The pure parts of the JupyterHub pool (repo2desktop/hub/): the service's plan, the config
it hands hub-config (checked against JupyterHub's own traits and scopes), and the
authenticator's claim, on JupyterHub's own database models (sqlite file: a restart reads it
again). The whole pool runs for real in tests/serve/test_hub_pool.py."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from tornado import web

from repo2desktop.hub import poolconfig
from repo2desktop.hub.plan import Steps, plan
from repo2desktop.hub.poolconfig import CLAIMED_GROUP, GROUPS, POOL_GROUP, READY_GROUP

from .aio import run_in_own_loop

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


def model(name, groups=(POOL_GROUP,), server=None, age=10):
    created = (NOW - timedelta(seconds=age)).isoformat().replace("+00:00", "Z")
    return {"name": name, "groups": list(groups), "created": created,
            "servers": {"": server} if server else {}}


READY = {"ready": True, "pending": None, "url": "/user/x/"}
PENDING = {"ready": False, "pending": "spawn", "url": "/user/x/"}


@pytest.mark.parametrize("models, size, expected", [
    ([], 2, Steps(create=2, start=[], check=[], retire=[], keep_active=[])),
    # handed out: not counted, never touched again
    ([model("c", (POOL_GROUP, CLAIMED_GROUP), READY)], 1,
     Steps(create=1, start=[], check=[], retire=[], keep_active=[])),
    # ready and its server up: kept from the culler; its server gone: deleted, never restarted
    ([model("r", (POOL_GROUP, READY_GROUP), READY), model("gone", (POOL_GROUP, READY_GROUP))], 2,
     Steps(create=1, start=[], check=[], retire=["gone"], keep_active=["r"])),
    # ready and claimed both (a claim seen half-way): claimed wins
    ([model("both", (POOL_GROUP, READY_GROUP, CLAIMED_GROUP), READY)], 1,
     Steps(create=1, start=[], check=[], retire=[], keep_active=[])),
    # starting: no server yet -> start; pending -> wait; up -> ask its desktop
    ([model("new"), model("pending", server=PENDING), model("up", server=READY)], 3,
     Steps(create=0, start=["new"], check=["up"], retire=[], keep_active=["pending", "up"])),
    # starting for too long: deleted and replaced
    ([model("stuck", server=PENDING, age=301)], 1,
     Steps(create=1, start=[], check=[], retire=["stuck"], keep_active=[])),
    # more than the pool's size (the size was lowered): nothing created, nothing stopped
    ([model("a", (POOL_GROUP, READY_GROUP), READY), model("b", (POOL_GROUP, READY_GROUP), READY)], 1,
     Steps(create=0, start=[], check=[], retire=[], keep_active=["a", "b"])),
])
def test_plan(models, size, expected):
    assert plan(models, size, NOW) == expected


def test_config_is_what_jupyterhub_accepts():
    from jupyterhub import scopes
    from jupyterhub.app import JupyterHub
    from traitlets.config import Config

    config = Config()
    for cls, traits in poolconfig.config_traits(3).items():
        for trait, value in traits.items():
            config[cls][trait] = value
    config.JupyterHub.services = poolconfig.hub_services(3, sys.executable, public_url="http://proxy")
    config.JupyterHub.load_roles = poolconfig.hub_roles()
    app = JupyterHub(config=config)
    for cls, traits in poolconfig.config_traits(3).items():  # every trait exists on its class
        assert cls == "JupyterHub" and set(traits) <= set(app.trait_names())
    assert app.authenticator_class.__name__ == "PoolAuthenticator"
    assert app.load_groups == {group: {"users": []} for group in GROUPS}
    (role,) = app.load_roles
    scopes._check_scopes_exist(role["scopes"])  # raises on a scope JupyterHub does not know
    assert role["services"] == [poolconfig.SERVICE_NAME]
    # admin:users is the one unfiltered scope (creating users has no narrower one)
    assert [s for s in role["scopes"] if "!" not in s] == ["admin:users"]
    (service,) = app.services
    assert service["command"] == [sys.executable, "-m", "repo2desktop.hub", "--pool-size=3",
                                  "--interval=2", "--public-url=http://proxy"]


def test_the_service_outside_a_hub_says_what_is_missing():
    done = subprocess.run([sys.executable, "-m", "repo2desktop.hub", "--pool-size=2"],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 2
    assert done.stderr.strip() == ("repo2desktop-pool: JUPYTERHUB_API_URL, JUPYTERHUB_API_TOKEN "
                                   "not set: run it as a JupyterHub service (c.JupyterHub.services)")


# -- the authenticator's claim, on JupyterHub's database -----------------------------------

class Servers(dict):
    """The hub's user wrappers as the claim reads them: NAME -> whether its server is ready."""

    def __getitem__(self, orm_user):
        return SimpleNamespace(spawner=SimpleNamespace(ready=self.get(orm_user.name, False)))


@pytest.fixture
def hub_db(tmp_path):
    from jupyterhub import orm

    url = f"sqlite:///{tmp_path}/jupyterhub.sqlite"

    def session():
        return orm.new_session_factory(url)()

    db = session()
    for group in GROUPS:
        db.add(orm.Group(name=group))
    db.commit()
    return session


def _add(db, name, *groups):
    from jupyterhub import orm

    user = orm.User(name=name)
    db.add(user)
    found = [orm.Group.find(db, group) for group in groups]  # held until the commit
    for group in found:
        group.users.append(user)
    db.commit()


def _members(db, group):
    from jupyterhub import orm

    db.expire_all()
    return sorted(u.name for u in orm.Group.find(db, group).users)


def test_a_ready_user_is_handed_out_once_even_after_a_restart(hub_db):
    from repo2desktop.hub.authenticator import claim_ready_user

    db = hub_db()
    _add(db, "pool-a", POOL_GROUP, READY_GROUP)
    _add(db, "pool-b", POOL_GROUP, READY_GROUP)
    _add(db, "pool-stopped", POOL_GROUP, READY_GROUP)  # its server stopped: not handed out
    _add(db, "pool-both", POOL_GROUP, READY_GROUP, CLAIMED_GROUP)  # claimed wins
    servers = Servers({"pool-a": True, "pool-b": True, "pool-both": True})
    assert claim_ready_user(db, servers) == "pool-a"  # the oldest first
    # A restarted hub: a new session on the same database file.
    db = hub_db()
    assert claim_ready_user(db, servers) == "pool-b"
    assert claim_ready_user(db, servers) is None
    assert _members(db, READY_GROUP) == ["pool-stopped"]
    assert _members(db, CLAIMED_GROUP) == ["pool-a", "pool-b", "pool-both"]


def _handler(db, servers, limit, active):
    users = Servers(servers)
    users.count_active_users = lambda: {"active": active}
    return SimpleNamespace(db=db, users=users, active_server_limit=limit)


def test_no_ready_user_at_the_limit_is_no_vacancy_and_below_it_an_ordinary_temporary_user(hub_db):
    from repo2desktop.hub.authenticator import PoolAuthenticator

    db = hub_db()
    _add(db, "pool-a", POOL_GROUP, READY_GROUP)
    auth = PoolAuthenticator()
    with pytest.raises(web.HTTPError) as full:
        run_in_own_loop(lambda: auth.authenticate(_handler(db, {}, 2, 2), {}))
    assert full.value.status_code == 429
    assert full.value.log_message == ("No vacancy: all 2 desktops of this hub are in use. "
                                      "Try again in a few minutes.")
    ordinary = run_in_own_loop(lambda: auth.authenticate(_handler(db, {}, 2, 1), {}))
    assert not ordinary["name"].startswith(poolconfig.USER_PREFIX)  # a UUID, spawned as usual
    given = run_in_own_loop(lambda: auth.authenticate(_handler(db, {"pool-a": True}, 2, 2), {}))
    assert given == {"name": "pool-a"}
