"""Another local account against what every user shares: /tmp and the X socket names.

Two accounts are created for the module (and removed after): OWNER, a plain user with a
home who runs `up`, and INTRUDER, who prepares files or sockets first.

- Files alone cannot block displays: 200 reservation files of mode 0600 in the place every
  repo2desktop used to share (/tmp/.repo2desktop-display-N.lock) leave OWNER's `up` working.
- A display held by another user's X server is named with its user, program and pid.
- A /tmp/.X11-unix that INTRUDER owns (or anyone may write without the sticky bit) is
  refused with a message saying what, where, whose and how to fix it; nothing starts.
- TightVNC never binds its abstract socket name, which X clients try first: the desktop's
  reservation holds it, so INTRUDER cannot bind it and receive the X cookie.
"""
from __future__ import annotations

import fcntl
import importlib.util
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from contextlib import closing
from typing import Optional

import pytest

from repo2desktop.runtime import allocate, guard, rfb
from tests.polling import wait_for

from .conftest import UpProcess

pytestmark = pytest.mark.host
SYSTEM_PYTHON = "/usr/bin/python3"


# What `up` imports beyond the standard library (the package under test is copied too).
MODULES = ("repo2desktop", "jinja2", "markupsafe", "ruamel", "cryptography", "cffi", "_cffi_backend",
           "tornado")  # tornado: up's own page server


