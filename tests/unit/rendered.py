"""What render() should produce for a config, and reading the generated program scripts
(bin/*.sh) the way sh does, for the fast tier.

Each supervisord program runs ``/bin/sh <runtime_dir>/bin/<script>``; the script exports
DISPLAY, XAUTHORITY and the program's environment, may ``cd``, and ends in ``exec COMMAND``.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

from repo2desktop.config.model import DesktopConfig

SH = shutil.which("sh")
SCRIPT_MODE = 0o700


def program_names(config: DesktopConfig) -> List[str]:
    """The supervisord programs of a desktop, in the order of supervisord.conf."""
    # clipboard: TightVNC's bridge between the X selections and its cut buffer.
    bridge = ["clipboard"] if config.vnc.server == "tightvnc" and config.clipboard != "off" else []
    return ["x-session", "websockify", *bridge, *(p.name for p in config.programs),
            *(("sound", "sound-policy") if config.audio else ())]


def script_of(program: str) -> str:
    """The generated script of supervisord program PROGRAM, relative to the runtime dir."""
    own = {"x-session": "bin/x-session.sh", "websockify": "bin/websockify.sh", "clipboard": "bin/clipboard.sh",
           "sound": "bin/sound.sh", "sound-policy": "bin/sound-policy.sh"}
    return own.get(program, f"bin/program-{program}.sh")


def expected_modes(config: DesktopConfig) -> Dict[str, int]:
    """Every file render() writes for CONFIG (relative to the runtime dir) and its mode."""
    modes = {
        "supervisord.conf": 0o600,
        "xinitrc": 0o700,
        # The autostart programs, started by the window manager once it runs.
        "autostart.sh": 0o700,
        "web/index.html": 0o600,
        # Loaded by the session's copies of noVNC's pages: reconnects while the desktop runs.
        "web/repo2desktop-reconnect.js": 0o600,
    }
    modes.update({script_of(name): SCRIPT_MODE for name in program_names(config)})
    if config.window_manager in ("xfce4", "mate"):
        # xfce4-session and mate-session run autostart.sh through an XDG autostart entry.
        modes["xdg/autostart/repo2desktop.desktop"] = 0o644
    if config.window_manager == "xfce4":
        modes["xdg/xfce4/xfconf/xfce-perchannel-xml/xfce4-desktop.xml"] = 0o644  # icons shown
    if config.window_manager == "icewm":
        # IceWM's own config folder: startup (runs autostart.sh), look, launcher toolbar.
        modes.update({"icewm/startup": 0o700, "icewm/preferences": 0o600, "icewm/toolbar": 0o600})
        modes.update({f"bin/launcher-{launcher.slug}.sh": 0o700 for launcher in config.launchers})
    if config.audio:
        # The sound server's own config (PipeWire, WirePlumber and its D-Bus-free settings).
        modes.update({"sound/pipewire.conf": 0o600, "sound/wireplumber.conf": 0o600,
                      "sound/config/wireplumber/main.lua.d/51-repo2desktop.lua": 0o600})
    for launcher in config.launchers:
        modes[f"share/applications/repo2desktop-{launcher.slug}.desktop"] = 0o644
    if config.uses_panel:  # pinned on its own in test_schema.py
        modes["tint2rc"] = 0o600  # the panel that shows the launchers (not with none)
    return modes


def sh_lines(text: str) -> List[str]:
    """TEXT's lines as sh sees them: split at '\\n' only (str.splitlines would also split
    at characters such as '\\x1e' or '\\u2028', which are plain characters to sh)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def exec_line(text: str) -> str:
    """The command a generated script hands its process to: its last line is 'exec COMMAND'."""
    last = sh_lines(text)[-1]
    assert last.startswith("exec "), f"the script does not end in exec: {last!r}"
    return last[len("exec "):]


def run_script_head(text: str, names: Iterable[str]) -> Tuple[Dict[str, str], List[str]]:
    """Run a generated script under sh up to (not including) its exec line, in an empty
    environment. Return those of NAMES that are set afterwards, with the values sh holds, and
    the directories the script changes to: 'cd' is replaced by a function that records its
    argument (the directories exist on the desktop's machine, not here)."""
    assert SH is not None, "no sh on this machine"
    lines = sh_lines(text)
    assert lines[-1].startswith("exec "), lines[-1]
    report = "".join(
        f'if [ "${{{name}+set}}" ]; then printf "env\\0%s\\0%s\\0" {name} "${name}"; fi\n'
        for name in names)
    program = 'cd() { printf "cd\\0%s\\0" "$1"; }\n' + "\n".join(lines[:-1]) + "\n" + report
    result = subprocess.run([SH, "-c", program], capture_output=True, env={}, timeout=30)
    assert result.returncode == 0, result.stderr
    fields = result.stdout.decode("utf-8").split("\0")
    assert fields.pop() == "", result.stdout
    values: Dict[str, str] = {}
    directories: List[str] = []
    while fields:
        kind = fields.pop(0)
        if kind == "cd":
            directories.append(fields.pop(0))
        else:
            assert kind == "env", result.stdout
            name = fields.pop(0)
            values[name] = fields.pop(0)
    return values, directories


def run_script(text: str, tmp_path: Path) -> bytes:
    """Run a generated script to its end (its own exec) under sh; return its stdout."""
    assert SH is not None, "no sh on this machine"
    script = tmp_path / "script.sh"
    script.write_text(text, encoding="utf-8")
    result = subprocess.run([SH, str(script)], capture_output=True,
                            env={"PATH": os.defpath}, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout
