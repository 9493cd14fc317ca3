"""A random per-session VNC password and the password file VNC servers read.

The file format is the classic one of `vncpasswd`: the password, NUL-padded to 8 bytes,
encrypted with single DES under a fixed, publicly known key (bit-reversed as VNC's d3des
does). It obfuscates, it does not protect: the file's mode (0600, in a 0700 directory) does.
RFB only uses the first 8 characters of a password, so the password has exactly 8.
"""
from __future__ import annotations

import os
import secrets
import string

try:  # cryptography >= 43 keeps single/triple DES among the "decrepit" algorithms
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # pragma: no cover - older cryptography
    from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

# vncauth.c's fixed key {23,82,107,6,35,78,88,7}, each byte bit-reversed.
_FIXED_KEY = bytes.fromhex("e84ad660c4721ae0")
_ALPHABET = string.ascii_letters + string.digits


def new_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(8))


def _des(key: bytes, data: bytes) -> bytes:
    # Triple DES with K1 = K2 = K3 is single DES.
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def _key(password: str) -> bytes:
    # VNC's d3des takes each key byte with its bits in reverse order.
    raw = password.encode("latin-1")[:8].ljust(8, b"\0")
    return bytes(int(f"{b:08b}"[::-1], 2) for b in raw)


def obfuscate(password: str) -> bytes:
    return _des(_FIXED_KEY, password.encode("latin-1")[:8].ljust(8, b"\0"))


def challenge_response(password: str, challenge: bytes) -> bytes:
    """RFB's VNC authentication: the 16-byte challenge DES-encrypted under the password."""
    return _des(_key(password), challenge)


def write_password_file(path: str, password: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(obfuscate(password))
