"""fluxbox, the desktop added as one file (repo2desktop/desktops/fluxbox.py) and its templates.

The shared checks of its fixture (programs, sockets, the xterm managed by fluxbox, the
screenshot through Chromium) are in test_images.py; here is what is fluxbox's own: its
settings are the session's (`-rc`, not overwritten by fluxbox's first start), its menu holds
the launcher, autostarted windows are framed, no tint2 panel.
"""
from __future__ import annotations

import re

import pytest

from tests.polling import wait_for

from .images import NB_USER, ContainerPool, ImageBuilder
from .test_images import XTERM, managed_clients

pytestmark = pytest.mark.image


def test_fluxbox_runs_with_the_sessions_settings_and_menu(images: ImageBuilder, containers: ContainerPool):
    container = containers.start(images.build("fluxbox"))
    try:
        container.open_desktop()
        session = container.desktop()
        root = session.runtime_dir
        procs = wait_for(lambda: [p for p in container.processes() if p.name == "fluxbox"], 30,
                         "fluxbox not running")
        assert procs[0].option("-rc") == f"{root}/fluxbox/init" and procs[0].user == NB_USER, procs
        assert "tint2" not in {p.name for p in container.processes()}
        # fluxbox copies its default init over -rc's file on a first start without ~/.fluxbox:
        # start.sh made the folder first, so the session's settings (its menu) are in force.
        init = container.host.file(f"{root}/fluxbox/init").content_string
        assert f"session.menuFile: {root}/fluxbox/menu" in init, init
        assert container.host.file("/home/jovyan/.fluxbox").is_directory
        menu = container.host.file(f"{root}/fluxbox/menu").content_string
        assert re.search(rf"^  \[exec\] \(Eyes \\\(big\\\)\) {{/bin/sh {re.escape(root)}/bin/launcher-eyes--big\.sh}}$",
                         menu, re.M), menu
        # The autostarted xterm is a client fluxbox manages and frames (title bar, borders).
        def with_xterm():
            name, clients = managed_clients(container, session)
            return (name, clients) if XTERM in clients.values() else None

        name, clients = wait_for(with_xterm, 30, "no xterm among fluxbox's managed windows")
        assert name == "Fluxbox"
        # fluxbox runs no wallpaper setter (the style overlay's 'background: unset'): without
        # one in the image, fbsetbg would open an xmessage error window over the desktop.
        assert ("xmessage", "Xmessage") not in clients.values(), clients
        assert not [p.args for p in container.processes() if "fbsetbg" in p.args or p.name == "xmessage"]
        xterm = next(w for w, cls in clients.items() if cls == XTERM)
        extents = container.run("xprop -id %s _NET_FRAME_EXTENTS", xterm, env=session.x_env).stdout
        left, right, top, bottom = map(int, re.findall(r"\d+", extents.split("=", 1)[1]))
        assert top > 0, extents  # a title bar drawn by fluxbox
        # The launcher's script runs the app on the display, where fluxbox manages it too.
        container.run(f"sh -c 'sh {root}/bin/launcher-eyes--big.sh >/dev/null 2>&1 &'", env=session.x_env)
        wait_for(lambda: ("xeyes", "XEyes") in managed_clients(container, session)[1].values(), 30,
                 "xeyes from the menu's launcher is not a managed window")
    finally:
        container.remove()
