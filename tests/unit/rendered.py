"""Reading what render() produced, the way the session's programs do, for the fast tier:
which program runs which script (supervisord.conf), which files the session reaches from
supervisord.conf, the modes files of each kind get, and the generated program scripts
(bin/*.sh) read the way sh does.

Each supervisord program runs ``/bin/sh <runtime_dir>/bin/<script>``; the script exports
DISPLAY, XAUTHORITY and the program's environment, may ``cd``, and ends in ``exec COMMAND``.
Nothing here knows which files a config renders: the tests ask the rendered files themselves.
"""
from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Set, Tuple

SH = shutil.which("sh")
SCRIPT_MODE = 0o700
# What the session itself makes in its runtime dir while it runs (runtime/session.py and the
# programs it starts): rendered files may name these, render() does not write them.
MADE_AT_RUN_TIME = ("Xauthority", "vnc.passwd", "vnc.sock", "websockify.sock", "supervisor.sock",
                    "supervisord.pid", "logs", "sound/pulse/native", "sound/state")


def supervisord_parser(text: str) -> configparser.RawConfigParser:
    """Parse as supervisord does: ';' and '#' start comments, also after whitespace
    inside a value. strict=True (supervisord is lenient) also rejects duplicate sections."""
    parser = configparser.RawConfigParser(
        comment_prefixes=(";", "#"), inline_comment_prefixes=(";", "#"), strict=True)
    parser.read_string(text)
    return parser


def supervised_scripts(files: Mapping, runtime_dir: str) -> Dict[str, str]:
    """supervisord's programs in the order of supervisord.conf, each with the script its
    command runs (relative to RUNTIME_DIR); AssertionError for a command that is not
    exactly ``/bin/sh RUNTIME_DIR/bin/NAME.sh``."""
    parser = supervisord_parser(files["supervisord.conf"].text)
    scripts = {}
    for section in parser.sections():
        if section.startswith("program:"):
            command = parser.get(section, "command") % {}  # supervisord's %-expansion
            match = re.fullmatch(rf"/bin/sh {re.escape(runtime_dir)}/(bin/[^/\s]+\.sh)", command)
            assert match, (section, command)
            scripts[section.split(":", 1)[1]] = match.group(1)
    return scripts


def _named_paths(text: str, runtime_dir: str) -> Set[str]:
    """The paths under RUNTIME_DIR that TEXT names, relative to it."""
    found = re.findall(re.escape(runtime_dir) + r"/([^\s'\"`:;,)]*)", text)
    return {path.rstrip("/.") for path in found} - {""}


def used_files(files: Mapping, runtime_dir: str) -> Set[str]:
    """The rendered files the session reaches from supervisord.conf: a file named in a file
    it reaches, or lying in a folder named there (XDG_CONFIG_DIRS, ICEWM_PRIVCFG, websockify's
    --web), is reached too."""
    reached: Set[str] = set()
    todo = ["supervisord.conf"]
    while todo:
        path = todo.pop()
        if path in reached:
            continue
        reached.add(path)
        for named in _named_paths(files[path].text, runtime_dir):
            todo += [p for p in files if p == named or p.startswith(named + "/")]
    return reached


def missing_files(files: Mapping, runtime_dir: str) -> Set[str]:
    """Paths under RUNTIME_DIR that rendered files name but nobody writes: neither rendered
    (a file or a folder of rendered files) nor made by the session at run time."""
    named = set().union(*(_named_paths(f.text, runtime_dir) for f in files.values()))
    return {path for path in named
            if not any(p == path or p.startswith(path + "/") for p in files)
            and not any(path == m or path.startswith(m + "/") for m in MADE_AT_RUN_TIME)}


def wrong_modes(files: Mapping) -> Dict[str, str]:
    """Files whose mode does not fit what they are: scripts (#!) 0700; entries read by the
    desktop's own programs (.desktop, .xml: no secrets in them) 0644; everything else 0600,
    private to the desktop's user. {path: octal mode} of those that do not."""
    def expected(path: str, text: str) -> int:
        if text.startswith("#!"):
            return SCRIPT_MODE
        return 0o644 if path.endswith((".desktop", ".xml")) else 0o600
    return {path: oct(f.mode) for path, f in files.items() if f.mode != expected(path, f.text)}


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
