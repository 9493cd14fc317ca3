"""The per-session VNC password and its classic vncpasswd file."""
from __future__ import annotations

import os
import shutil
import stat
import string
import subprocess
from pathlib import Path

import pytest

from repo2desktop.runtime import vncpasswd
from repo2desktop.runtime.vncpasswd import new_password, obfuscate, write_password_file

ALPHABET = set(string.ascii_letters + string.digits)


def test_obfuscate_matches_tightvncpasswd():
    # Recorded once from `echo abcdefgh | tightvncpasswd -f | xxd -p`.
    assert obfuscate("abcdefgh").hex() == "db8ab02565e3b4c2"


def test_obfuscate_pads_short_and_cuts_long_passwords():
    assert len(obfuscate("")) == 8
    assert obfuscate("abcdefgh") == obfuscate("abcdefghXYZ")  # RFB reads 8 characters
    assert obfuscate("abc") != obfuscate("abc\0\0\0\0\1")
    assert obfuscate("abc") == obfuscate("abc\0\0\0\0\0")  # NUL padding


@pytest.mark.skipif(shutil.which("tightvncpasswd") is None, reason="tightvncpasswd is not installed")
@pytest.mark.parametrize("password", ["abcdefgh", "Zz09Zz09", "12345678", "QWERTYui"])
def test_obfuscate_agrees_with_installed_tightvncpasswd(password):
    result = subprocess.run(["tightvncpasswd", "-f"], input=password.encode() + b"\n",
                            capture_output=True, timeout=10, check=True)
    assert obfuscate(password) == result.stdout


def test_new_password_is_eight_letters_or_digits():
    for _ in range(200):
        password = new_password()
        assert len(password) == 8
        assert set(password) <= ALPHABET


def test_new_passwords_differ():
    passwords = {new_password() for _ in range(100)}
    assert len(passwords) == 100  # 62**8 possibilities: a repeat means no randomness


def test_password_file_is_private(tmp_path: Path):
    path = tmp_path / "vnc.passwd"
    old = os.umask(0)  # the file must be 0600 whatever the caller's umask
    try:
        write_password_file(str(path), "abcdefgh")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == bytes.fromhex("db8ab02565e3b4c2")


def test_password_file_is_never_overwritten(tmp_path: Path):
    path = tmp_path / "vnc.passwd"
    write_password_file(str(path), "abcdefgh")
    with pytest.raises(FileExistsError):
        write_password_file(str(path), "other123")
    assert path.read_bytes() == obfuscate("abcdefgh")


def test_password_file_does_not_follow_a_planted_symlink(tmp_path: Path):
    target = tmp_path / "elsewhere"
    target.write_bytes(b"keep")
    link = tmp_path / "vnc.passwd"
    link.symlink_to(target)
    with pytest.raises(FileExistsError):
        write_password_file(str(link), "abcdefgh")
    assert target.read_bytes() == b"keep"


def test_challenge_response_keys_des_like_vncs_d3des():
    """The obfuscation key is VNC's fixed key bit-reversed; the challenge key is built the same
    way from the password, so encrypting with the fixed key's bytes as a password matches."""
    fixed = bytes([23, 82, 107, 6, 35, 78, 88, 7]).decode("latin-1")
    challenge = bytes(range(16))
    assert vncpasswd.challenge_response(fixed, challenge[:8]) == vncpasswd.obfuscate(challenge[:8].decode("latin-1"))
    assert len(vncpasswd.challenge_response("Xk3v9QaZ", challenge)) == 16
    assert vncpasswd.challenge_response("Xk3v9QaZ", challenge) != vncpasswd.challenge_response("Xk3v9QaY", challenge)
