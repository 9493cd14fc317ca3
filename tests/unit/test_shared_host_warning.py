"""The TightVNC shared-host warning (runtime/limits.py) names accounts the same way on every host:
sorted, the first three by name, the rest counted. The host tier checks it with a real second
account; here the account table is given, so every count is covered."""
from __future__ import annotations

import pwd
from typing import List

import pytest

from repo2desktop.runtime import limits


def account(name: str, uid: int, shell: str = "/bin/bash") -> pwd.struct_passwd:
    return pwd.struct_passwd((name, "x", uid, uid, "", f"/home/{name}", shell))


def warning_for(monkeypatch: pytest.MonkeyPatch, load, accounts: List[pwd.struct_passwd]) -> List[str]:
    monkeypatch.setattr(limits.pwd, "getpwall", lambda: accounts)
    monkeypatch.setattr(limits.os, "getuid", lambda: 0)
    return limits.shared_host_warnings(load("version: 1\n"))


def test_no_other_people_no_warning(monkeypatch, load):
    assert warning_for(monkeypatch, load, [account("root", 0), account("nobody", 65534),
                                           account("svc", 1001, "/usr/sbin/nologin")]) == []


@pytest.mark.parametrize("names, shown", [
    (["bob"], "(bob)"),
    (["zoe", "bob", "amy"], "(amy, bob, zoe)"),
    (["zoe", "bob", "amy", "carl", "dan"], "(amy, bob, carl and 2 more)"),
])
def test_accounts_are_sorted_and_counted(monkeypatch, load, names, shown):
    accounts = [account(n, 1000 + i) for i, n in enumerate(names)]
    (message,) = warning_for(monkeypatch, load, accounts)
    assert message.startswith("desktop.yml: warning: vnc.server: TightVNC listens on a loopback TCP port")
    assert f"other local users {shown} can reach" in message


def test_tigervnc_never_warns(monkeypatch, load):
    monkeypatch.setattr(limits.pwd, "getpwall", lambda: [account("bob", 1000)])
    assert limits.shared_host_warnings(load("version: 1\nvnc: {server: tigervnc}\n")) == []
