"""Write rendered files to a folder (for `repo2desktop render`)."""
from __future__ import annotations

import os
from typing import List

from repo2desktop.config.model import DesktopConfig
from repo2desktop.render import Placement, render
from repo2desktop.runtime.session import _websockify_executable


def write_rendered(config: DesktopConfig, out_dir: str, listen: str = "tcp:6080") -> List[str]:
    """Render as if the session ran in OUT_DIR on display.number (or the first); return paths."""
    if not (listen.startswith("tcp:") or listen.startswith("unix:")):
        from repo2desktop.errors import Repo2DesktopError
        raise Repo2DesktopError(f"--listen must be tcp:PORT or unix:PATH, not {listen!r}")
    placement = Placement(
        runtime_dir=out_dir, display=config.display.number_or_first, listen=listen,
        password_file=f"{out_dir}/vnc-passwd" if config.vnc.auth == "password" else None,
        websockify=_websockify_executable(),
    )
    written = []
    for relative, rendered in sorted(render(config, placement).items()):
        path = os.path.join(out_dir, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(rendered.text)
        os.chmod(path, rendered.mode)
        written.append(path)
    return written
