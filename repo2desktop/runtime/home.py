"""Put desktop.yml's user-facing files into $HOME when the desktop starts.

On JupyterHub a persistent volume hides whatever the image build wrote into $HOME, so
nothing generated lives there; files that *must* be in $HOME (launchers on ~/Desktop,
window-manager settings, ...) are declared in desktop.yml and copied at each start, with an
explicit overwrite policy: "never" keeps a file the user already has (the default),
"always" replaces it with the repository's version.

Sources are read as validation checked them, again now (the repository may have changed):
only regular files inside the repository, never through a symlink pointing out of it; the
copy gets rw for the user (plus x when the source has it), never other mode bits.
"""
from __future__ import annotations

import os
from typing import List, Tuple

from repo2desktop.config import repofiles
from repo2desktop.config.model import DesktopConfig
from repo2desktop.render import Placement, launcher_path

# Files for $HOME are settings and launchers; a bigger one is not what desktop.yml is for.
MAX_HOME_FILE = 64 * 1024 * 1024


def planned_copies(config: DesktopConfig, placement: Placement) -> List[Tuple[str, str, str]]:
    """(source, target relative to $HOME, overwrite) for every file to put in $HOME."""
    copies = [(config.path(h.source), h.target, h.overwrite) for h in config.home]
    if config.launcher_place == "desktop":
        # xfdesktop and caja show launchers as icons only from ~/Desktop; with no window
        # manager of ours, whatever desktop the user starts finds them there.
        for launcher in config.launchers:
            name = os.path.basename(launcher_path(launcher))
            copies.append((os.path.join(placement.runtime_dir, launcher_path(launcher)),
                           f"Desktop/{name}", "never"))
    return copies


def install_home_files(config: DesktopConfig, placement: Placement, home: str) -> List[str]:
    """Copy the planned files; return one line per file saying what was done."""
    report = []
    repository = repofiles.repo_root(config.base_dir)
    for source, target, overwrite in planned_copies(config, placement):
        destination = os.path.join(home, target)
        if os.path.lexists(destination) and overwrite == "never":
            report.append(f"kept {destination} (yours; overwrite: never)")
            continue
        root = placement.runtime_dir if source.startswith(placement.runtime_dir + os.sep) else repository
        try:
            data, executable = _read_source(source, root)
        except (repofiles.Refused, OSError) as e:
            reason = str(e) if isinstance(e, repofiles.Refused) else f"cannot be read: {e.strerror}"
            report.append(f"skipped {destination}: the source {source} {reason}")
            continue
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        if os.path.islink(destination):
            os.unlink(destination)
        # .desktop launchers must be executable for file managers to trust them.
        mode = 0o700 if executable or destination.endswith(".desktop") else 0o600
        _write_new(destination, data, mode)
        report.append(f"wrote {destination}")
    return report


def _read_source(source: str, root: str) -> Tuple[bytes, bool]:
    """The content of SOURCE (a regular file inside ROOT) and whether its owner may run it."""
    data = repofiles.read_bytes(source, root, MAX_HOME_FILE)
    return data, bool(os.stat(os.path.realpath(source)).st_mode & 0o100)


def _write_new(destination: str, data: bytes, mode: int) -> None:
    """Replace DESTINATION by a new file with DATA and exactly MODE (never through a link)."""
    temporary = f"{destination}.repo2desktop-{os.getpid()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(temporary, mode)  # whatever the umask
        os.replace(temporary, destination)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise
