"""Put desktop.yml's user-facing files into $HOME when the desktop starts.

On JupyterHub a persistent volume hides whatever the image build wrote into $HOME, so
nothing generated lives there; files that *must* be in $HOME (launchers on ~/Desktop,
window-manager settings, ...) are declared in desktop.yml and copied at each start, with an
explicit overwrite policy: "never" keeps a file the user already has (the default),
"always" replaces it with the repository's version.
"""
from __future__ import annotations

import os
import shutil
from typing import List, Tuple

from ..config import DesktopConfig
from ..render import Session, launcher_path


def planned_copies(config: DesktopConfig, session: Session) -> List[Tuple[str, str, str]]:
    """(source, target relative to $HOME, overwrite) for every file to put in $HOME."""
    copies = [(config.path(h.source), h.target, h.overwrite) for h in config.home]
    if config.window_manager == "xfce4":
        # xfdesktop shows launchers as icons only from ~/Desktop.
        for launcher in config.launchers:
            name = os.path.basename(launcher_path(launcher))
            copies.append((os.path.join(session.runtime_dir, launcher_path(launcher)),
                           f"Desktop/{name}", "never"))
    return copies


def install_home_files(config: DesktopConfig, session: Session, home: str) -> List[str]:
    """Copy the planned files; return one line per file saying what was done."""
    report = []
    for source, target, overwrite in planned_copies(config, session):
        destination = os.path.join(home, target)
        if os.path.lexists(destination) and overwrite == "never":
            report.append(f"kept {destination} (yours; overwrite: never)")
            continue
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        if os.path.islink(destination):
            os.unlink(destination)
        shutil.copyfile(source, destination)
        mode = os.stat(source).st_mode & 0o777
        # .desktop launchers must be executable for file managers to trust them.
        os.chmod(destination, mode | (0o744 if destination.endswith(".desktop") else 0o600))
        report.append(f"wrote {destination}")
    return report
