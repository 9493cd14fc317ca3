"""TightVNC 1.3 (Xtightvnc): small and old. A loopback TCP port, always a password; no GLX,
RANDR or XFIXES; only the X cut buffer (autocutsel bridges today's selections to it)."""
from __future__ import annotations

from repo2desktop.vncservers import VncServer


class TightVnc(VncServer):
    name = "tightvnc"
    listed = 0
    executable = "/usr/bin/Xtightvnc"
    packages = ("tightvncserver",)
    limits_hint = "TightVNC has no GLX/RANDR; use 'vnc.server: tigervnc'"

    def rfb_args(self, config, placement):
        # TightVNC cannot use a unix socket: loopback only, and always a password.
        return ["-rfbport", str(placement.vnc_port), "-localhost", "-alwaysshared",
                "-rfbauth", placement.password_file or ""]


SERVER = TightVnc()
