"""The VNC servers `vnc.server:` offers, one class per file (tightvnc.py, tigervnc.py).

Each module of this package defines one ``VncServer`` subclass and an instance named
``SERVER``; the registry finds them by walking the package, so a new server is one new file.
config/schema.py takes `vnc.server`'s choices from here, render its command line, the
buildpack its packages and executable, the runtime the process names it stops and finds.
"""
from __future__ import annotations

import importlib
import pkgutil
import shlex
from typing import TYPE_CHECKING, Dict, List, Tuple

if TYPE_CHECKING:
    from repo2desktop.config.model import DesktopConfig
    from repo2desktop.render import Placement

# RFB's TCP ports: display N listens on 5900 + N (a server without a unix socket).
VNC_BASE_PORT = 5900
# X servers a vnc.command override may run instead of ours: still this user's desktops.
OTHER_X_SERVERS = ("Xvnc", "Xvfb", "Xorg")


class VncServer:
    """What repo2desktop knows of one VNC server (an X server that speaks RFB)."""

    name: str = ""  # the value of desktop.yml's vnc.server
    listed: int = 99  # its place among vnc.server's choices (messages, README), lowest first
    executable: str = ""  # absolute path of the X server in the image
    packages: Tuple[str, ...] = ()  # Debian/Ubuntu packages that bring it (and its helpers)
    unix_socket: bool = False  # listens on a private unix socket (else a loopback TCP port)
    glx: bool = False  # has GLX (OpenGL), RANDR (remote resize) and XFIXES
    # Exchanges the CLIPBOARD and PRIMARY selections itself (else autocutsel bridges them).
    selections: bool = False
    # The hint that warnings about a missing ability end with (servers without GLX).
    limits_hint: str = ""

    @property
    def process_name(self) -> str:
        """The name the process table shows (/proc/PID/comm, ps)."""
        return self.executable.rsplit("/", 1)[-1]

    def rfb_args(self, config: "DesktopConfig", placement: "Placement") -> List[str]:
        """The server's own arguments after the common X ones: where it listens, how it
        authenticates, the clipboard policy it enforces."""
        raise NotImplementedError

    def argv(self, config: "DesktopConfig", placement: "Placement") -> List[str]:
        """The X server's whole command line (what xinit runs after `--`)."""
        # -auth: only holders of the session's cookie may use the display (kernels get it too).
        args = [self.executable, f":{placement.display}", "-auth", placement.xauthority_file,
                "-geometry", config.display.geometry, "-depth", str(config.display.depth),
                "-desktop", config.novnc.title, "-nolisten", "tcp"]
        if config.display.dpi is not None:
            args += ["-dpi", str(config.display.dpi)]
        return args + self.rfb_args(config, placement) + list(config.vnc.args)

    def command(self, config: "DesktopConfig", placement: "Placement") -> str:
        return " ".join(shlex.quote(a) for a in self.argv(config, placement))


def _discover() -> Dict[str, VncServer]:
    found = {}
    for module in pkgutil.iter_modules(__path__):
        server = importlib.import_module(f"{__name__}.{module.name}").SERVER
        found[server.name] = server
    return dict(sorted(found.items(), key=lambda item: (item[1].listed, item[0])))


SERVERS: Dict[str, VncServer] = _discover()


def names() -> Tuple[str, ...]:
    """vnc.server's choices."""
    return tuple(SERVERS)


def get(name: str) -> VncServer:
    return SERVERS[name]


def process_names() -> Tuple[str, ...]:
    """Every X server a desktop of ours may run, by process name (ours and overrides')."""
    return tuple(s.process_name for s in SERVERS.values()) + OTHER_X_SERVERS
