"""Which VNC server arguments weaken the desktop's protection.

The default command keeps the desktop private: TigerVNC on a 0600 unix socket with no TCP
port, TightVNC on loopback with a per-session password, the X server behind a cookie
(-auth) and off TCP. ``vnc.args`` is for harmless extras (-dpi, -verbose, -alwaysshared);
an argument that changes authentication or where the servers listen is refused unless
``vnc.unsafe_args: true`` says it is meant. A full ``vnc.command`` override is the user's
own command line: validation warns about each protection it lacks.

The flags are those of Xtightvnc 1.3 and Xtigervnc 1.12 (their -help), including the X
server's own. TigerVNC also takes ``-Name=value`` and ``Name=value`` with any case, so
arguments are compared by their lower-cased name.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence

AUTHENTICATION = "how the VNC server authenticates"
LISTENING = "where the VNC server listens"
X_ACCESS = "who may use the X display"
X_LISTENING = "where the X server listens (TCP, XDMCP)"

UNSAFE: Dict[str, str] = {
    **dict.fromkeys(("securitytypes", "rfbauth", "passwordfile", "password", "plainusers",
                     "pamservice", "pam_service", "x509key", "x509cert", "gnutlspriority",
                     "useblacklist", "blacklistthreshold", "blacklisttimeout"), AUTHENTICATION),
    **dict.fromkeys(("rfbport", "rfbunixpath", "rfbunixmode", "interface", "inetd", "httpd",
                     "httpport", "useipv4", "useipv6"), LISTENING),
    **dict.fromkeys(("ac", "auth"), X_ACCESS),
    **dict.fromkeys(("listen", "query", "broadcast", "indirect", "multicast", "from", "cookie",
                     "port", "udpinputport"), X_LISTENING),
}
FALSE = {"0", "false", "off", "no"}
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _name_and_value(arg: str):
    """(lower-cased parameter name, value after '=' or None) of ARG, or (None, None)."""
    body = arg[1:] if arg.startswith("-") else arg
    name, eq, value = body.partition("=")
    if not arg.startswith("-") and not eq:
        return None, None  # a plain value (e.g. '96' after -dpi)
    if not NAME.fullmatch(name):
        return None, None
    return name.lower(), (value if eq else None)


def unsafe_reason(arg: str) -> Optional[str]:
    """What ARG (one word of vnc.args) changes about the desktop's protection, or None."""
    name, value = _name_and_value(arg)
    if name is None:
        return None
    if name == "localhost":
        # -localhost is what the default passes; only switching it off weakens anything.
        return LISTENING if value is not None and value.strip().lower() in FALSE else None
    return UNSAFE.get(name)


def missing_protections(words: Sequence[str]) -> List[str]:
    """The default command's protections that a vnc.command (its words) lacks."""
    names = {}
    for i, word in enumerate(words):
        name, value = _name_and_value(word)
        if name is not None:
            following = words[i + 1] if i + 1 < len(words) else ""
            names[name] = value if value is not None else following
    unix_only = "rfbunixpath" in names and names.get("rfbport", "").strip() in ("-1", "0")
    missing = []
    if "auth" not in names:
        missing.append("-auth {xauthority} (the X display's cookie)")
    if not unix_only:
        localhost = "localhost" in names and (names["localhost"] or "").strip().lower() not in FALSE
        if not localhost and names.get("interface", "").strip() not in ("127.0.0.1", "::1", "localhost"):
            missing.append("-localhost (the VNC port on loopback only)")
        types = [t.strip() for t in (names.get("securitytypes") or "").lower().split(",")]
        if not ({"rfbauth", "passwordfile"} & set(names)) or "none" in types:
            missing.append("-rfbauth {rfbauth} (the session's VNC password)")
    if "ac" in names:
        missing.append("no -ac (X access control)")
    if "listen" in names:
        missing.append("no -listen (the X server off TCP)")
    return missing