def modules_for_everyone() -> str:
    """A world-readable folder with copies of the modules `up` needs: this test's Python
    may live where other accounts cannot go (e.g. under /root), so they run `up` with the
    system's /usr/bin/python3 (the same 3.11) and this folder on PYTHONPATH; supervisord
    and websockify are then the system's."""
    folder = tempfile.mkdtemp(prefix="r2d-modules-")
    for name in MODULES:
        spec = importlib.util.find_spec(name)
        if spec.submodule_search_locations:
            source = list(spec.submodule_search_locations)[0]
            shutil.copytree(source, os.path.join(folder, os.path.basename(source)),
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(spec.origin, folder)
    subprocess.run(["chmod", "-R", "a+rX", folder], check=True)
    return folder


class Account:
    def __init__(self, home: bool):
        self.name = f"r2d{secrets.token_hex(3)}"
        subprocess.run(["useradd", "--shell", "/bin/sh", "--create-home" if home else "--no-create-home",
                        self.name], check=True)
        entry = pwd.getpwnam(self.name)
        self.uid, self.gid, self.home = entry.pw_uid, entry.pw_gid, entry.pw_dir
        self.modules = ""

    def popen(self) -> dict:
        """Popen arguments that run a command as this account, in a clean environment."""
        env = {"PATH": "/usr/bin:/bin", "HOME": self.home, "USER": self.name}
        if self.modules:
            env["PYTHONPATH"] = self.modules
        return {"user": self.uid, "group": self.gid, "extra_groups": [], "env": env, "python": SYSTEM_PYTHON}

    def run(self, *argv: str, **popen) -> subprocess.Popen:
        options = self.popen()
        del options["python"]
        return subprocess.Popen(argv, text=True, **options, **popen)

    def remove(self) -> None:
        subprocess.run(["userdel", "--remove", self.name], check=False, capture_output=True)
        shutil.rmtree(f"/tmp/.repo2desktop-{self.uid}", ignore_errors=True)
        if self.modules:
            shutil.rmtree(self.modules, ignore_errors=True)


@pytest.fixture(scope="module")
def accounts():
    assert os.geteuid() == 0, "the host tier runs as root (it creates local users)"
    owner, intruder = Account(home=True), Account(home=False)
    owner.modules = modules_for_everyone()
    try:
        yield owner, intruder
    finally:
        owner.remove()
        intruder.remove()


@pytest.fixture
def shared_folder():
    """A folder every account can read (the test's tmp_path is root's alone)."""
    folder = tempfile.mkdtemp(prefix="r2d-shared-")
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def desktop_yml(folder: str, text: str) -> str:
    path = os.path.join(folder, "desktop.yml")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


def remove_unheld(paths, uid: Optional[int] = None) -> None:
    """Remove UID's (None: anyone's) files among PATHS, but not one a process holds now."""
    for path in paths:
        try:
            if uid is not None and os.lstat(path).st_uid != uid:
                continue
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.unlink(path)
        except OSError:
            pass
        finally:
            os.close(fd)


def free_display(start: int = 400) -> int:
    probe = allocate.reserve_display(start, needs_vnc_port=True)
    probe.release()
    return probe.number


# -- files alone ------------------------------------------------------------------------------

BLOCK = r'''
import os, sys
made = 0
for n in range(1, 201):
    try:
        os.close(os.open(f"/tmp/.repo2desktop-display-{n}.lock", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        made += 1
    except FileExistsError:
        pass
print(made)
'''


def test_another_accounts_lock_files_do_not_block_a_users_displays(accounts, shared_folder):
    owner, intruder = accounts
    paths = [f"/tmp/.repo2desktop-display-{n}.lock" for n in range(1, 201)]
    # Files other sessions left behind would let the owner through on their own: only those
    # of live sessions stay (as before issue 16, they are taken), the intruder makes the rest.
    remove_unheld(paths)
    maker = intruder.run(SYSTEM_PYTHON, "-c", BLOCK, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    made, errors = maker.communicate(timeout=60)
    try:
        assert maker.returncode == 0, errors
        assert int(made) > 150, "the test could not make the files"  # others hold a few
        up = UpProcess(desktop_yml(shared_folder, "version: 1\nvnc: {server: tigervnc}\nautostart: []\n"),
                       cwd=shared_folder, **owner.popen())
        try:
            up.wait_ready()
            with closing(rfb.open_url(f"ws://127.0.0.1:{up.port}/websockify")) as stream:
                assert rfb.log_in(stream, up.password) == 0
        finally:
            up.stop()
        assert "no free X display" not in up.errors, up.errors
    finally:
        remove_unheld(paths, intruder.uid)


X_SERVER = r'''
import subprocess, sys
server = subprocess.Popen(["/usr/bin/Xtigervnc", ":" + sys.argv[1], "-rfbport", "-1", "-SecurityTypes", "None",
                           "-nolisten", "tcp", "-geometry", "320x200"], stderr=subprocess.DEVNULL)
print(server.pid, flush=True)
sys.stdin.read()
server.terminate()
server.wait()
'''


def test_a_display_taken_by_another_users_x_server_is_named(accounts):
    _, intruder = accounts
    display = free_display()
    runner = intruder.run(SYSTEM_PYTHON, "-c", X_SERVER, str(display), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        pid = int(runner.stdout.readline())
        wait_for(lambda: guard.x_lock_pid(display) == pid, 10, f"the X lock of :{display} naming pid {pid}", 0.05)
        with pytest.raises(Exception) as error:
            allocate.reserve_display(number=display)
        assert str(error.value) == f"display :{display} is held by user {intruder.name}'s Xtigervnc (pid {pid})"
        assert isinstance(error.value, allocate.DisplayUnavailable)
        # Looking for any display, it is passed over.
        other = allocate.reserve_display(display, needs_vnc_port=False)
        try:
            assert other.number != display
        finally:
            other.release()
    finally:
        runner.communicate(timeout=20)


# -- the folder of the X sockets --------------------------------------------------------------

def in_namespace_with(folder: str) -> list:
    """A command prefix: a private mount namespace whose /tmp/.X11-unix is FOLDER (the rest
    of /tmp, the X locks included, stays the host's)."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            'mount --bind "$0" /tmp/.X11-unix && exec "$@"', folder]


@pytest.mark.parametrize("server", ["tightvnc", "tigervnc"])
@pytest.mark.parametrize("whose", ["intruder-0777", "intruder-1777", "root-0777"])
def test_an_x_socket_folder_another_user_controls_is_refused(accounts, shared_folder, server, whose):
    _, intruder = accounts
    folder = tempfile.mkdtemp(prefix="r2d-x11-")
    owner_name, mode = whose.split("-")
    try:
        if owner_name == "intruder":
            os.chown(folder, intruder.uid, intruder.gid)
        os.chmod(folder, int(mode, 8))
        up = UpProcess(desktop_yml(shared_folder, f"version: 1\nvnc: {{server: {server}}}\nautostart: []\n"),
                       prefix=in_namespace_with(folder))
        try:
            up.wait_ready(30)
            started = True
        except AssertionError:  # `up` ended
            started = False
        finally:
            up.stop()
        assert not started, "the desktop started in a folder of X sockets another user controls"
        assert up.proc.returncode != 0
        first = up.errors.strip().splitlines()[-1]
        if owner_name == "intruder":
            assert first == (
                f"repo2desktop: desktop program 'x-session' failed: /tmp/.X11-unix belongs to user "
                f"{intruder.name} (mode {mode}), not to root: {intruder.name} can swap the desktop's X "
                f"socket for a relay and take its X cookie; not starting. To fix it, run "
                f"`chown root:root /tmp/.X11-unix && chmod 1777 /tmp/.X11-unix`"), up.errors
        else:
            assert first == (
                "repo2desktop: desktop program 'x-session' failed: /tmp/.X11-unix is mode 0777 (owner: "
                "root): any user may replace the X sockets in a folder others can write to without the "
                "sticky bit; not starting. To fix it, run `chmod 1777 /tmp/.X11-unix`"), up.errors
        assert os.listdir(folder) == [], "an X socket was made in the folder"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- the abstract socket name -----------------------------------------------------------------

RELAY = r'''
import socket, sys
relay = socket.socket(socket.AF_UNIX)
try:
    relay.bind("\0/tmp/.X11-unix/X" + sys.argv[1])
except OSError as e:
    print("taken:", e.strerror, flush=True)
    sys.exit()
relay.listen(1)
relay.settimeout(10)
print("bound", flush=True)
try:
    client, _ = relay.accept()
    client.settimeout(5)
    print("received", client.recv(200), flush=True)
except socket.timeout:
    print("nothing", flush=True)
'''


def test_x_clients_of_a_tightvnc_desktop_cannot_be_caught_by_another_user(accounts, write_config, start_up):
    _, intruder = accounts
    up = start_up(write_config("version: 1\nautostart: []\n"))
    display = [line for line in up.output if "display :" in line][0].split("display :")[1].split()[0]
    relay = intruder.run(SYSTEM_PYTHON, "-c", RELAY, display, stdout=subprocess.PIPE)
    try:
        state = relay.stdout.readline().strip()
        # An X client of the owner, started after the intruder's attempt.
        client = subprocess.run(["/usr/bin/xdpyinfo"], capture_output=True, text=True, timeout=30,
                                env={**os.environ, "DISPLAY": f":{display}",
                                     "XAUTHORITY": os.path.join(up.runtime_dir, "Xauthority")})
    finally:
        rest, _ = relay.communicate(timeout=30)
    assert state == "taken: Address already in use", (state, rest)
    assert client.returncode == 0 and "vendor string:    AT&T Laboratories Cambridge" in client.stdout, client.stderr
