"""Another local user, created for the test (and removed after), against the owner's desktop.

- TigerVNC: looping wrong passwords through `up`'s port (its relay; the one TCP port every
  local user can reach) never locks the owner out; the VNC socket, the runtime folder, the
  password file and the Xauthority file are closed to them; X refuses them.
- A Jupyter desktop: its websockify socket and folders are closed to them.
- TightVNC cannot avoid the lockout (its RFB port is TCP): `up` says so once another account
  exists (TigerVNC does not), and the README's security section states the limit.
"""
from __future__ import annotations

import os
import re
import pwd
import secrets
import shutil
import subprocess
import tempfile
from contextlib import closing
from pathlib import Path

import pytest

from repo2desktop.runtime import rfb

from .conftest import UpProcess

pytestmark = pytest.mark.host
REPO = Path(__file__).resolve().parents[2]

# What the other user runs: the system's Python, no access to this checkout; the RFB client
# is the package's own (repo2desktop/runtime/rfb.py, standard library only), copied beside it.
WRONG_PASSWORDS = r'''
import os, struct, sys

import rfb


def rfb_wrong_password(port):
    stream = None
    try:
        stream = rfb.open_url(f"ws://127.0.0.1:{port}/websockify")
        rfb.offered_types(stream)
        stream.send(bytes([rfb.VNC_AUTHENTICATION]))
        stream.read(16)  # the challenge
        stream.send(os.urandom(16))  # a wrong answer
        return "accepted" if struct.unpack("!I", stream.read(4))[0] == 0 else "wrong"
    except rfb.Refused:
        return "refused"
    except OSError:
        return "dropped"
    finally:
        if stream is not None:
            stream.close()

port, tries = int(sys.argv[1]), int(sys.argv[2])
print(" ".join(rfb_wrong_password(port) for _ in range(tries)))
'''


@pytest.fixture(scope="module")
def other_user():
    """A second local account with a login shell, removed after the module."""
    assert os.geteuid() == 0, "the host tier runs as root (it creates a second local user)"
    name = f"r2d{secrets.token_hex(3)}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", name], check=True)
    folder = tempfile.mkdtemp(prefix="r2d-other-")
    os.chmod(folder, 0o755)
    script = os.path.join(folder, "wrong_passwords.py")
    with open(script, "w") as f:
        f.write(WRONG_PASSWORDS)
    shutil.copy(REPO / "repo2desktop" / "runtime" / "rfb.py", os.path.join(folder, "rfb.py"))
    for path in (script, os.path.join(folder, "rfb.py")):
        os.chmod(path, 0o644)
    try:
        yield name, script
    finally:
        subprocess.run(["userdel", name], check=False)
        subprocess.run(["rm", "-rf", folder], check=False)
    with pytest.raises(KeyError):
        pwd.getpwnam(name)


def as_user(name: str, *argv: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", name, "--", "env", "-i", "PATH=/usr/bin:/bin", "HOME=/",
                           *[f"{k}={v}" for k, v in (env or {}).items()], *argv],
                          capture_output=True, text=True, timeout=120)


def test_wrong_passwords_from_another_user_never_lock_the_owner_out(other_user, write_config, start_up):
    name, script = other_user
    up = start_up(write_config("version: 1\nvnc: {server: tigervnc}\nautostart: []\n"))
    for _ in range(3):
        attack = as_user(name, "/usr/bin/python3", script, str(up.port), "8")
        assert attack.returncode == 0, attack.stderr
        results = attack.stdout.split()
        assert len(results) == 8 and "accepted" not in results, results
        with closing(rfb.open_url(f"ws://127.0.0.1:{up.port}/websockify")) as stream:
            assert rfb.log_in(stream, up.password) == 0, f"locked out after {results}"

    # Everything else of the session is closed to them.
    display = [l for l in up.output if "display :" in l][0].split("display :")[1].split()[0]
    for path in ("", "vnc-passwd", "Xauthority", "logs/x-session.log", "web/session.json"):
        read = as_user(name, "/bin/cat" if path else "/bin/ls", os.path.join(up.runtime_dir, path))
        assert read.returncode != 0 and "Permission denied" in read.stderr, (path, read.stdout, read.stderr)
    socket_probe = as_user(name, "/usr/bin/python3", "-c",
                           "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])",
                           os.path.join(up.runtime_dir, "vnc.sock"))
    assert socket_probe.returncode != 0 and "PermissionError" in socket_probe.stderr, socket_probe.stderr
    x = as_user(name, "/usr/bin/xdpyinfo", env={"DISPLAY": f":{display}"})
    assert x.returncode != 0 and "unable to open display" in x.stderr, (x.stdout, x.stderr)


@pytest.mark.jupyter
def test_a_jupyter_desktop_is_closed_to_another_user(other_user, tmp_path):
    from .test_jupyter import DESKTOP_YML, JupyterServer

    name, _ = other_user
    server = JupyterServer(tmp_path, DESKTOP_YML.format(server="tigervnc")).wait_ready()
    try:
        server.start_desktop()
        session = server.session()
        server.wait_rfb(timeout=30)
        probe = as_user(name, "/usr/bin/python3", "-c",
                        "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])",
                        session.proxy_socket)
        assert probe.returncode != 0 and "PermissionError" in probe.stderr, probe.stderr
        for path in (os.path.dirname(session.proxy_socket), session.xauthority, session.runtime_dir):
            read = as_user(name, "/bin/cat" if os.path.isfile(path) else "/bin/ls", path)
            assert read.returncode != 0 and "Permission denied" in read.stderr, (path, read.stderr)
    finally:
        server.stop()


def test_tightvnc_lockout_limit_is_said(other_user, write_config):
    name, _ = other_user
    path = write_config("version: 1\nautostart: []\n")
    warning = "warning: vnc.server: TightVNC listens on a loopback TCP port that other local users"
    tiger = write_config("version: 1\nvnc: {server: tigervnc}\nautostart: []\n", "tiger.yml")
    quiet = UpProcess(tiger)
    try:
        quiet.wait_ready()
    finally:
        quiet.stop()
    assert warning not in quiet.errors and "TightVNC" not in quiet.errors, quiet.errors

    up = UpProcess(path)
    try:
        up.wait_ready()
    finally:
        up.stop()
    assert warning in up.errors, up.errors
    # The warning names up to three accounts (sorted) and counts the rest, so the test's account
    # is either named or among the counted ones, whatever other accounts this host has.
    listed = re.search(r"other local users \(([^)]*)\)", up.errors)
    assert listed, up.errors
    names, _, more = listed.group(1).partition(" and ")
    shown = names.split(", ")
    assert shown == sorted(shown) and len(shown) <= 3, listed.group(0)
    assert name in shown or re.fullmatch(r"[1-9]\d* more", more), listed.group(0)

    readme = (REPO / "README.md").read_text()
    assert "TightVNC" in readme and "refuse every login" in readme
