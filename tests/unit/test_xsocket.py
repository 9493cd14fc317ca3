"""runtime.xsocket: which folders of X sockets are refused (and the words that say so), and
which X servers bind their own abstract socket name. Folders are made in tmp_path and given
to another uid with chown (the tests run as root); tests/host/test_shared_tmp.py starts
real desktops against a folder a real second account owns."""
from __future__ import annotations

import os

import pytest

from repo2desktop.runtime import xsocket

NOBODY = 65534


def folder(tmp_path, mode: int, uid: int = 0):
    path = tmp_path / "x11"
    path.mkdir()
    os.chown(path, uid, uid)
    os.chmod(path, mode)
    return str(path)


@pytest.mark.parametrize("mode", [0o1777, 0o700, 0o755, 0o1733])
def test_roots_folder_that_others_cannot_rearrange_is_accepted(tmp_path, mode):
    xsocket.check_socket_folder(folder(tmp_path, mode))


def test_a_missing_folder_is_made_as_an_x_server_would(tmp_path):
    path = str(tmp_path / "x11")
    old = os.umask(0o077)
    try:
        xsocket.check_socket_folder(path)
    finally:
        os.umask(old)
    assert oct(os.stat(path).st_mode & 0o7777) == "0o1777" and os.stat(path).st_uid == os.getuid()


@pytest.mark.parametrize("mode", [0o1777, 0o777, 0o700])
def test_another_users_folder_is_refused_whatever_its_mode(tmp_path, mode):
    path = folder(tmp_path, mode, NOBODY)
    with pytest.raises(xsocket.UnsafeXSocketFolder) as error:
        xsocket.check_socket_folder(path)
    assert str(error.value) == (
        f"{path} belongs to user nobody (mode {mode:04o}), not to root: nobody can swap the desktop's "
        f"X socket for a relay and take its X cookie; not starting. To fix it, run "
        f"`chown root:root {path} && chmod 1777 {path}`")


@pytest.mark.parametrize("mode", [0o777, 0o773, 0o757])
def test_a_folder_others_may_write_without_the_sticky_bit_is_refused(tmp_path, mode):
    path = folder(tmp_path, mode)
    with pytest.raises(xsocket.UnsafeXSocketFolder) as error:
        xsocket.check_socket_folder(path)
    assert str(error.value) == (
        f"{path} is mode {mode:04o} (owner: root): any user may replace the X sockets in a folder "
        f"others can write to without the sticky bit; not starting. To fix it, run `chmod 1777 {path}`")


def test_a_symlink_is_refused(tmp_path):
    target = folder(tmp_path, 0o1777)
    link = str(tmp_path / "link")
    os.symlink(target, link)
    with pytest.raises(xsocket.UnsafeXSocketFolder, match=r"^\S+/link is a symlink \(owner: root\): X servers would "
                                                          r"put the desktop's socket wherever it leads"):
        xsocket.check_socket_folder(link)


@pytest.mark.parametrize("command, binds", [
    ("/usr/bin/xinit /run/xinitrc -- /usr/bin/Xtightvnc :1 -auth A", False),
    ("/usr/bin/Xtightvnc :{display} -rfbport {vnc_port}", False),
    ("Xtightvnc :1", False),
    ("/usr/bin/xinit /run/xinitrc -- /usr/bin/Xtigervnc :1 -auth A", True),
    ("/opt/x/Xsomething :1", True),
])
def test_which_x_servers_bind_their_abstract_name(command, binds):
    assert xsocket.server_binds_abstract_name(command) is binds
