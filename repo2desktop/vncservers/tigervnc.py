"""TigerVNC (Xtigervnc): a private unix socket and no TCP port, GLX, remote resize, both
selections exchanged by the server itself (desktop.yml's clipboard enforced there)."""
from __future__ import annotations

from repo2desktop.vncservers import VncServer


class TigerVnc(VncServer):
    name = "tigervnc"
    listed = 1
    executable = "/usr/bin/Xtigervnc"
    # libxss1: the X server's idle time, read by jupyter/idle.py.
    packages = ("tigervnc-standalone-server", "libxss1")
    unix_socket = True
    glx = True
    selections = True

    def rfb_args(self, config, placement):
        # A private unix socket and no TCP port at all (-rfbport -1).
        args = ["-rfbunixpath", placement.vnc_socket, "-rfbunixmode", "0600", "-rfbport", "-1",
                "-AlwaysShared",
                # TigerVNC blacklists an address after 5 unauthenticated hang-ups; on a unix
                # socket every client shares one address, so a few probes or reconnects
                # would lock the user out. The 8-character random password remains.
                "-BlacklistTimeout", "0"]
        if placement.password_file:
            args += ["-SecurityTypes", "VncAuth", "-PasswordFile", placement.password_file]
        else:
            args += ["-SecurityTypes", "None"]
        # desktop.yml's clipboard: enforced by the server, not only by the page.
        if not config.clipboard_to_browser:
            args += ["-SendCutText=0", "-SendPrimary=0"]
        if not config.clipboard_to_desktop:
            args += ["-AcceptCutText=0", "-SetPrimary=0"]
        return args


SERVER = TigerVnc()
