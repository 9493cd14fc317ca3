"""Hostile repositories and inputs (issue 8): each one is judged quickly, in bounded memory,
with located errors (exit 2, no traceback), and nothing of a file outside the repository
is shown.

Every case is a small repository made under tmp_path (files, symlinks out of it to a file
holding a secret marker, FIFOs, devices) and a `repo2desktop` command line. One worker
subprocess runs all of them through the real CLI entry point (cli.main), each under a CPU
timer, a wall-clock alarm and an address-space limit, and reports the process's peak RSS
after each case, so a case that would hang or eat gigabytes on a broken implementation
fails its test instead of the machine.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import pytest

from tests.polling import wait_for

MARKER = "R2D-SECRET-MARKER-3f9c"
# Lines shaped like /etc/shadow (each one reads as a YAML key) and like a private config.
SECRET = (f"root:{MARKER}:19000:0:99999:7:::\n"
          f"daemon:*:19000:0:99999:7:::\n"
          f"{MARKER}_KEY: {MARKER}\n")
CPU_BOUND = 1.0  # seconds of CPU per case, in the worker
MEMORY_BOUND = 128 * 1024 * 1024  # bytes: the worker's peak RSS (imports and all cases: ~40 MiB)
WALL_LIMIT = 5.0  # a case still running after this is stopped and fails
ADDRESS_SPACE = 2 * 1024 ** 3
LIMIT = 64 * 1024  # desktop.yml's size limit  # the worker's RLIMIT_AS: runaway allocations fail fast

OUTSIDE = "is outside the repository (a symlink pointing out of it); only files inside the repository are read"
REFUSED = "refused (set 'vnc.unsafe_args: true' to allow it at your own risk)"
NODES = ("more than 2000 YAML nodes (keys, items and values, each alias counted as what it "
         "expands to); desktop.yml is limited to 2000")
HUGE_HEX = "0x" + "f" * 4000  # 4817 decimal digits: more than Python will print
HUGE_OCT = "0o" + "7" * 5000
HUGE_BIN = "0b" + "1" * 15000

# Decimal digits str.format reads in widths: ARABIC-INDIC (U+0660..), FULLWIDTH, DEVANAGARI.
ARABIC_0, ARABIC_2, ARABIC_9 = "\u0660", "\u0662", "\u0669"
FULLWIDTH_9, DEVANAGARI_9 = "\uff19", "\u096f"
SURROGATE = "must be valid Unicode text (found the lone surrogate \\%s at position %d; it cannot be written as UTF-8)"

# A file entry: text/bytes, or ("symlink", target), ("fifo",), ("dir",).
Entry = Union[str, bytes, Tuple[str, ...]]
SECRET_LINK = ("symlink", "{secret}")


@dataclass
class Case:
    id: str
    files: Dict[str, Entry]
    expected: Optional[str] = None  # stderr exactly (without the final newline)
    argv: List[str] = field(default_factory=lambda: ["validate", "."])
    contains: Tuple[str, ...] = ()  # or: lines stderr must contain
    code: int = 2
    stdout: str = ""


def yml(id: str, text: str, *messages: str) -> Case:
    return Case(id, {"desktop.yml": text}, "\n".join(messages))


def alias_bomb(last_line: str) -> str:
    lines = ["version: 1", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines + [last_line]) + "\n"


CASES: List[Case] = [
    # --- item 1: files outside the repository -------------------------------------------
    Case("desktop-yml-symlink-to-secret", {"desktop.yml": SECRET_LINK},
         f"desktop.yml:1:1: the file {OUTSIDE}"),
    Case("binder-desktop-yml-symlink-to-secret", {"binder/desktop.yml": SECRET_LINK},
         f"binder/desktop.yml:1:1: the file {OUTSIDE}"),
    Case("desktop-yml-symlink-via-folder", {"conf": ("symlink", "{secret_dir}"),
                                            "desktop.yml": ("symlink", "conf/secret.txt")},
         f"desktop.yml:1:1: the file {OUTSIDE}"),
    Case("desktop-yml-named-directly", {"desktop.yml": SECRET_LINK},
         f"desktop.yml:1:1: the file {OUTSIDE}", argv=["validate", "desktop.yml"]),
    Case("build-no-build-symlink-to-secret", {"repo/desktop.yml": SECRET_LINK},
         f"repo/desktop.yml:1:1: the file {OUTSIDE}", argv=["build", "repo", "--no-build"]),
    Case("render-symlink-to-secret", {"desktop.yml": SECRET_LINK},
         f"desktop.yml:1:1: the file {OUTSIDE}", argv=["render", ".", "--out", "out"]),
    Case("home-source-symlink-to-secret",
         {"desktop.yml": "version: 1\nhome:\n  - source: rc\n    target: .rc\n", "rc": SECRET_LINK},
         f"desktop.yml:3:13: home[0].source: 'rc' {OUTSIDE}"),
    Case("wallpaper-symlink-to-secret",
         {"desktop.yml": "version: 1\nwallpaper: bg.png\n", "bg.png": SECRET_LINK},
         f"desktop.yml:2:12: wallpaper: 'bg.png' {OUTSIDE}"),
    Case("tile-icon-symlink-to-secret",
         {"desktop.yml": "version: 1\nlauncher:\n  icon: icon.svg\n", "icon.svg": SECRET_LINK},
         f"desktop.yml:3:9: launcher.icon: 'icon.svg' {OUTSIDE}"),
    Case("launcher-icon-symlink-to-secret",
         {"desktop.yml": "version: 1\nlaunchers:\n  - name: T\n    command: xterm\n    icon: i/t.svg\n",
          "i/t.svg": SECRET_LINK},
         f"desktop.yml:5:11: launchers[0].icon: 'i/t.svg' {OUTSIDE}"),
    Case("binder-home-source-symlink-up-and-out",
         {"binder/desktop.yml": "version: 1\nhome:\n  - source: rc\n    target: .rc\n",
          "binder/rc": ("symlink", "../../secret/secret.txt")},
         f"binder/desktop.yml:3:13: home[0].source: 'rc' {OUTSIDE}"),
    # --- item 15: what is not a regular file ---------------------------------------------
    Case("desktop-yml-fifo", {"desktop.yml": ("fifo",)},
         "desktop.yml:1:1: the file is a FIFO, not a regular file"),
    Case("desktop-yml-directory", {"desktop.yml": ("dir",)},
         "desktop.yml:1:1: the file is a folder, not a regular file"),
    Case("desktop-yml-symlink-to-dev-zero", {"desktop.yml": ("symlink", "/dev/zero")},
         f"desktop.yml:1:1: the file {OUTSIDE}"),
    Case("dev-zero-named-directly", {}, "/dev/zero:1:1: the file is a character device, not a regular file",
         argv=["validate", "/dev/zero"]),
    Case("home-source-fifo",
         {"desktop.yml": "version: 1\nhome:\n  - source: rc\n    target: .rc\n", "rc": ("fifo",)},
         "desktop.yml:3:13: home[0].source: 'rc' is a FIFO, not a regular file"),
    Case("wallpaper-directory", {"desktop.yml": "version: 1\nwallpaper: bg\n", "bg": ("dir",)},
         "desktop.yml:2:12: wallpaper: 'bg' is a folder, not a regular file"),
    # --- item 1: a file that is no desktop.yml shows none of its text ------------------------
    yml("foreign-file-inside-repository", SECRET,
        "desktop.yml:1:1: version: required key is missing (add 'version: 1')",
        "desktop.yml:1:1: not read as a desktop.yml: no 'version' and 3 unknown top-level key(s), "
        "which are not shown"),
    yml("foreign-scalar-inside-repository", f"{MARKER} {MARKER}\n",
        "desktop.yml:1:1: the document must be a mapping of keys, got a string"),
    # --- item 6: slow or huge ----------------------------------------------------------------
    yml("alias-bomb-with-duplicate-key", alias_bomb("zz: {k: 1, k: 2}"), f"desktop.yml:5:11: {NODES}"),
    yml("alias-bomb-in-values", alias_bomb("autostart: *i"), f"desktop.yml:5:11: {NODES}"),
    yml("too-many-nodes", "version: 1\nautostart: [" + ", ".join(["x"] * 2500) + "]\n",
        f"desktop.yml:2:5998: {NODES}"),
    yml("deep-flow-nesting", "version: 1\nautostart: " + "[" * 60000 + "\n",
        "desktop.yml:2:62: nested more than 50 levels deep"),
    yml("deep-block-nesting", "version: 1\nx:\n" + "".join("  " * i + "-\n" for i in range(200)),
        "desktop.yml:52:99: nested more than 50 levels deep"),
    # The duplicate and the document's other problem, at once (issue 10).
    yml("recursive-alias", "version: 1\nautostart: &a [*a]\nenvironment: {X: y, X: z}\n",
        "desktop.yml:2:12: autostart[0]: expected a non-empty string, got null\n"
        "desktop.yml:3:21: environment.X: duplicate key (the mapping starts at line 3)"),
    yml("format-width-vnc-command", "version: 1\nvnc:\n  command: 'Xvnc {display:>999999999}'\n",
        "desktop.yml:3:12: vnc.command: replacement field {display}: width 999999999 is too large "
        "(at most 200)"),
    yml("format-precision-websockify", "version: 1\nwebsockify:\n  command: 'ws {port:.999999999}'\n",
        "desktop.yml:3:12: websockify.command: replacement field {port}: precision 999999999 is "
        "too large (at most 200)"),
    yml("format-width-of-5000-digits", "version: 1\nvnc:\n  command: 'Xvnc {display:>" + "9" * 5000 + "}'\n",
        "desktop.yml:3:12: vnc.command: replacement field {display}: width 999999999... (5000 "
        "digits) is too large (at most 200)"),
    yml("format-zero-fill-width", "version: 1\nvnc:\n  command: 'Xvnc :{display:0>201}'\n",
        "desktop.yml:3:12: vnc.command: replacement field {display}: width 201 is too large "
        "(at most 200)"),
    yml("format-nested-field", "version: 1\nvnc:\n  command: 'Xvnc :{display:>{depth}}'\n",
        "desktop.yml:3:12: vnc.command: replacement field {display}: nested fields in a format "
        "spec are not supported"),
    # Issue 16: str.format reads any Unicode decimal digit as a width or precision, after a
    # fill character that may be a digit itself; judged as str.format parses the spec.
    yml("format-width-arabic-indic-digits",
        f"version: 1\nvnc:\n  command: 'Xvnc {{display:>{ARABIC_9 * 9}}}'\n",
        f"desktop.yml:3:12: vnc.command: replacement field {{display}}: width {ARABIC_9 * 9} "
        "(999999999) is too large (at most 200)"),
    yml("format-width-two-million-arabic-indic",
        f"version: 1\nvnc:\n  command: 'Xvnc {{display:>{ARABIC_2}{ARABIC_0 * 6}}}'\n",
        f"desktop.yml:3:12: vnc.command: replacement field {{display}}: width {ARABIC_2}{ARABIC_0 * 6} "
        "(2000000) is too large (at most 200)"),
    yml("format-precision-fullwidth-digits",
        f"version: 1\nwebsockify:\n  command: 'ws {{port:.{FULLWIDTH_9 * 9}}}'\n",
        f"desktop.yml:3:12: websockify.command: replacement field {{port}}: precision "
        f"{FULLWIDTH_9 * 9} (999999999) is too large (at most 200)"),
    yml("format-digit-fill-before-a-huge-width",
        f"version: 1\nvnc:\n  command: 'Xvnc {{display:{ARABIC_9}>{ARABIC_9 * 9}}}'\n",
        f"desktop.yml:3:12: vnc.command: replacement field {{display}}: width {ARABIC_9 * 9} "
        "(999999999) is too large (at most 200)"),
    yml("format-zero-flag-and-devanagari-width",
        f"version: 1\nvnc:\n  command: 'Xvnc {{display:0{DEVANAGARI_9 * 5}}}'\n",
        f"desktop.yml:3:12: vnc.command: replacement field {{display}}: width {DEVANAGARI_9 * 5} "
        "(99999) is too large (at most 200)"),
    yml("format-width-of-5000-arabic-indic-digits",
        f"version: 1\nvnc:\n  command: 'Xvnc {{display:>{ARABIC_9 * 5000}}}'\n",
        f"desktop.yml:3:12: vnc.command: replacement field {{display}}: width {ARABIC_9 * 9}... "
        "(5000 digits) is too large (at most 200)"),
    yml("format-nested-field-in-precision", "version: 1\nwebsockify:\n  command: 'ws {port:.{port}}'\n",
        "desktop.yml:3:12: websockify.command: replacement field {port}: nested fields in a format "
        "spec are not supported"),
    Case("format-width-in-vnc-command-flag", {"desktop.yml": "version: 1\n"},
         f"--vnc-command: vnc.command: replacement field {{display}}: width {ARABIC_9 * 9} "
         "(999999999) is too large (at most 200)",
         argv=["validate", ".", "--vnc-command", f"Xvnc :{{display:>{ARABIC_9 * 9}}}"]),
    Case("format-width-in-nbnovnc-vnc-command", {"desktop.yml": "version: 1\n"},
         f"c.NBNoVNC.vnc_command: vnc.command: replacement field {{display}}: width "
         f"{ARABIC_9 * 9} (999999999) is too large (at most 200)",
         argv=["validate", ".", "--from-nbnovnc", "--vnc-command", f"Xvnc :{{display:>{ARABIC_9 * 9}}}"]),
    Case("format-small-unicode-width-is-read-as-str-format-reads-it",
         {"desktop.yml": "version: 1\nvnc:\n  command: 'Xtightvnc :{display:%s>%s} -auth {xauthority} "
                         "-localhost -rfbauth {rfbauth}'\n" % (ARABIC_0, ARABIC_2)},
         "", code=0, stdout="desktop.yml: OK\n"),
    Case("format-width-in-serve-command", {},
         f"repo2desktop: serve: --command: replacement field {{port}}: width {ARABIC_9 * 9} "
         "(999999999) is too large (at most 200)",
         argv=["serve", "img", "--command", f"jupyter lab --port={{port:>{ARABIC_9 * 9}}}"]),
    # The largest files allowed, of the kinds ruamel reads slowest: judged in time, and valid.
    Case("largest-comment", {"desktop.yml": "version: 1\n#" + "x" * (LIMIT - 13) + "\n"}, "",
         code=0, stdout="desktop.yml: OK\n"),
    Case("largest-blank-lines", {"desktop.yml": "version: 1\n" + "\n" * (LIMIT - 11)}, "",
         code=0, stdout="desktop.yml: OK\n"),
    Case("largest-block-scalar", {"desktop.yml": "version: 1\nautostart:\n  - |\n"
                                  + "    echo some text;\n" * ((LIMIT - 30) // 20)}, "",
         code=0, stdout="desktop.yml: OK\n"),
    Case("one-byte-too-many", {"desktop.yml": "version: 1\n" + "\n" * (LIMIT - 10)},
         f"desktop.yml:1:1: the file is {LIMIT + 1} bytes; desktop.yml is limited to {LIMIT} bytes"),
    # --- item 7: integers Python will not print ----------------------------------------------
    yml("hex-version", f"version: {HUGE_HEX}\n",
        "desktop.yml:1:10: version: unsupported version <about 4817 digits> (this repo2desktop "
        "reads version 1)"),
    yml("octal-display-number", f"version: 1\ndisplay:\n  number: {HUGE_OCT}\n",
        "desktop.yml:3:11: display.number: <about 4516 digits> is out of range (1 to 999)"),
    yml("binary-depth", f"version: 1\ndisplay:\n  depth: {HUGE_BIN}\n",
        "desktop.yml:3:10: display.depth: expected one of 8, 16, 24, 32; got an integer "
        "(<about 4516 digits>)"),
    yml("negative-hex-heartbeat", f"version: 1\nwebsockify:\n  heartbeat: -{HUGE_HEX}\n",
        "desktop.yml:3:14: websockify.heartbeat: -<about 4817 digits> is out of range (0 to 3600)"),
    yml("hex-environment-value", f"version: 1\nenvironment:\n  BIG: {HUGE_HEX}\n",
        "desktop.yml:3:8: environment.BIG: an integer (<about 4817 digits>) is too large for a "
        "number; quote it as a string"),
    yml("octal-program-environment-value",
        f"version: 1\nprograms:\n  app:\n    command: x\n    environment: {{BIG: {HUGE_OCT}}}\n",
        "desktop.yml:5:24: programs.app.environment.BIG: an integer (<about 4516 digits>) is too "
        "large for a number; quote it as a string"),
    yml("hex-top-level-key", f"version: 1\n? {HUGE_HEX}\n: 1\n",
        "desktop.yml:2:3: <about 4817 digits>: keys must be strings"),
    yml("hex-program-name", f"version: 1\nprograms:\n  ? {HUGE_HEX}\n  : {{command: x}}\n",
        "desktop.yml:3:5: programs.<about 4817 digits>: program names are letters, digits, '-' and '_'"),
    yml("binary-environment-name", f"version: 1\nenvironment:\n  ? {HUGE_BIN}\n  : x\n",
        "desktop.yml:3:5: environment.<about 4516 digits>: is not a valid variable name"),
    yml("hex-geometry", f"version: 1\ndisplay:\n  geometry: {HUGE_HEX}\n",
        "desktop.yml:3:13: display.geometry: an integer (<about 4817 digits>) is not WIDTHxHEIGHT "
        "(e.g. 1280x800)"),
    yml("hex-vnc-server", f"version: 1\nvnc:\n  server: {HUGE_HEX}\n",
        "desktop.yml:3:11: vnc.server: expected one of: tightvnc, tigervnc; got an integer "
        "(<about 4817 digits>)"),
    yml("hex-autostart-item", f"version: 1\nautostart: [{HUGE_HEX}]\n",
        "desktop.yml:2:13: autostart[0]: expected a non-empty string, got an integer "
        "(<about 4817 digits>)"),
    yml("hex-launcher-title", f"version: 1\nlauncher:\n  title: {HUGE_HEX}\n",
        "desktop.yml:3:10: launcher.title: expected a string, got an integer (<about 4817 digits>)"),
    yml("binary-vnc-args-item", f"version: 1\nvnc:\n  args: [{HUGE_BIN}]\n",
        "desktop.yml:3:10: vnc.args[0]: expected a non-empty string, got an integer "
        "(<about 4516 digits>)"),
    yml("hex-home-item", f"version: 1\nhome: [{HUGE_HEX}]\n",
        "desktop.yml:2:8: home[0]: expected a mapping, got an integer (<about 4817 digits>)"),
    yml("hex-document", f"{HUGE_HEX}\n",
        "desktop.yml:1:1: the document must be a mapping of keys, got an integer (<about 4817 digits>)"),
    yml("decimal-of-5000-digits", "version: " + "9" * 5000 + "\n",
        "desktop.yml:1:1: invalid YAML: an integer of more than 4300 digits"),
    # --- item 8: VNC arguments that switch protection off --------------------------------------
    yml("vnc-args-security-none-on-tcp",
        'version: 1\nvnc:\n  server: tigervnc\n  args: ["-rfbport", "5946", "-SecurityTypes", "None", '
        '"-interface", "127.0.0.1"]\n',
        f"desktop.yml:4:10: vnc.args[0]: '-rfbport' changes where the VNC server listens; {REFUSED}",
        f"desktop.yml:4:30: vnc.args[2]: '-SecurityTypes' changes how the VNC server authenticates; {REFUSED}",
        f"desktop.yml:4:56: vnc.args[4]: '-interface' changes where the VNC server listens; {REFUSED}"),
    yml("vnc-args-tigervnc-parameter-forms",
        'version: 1\nvnc:\n  server: tigervnc\n  args: ["-dpi", "96", "SecurityTypes=None", '
        '"-localhost=0", "-rfbunixmode=0666", "-ac", "-listen", "tcp", "-PASSWORDFILE", "/tmp/p"]\n',
        f"desktop.yml:4:24: vnc.args[2]: 'SecurityTypes=None' changes how the VNC server authenticates; {REFUSED}",
        f"desktop.yml:4:46: vnc.args[3]: '-localhost=0' changes where the VNC server listens; {REFUSED}",
        f"desktop.yml:4:62: vnc.args[4]: '-rfbunixmode=0666' changes where the VNC server listens; {REFUSED}",
        f"desktop.yml:4:83: vnc.args[5]: '-ac' changes who may use the X display; {REFUSED}",
        f"desktop.yml:4:90: vnc.args[6]: '-listen' changes where the X server listens (TCP, XDMCP); {REFUSED}",
        f"desktop.yml:4:108: vnc.args[8]: '-PASSWORDFILE' changes how the VNC server authenticates; {REFUSED}"),
    yml("vnc-args-tightvnc-auth-and-httpd",
        'version: 1\nvnc:\n  args: ["-rfbauth", "/tmp/other", "-httpd", "/srv", "-auth", "/tmp/xa"]\n',
        f"desktop.yml:3:10: vnc.args[0]: '-rfbauth' changes how the VNC server authenticates; {REFUSED}",
        f"desktop.yml:3:36: vnc.args[2]: '-httpd' changes where the VNC server listens; {REFUSED}",
        f"desktop.yml:3:54: vnc.args[4]: '-auth' changes who may use the X display; {REFUSED}"),
    # --- items 13 and 15: control characters, sizes -------------------------------------------
    yml("geometry-beyond-the-servers", "version: 1\ndisplay:\n  geometry: 99999x99999\n",
        "desktop.yml:3:13: display.geometry: '99999x99999' is too large (at most 8192x8192)"),
    yml("geometry-one-too-wide", "version: 1\ndisplay:\n  geometry: 8193x600\n",
        "desktop.yml:3:13: display.geometry: '8193x600' is too large (at most 8192x8192)"),
    yml("geometry-trailing-line-break", 'version: 1\ndisplay:\n  geometry: "1280x800\\n"\n',
        "desktop.yml:3:13: display.geometry: '1280x800\\n' is not WIDTHxHEIGHT (e.g. 1280x800)"),
    yml("launcher-name-of-300-characters",
        "version: 1\nlaunchers:\n  - name: " + "a" * 300 + "\n    command: xterm\n",
        "desktop.yml:3:11: launchers[0].name: is 300 characters long; at most 100 are allowed"),
    yml("launcher-icon-adding-an-exec-line",
        'version: 1\nlaunchers:\n  - name: Term\n    command: xterm\n    icon: "utilities-terminal\\nExec=evil"\n',
        "desktop.yml:5:11: launchers[0].icon: must not contain control characters (found \\n at position 19)"),
    yml("launcher-name-carriage-return", 'version: 1\nlaunchers:\n  - name: "Term\\rinal"\n    command: xterm\n',
        "desktop.yml:3:11: launchers[0].name: must not contain control characters (found \\r at position 5)"),
    yml("launcher-command-carriage-return",
        'version: 1\nlaunchers:\n  - name: Term\n    command: "xterm\\rExec=evil"\n',
        "desktop.yml:4:14: launchers[0].command: must not contain control characters (found \\r at position 6)"),
    yml("novnc-title-line-break", 'version: 1\nnovnc:\n  title: "Desk\\ntop"\n',
        "desktop.yml:3:10: novnc.title: must not contain control characters (found \\n at position 5)"),
    yml("launcher-title-escape", 'version: 1\nlauncher:\n  title: "Desk\\etop"\n',
        "desktop.yml:3:10: launcher.title: must not contain control characters (found \\x1b at position 5)"),
    yml("novnc-directory-adding-a-section", 'version: 1\nnovnc:\n  directory: "/usr/share/novnc\\n[program:x]"\n',
        "desktop.yml:3:14: novnc.directory: must not contain control characters (found \\n at position 17)"),
    yml("program-directory-line-break", 'version: 1\nprograms:\n  app:\n    command: x\n    directory: "/tmp\\nx"\n',
        "desktop.yml:5:16: programs.app.directory: must not contain control characters (found \\n at position 5)"),
    yml("program-name-trailing-line-break", 'version: 1\nprograms:\n  "app\\n": {command: x}\n',
        "desktop.yml:3:3: programs.app\\n: program names are letters, digits, '-' and '_'"),
    yml("environment-name-trailing-line-break", 'version: 1\nenvironment:\n  "PATH\\n": x\n',
        "desktop.yml:3:3: environment.PATH\\n: is not a valid variable name"),
    yml("package-with-a-line-break", 'version: 1\npackages: ["xterm\\nx11-apps"]\n',
        "desktop.yml:2:12: packages[0]: 'xterm\\nx11-apps' is not a valid apt package name"),
    yml("home-target-line-break", 'version: 1\nhome:\n  - source: desktop.yml\n    target: "a\\nb"\n',
        "desktop.yml:4:13: home[0].target: must not contain control characters (found \\n at position 2)"),
    yml("home-target-long-component", "version: 1\nhome:\n  - source: desktop.yml\n    target: " + "b" * 300 + "\n",
        "desktop.yml:4:13: home[0].target: has a path component longer than 255 bytes"),
    yml("wallpaper-line-separator", 'version: 1\nwallpaper: "a\\u2028b.png"\n',
        "desktop.yml:2:12: wallpaper: must not contain control characters (found \\u2028 at position 2)"),
    # Issue 16: lone surrogates validated, then broke render (UnicodeEncodeError); refused
    # wherever a string is read.
    yml("surrogate-novnc-title", 'version: 1\nnovnc:\n  title: "Desk\\ud800top"\n',
        f"desktop.yml:3:10: novnc.title: {SURROGATE % ('ud800', 5)}"),
    yml("surrogate-launcher-name", 'version: 1\nlaunchers:\n  - name: "Te\\udc00rm"\n    command: xterm\n',
        f"desktop.yml:3:11: launchers[0].name: {SURROGATE % ('udc00', 3)}"),
    yml("surrogate-environment-value", 'version: 1\nenvironment:\n  LANG: "C\\udfff"\n',
        f"desktop.yml:3:9: environment.LANG: {SURROGATE % ('udfff', 2)}"),
    yml("surrogate-autostart-entry", 'version: 1\nautostart: ["xterm \\ud800"]\n',
        f"desktop.yml:2:13: autostart[0]: {SURROGATE % ('ud800', 7)}"),
    yml("surrogate-program-command", 'version: 1\nprograms:\n  app:\n    command: "run \\udcff"\n',
        f"desktop.yml:4:14: programs.app.command: {SURROGATE % ('udcff', 5)}"),
    yml("surrogate-program-directory",
        'version: 1\nprograms:\n  app:\n    command: x\n    directory: "/srv/\\udc80"\n',
        f"desktop.yml:5:16: programs.app.directory: {SURROGATE % ('udc80', 6)}"),
    Case("surrogate-render-writes-nothing", {"desktop.yml": 'version: 1\nnovnc:\n  title: "Desk\\ud800top"\n'},
         f"desktop.yml:3:10: novnc.title: {SURROGATE % ('ud800', 5)}", argv=["render", ".", "--out", "out"]),
    Case("surrogate-from-a-flag-of-bytes-not-utf-8", {"desktop.yml": "version: 1\n"},
         f"--vnc-command: vnc.command: {SURROGATE % ('udcff', 7)}",
         argv=["validate", ".", "--vnc-command", "Xvnc :\udcff{display}"]),
    Case("desktop-yml-path-not-utf-8", {"\udcff/desktop.yml": "version: 1\n"},
         "\\udcff/desktop.yml:1:1: the path of desktop.yml is not valid UTF-8",
         argv=["render", "\udcff", "--out", "out"]),
    # Issue 16: every way Docker reads a user as root (checked against dockerd), refused
    # before anything starts; names are resolved in the image when serve starts (tests/serve).
    *[Case(f"serve-container-user-{name}", {},
           f"repo2desktop: serve: --container-user: {user!r} {why}; visitor containers never run as root",
           argv=["serve", "img", "--container-user", user])
      for name, user, why in (
          ("zeros", "00", "is root (uid 0) as Docker reads it"),
          ("plus-zero", "+0", "is root (uid 0) as Docker reads it"),
          ("minus-zero", "-0", "is root (uid 0) as Docker reads it"),
          ("zeros-and-group", "00:00", "is root (uid 0) as Docker reads it"),
          ("root-with-a-group", "0:1000", "is root (uid 0) as Docker reads it"),
          ("group-only", ":1000", "names no user, so Docker runs it as root"),
          ("colon", ":", "names no user, so Docker runs it as root"),
          ("root-by-name", "root:users", "is root (uid 0) as Docker reads it"))],
    # Issue 16: a size of 0 is "no limit" to Docker.
    *[Case(f"serve-{flag[2:]}-{name}", {}, f"repo2desktop: serve: {flag}: {message}",
           argv=["serve", "img", flag, size])
      for flag, name, size, message in (
          ("--mem-limit", "zero", "0", "'0' would mean no limit; give a size such as 512m or 2g"),
          ("--mem-limit", "zero-gigabytes", "000g", "'000g' would mean no limit; give a size such as 512m or 2g"),
          ("--mem-limit", "below-the-engines-minimum", "1m", "'1m' is less than the engine's minimum of 6m"),
          ("--mem-limit", "arabic-indic-digits", f"{ARABIC_2}g",
           f"'{ARABIC_2}g' is not a size such as 512m or 2g"),
          ("--shm-size", "zero", "0", "'0' would mean no limit; give a size such as 512m or 2g"),
          ("--shm-size", "zero-bytes", "0b", "'0b' would mean no limit; give a size such as 512m or 2g"))],
    # Issue 16: hub-config wrote its arguments into jupyterhub_config.py (Python) as they came.
    Case("hub-config-image-adding-a-python-line", {},
         "repo2desktop: hub-config: IMAGE: \"img:1\\nimport os; os.system('id') #\" is not an image "
         "reference (NAME[:TAG][@DIGEST], e.g. repo2desktop-demo:latest)",
         argv=["hub-config", "img:1\nimport os; os.system('id') #", "--out", "out"]),
    Case("hub-config-network-with-a-quote", {},
         "repo2desktop: hub-config: --network: \"x'\\nimport os\" is not a network name (letters, digits, "
         "'_', '.', '-')",
         argv=["hub-config", "img:1", "--network", "x'\nimport os", "--out", "out"]),
    Case("hub-config-memory-zero", {},
         "repo2desktop: hub-config: --mem-limit: '0' would mean no limit; give a size such as 512m or 2g",
         argv=["hub-config", "img:1", "--mem-limit", "0", "--out", "out"]),
    Case("hub-config-cpu-not-a-number", {},
         "repo2desktop: hub-config: --cpu-limit: must be a number of CPUs > 0, got nan",
         argv=["hub-config", "img:1", "--cpu-limit", "nan", "--out", "out"]),
    Case("serve-image-with-a-line-break", {},
         "repo2desktop: serve: IMAGE: 'img\\n13:42:02 serve: fake' is not an image reference "
         "(NAME[:TAG][@DIGEST], e.g. repo2desktop-demo:latest)",
         argv=["serve", "img\n13:42:02 serve: fake"]),
    Case("desktop-yml-path-with-a-line-break", {"a\nb/desktop.yml": "version: 1\n"},
         "a\\nb/desktop.yml:1:1: the path of desktop.yml contains a control character",
         argv=["validate", "a\nb/desktop.yml"]),
    Case("repository-path-with-a-line-break", {"a\n[program:x]/desktop.yml": "version: 1\n"},
         "a\\n[program:x]/desktop.yml:1:1: the path of desktop.yml contains a control character",
         argv=["render", "a\n[program:x]", "--out", "out"]),
]

WORKER = r"""
import contextlib, io, json, os, resource, signal, sys, time, traceback
resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
from repo2desktop import cli

class Stop(BaseException):
    pass

def peak_rss():
    # VmHWM is this process's own high-water mark. ru_maxrss is not: Linux carries it over
    # execve, so a worker started by a large pytest process would report the parent's size.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

def stop(signum, frame):
    raise Stop()

signal.signal(signal.SIGALRM, stop)
for line in sys.stdin:
    case = json.loads(line)
    os.chdir(case["cwd"])
    out, err = io.StringIO(), io.StringIO()
    result = {"id": case["id"]}
    began = time.process_time()
    signal.setitimer(signal.ITIMER_REAL, WALL_LIMIT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            result["code"] = cli.main(case["argv"])
    except Stop:
        result["error"] = f"still running after {WALL_LIMIT} s"
    except BaseException:
        result["error"] = traceback.format_exc(limit=-3)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        result["cpu"] = time.process_time() - began
        result["peak"] = peak_rss()
    result["stdout"], result["stderr"] = out.getvalue(), err.getvalue()
    print(json.dumps(result), flush=True)
"""


def make_repository(root: Path, case: Case, secret: Path) -> Path:
    root.mkdir(parents=True)
    for name, entry in case.files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(entry, bytes):
            path.write_bytes(entry)
        elif isinstance(entry, str):
            path.write_text(entry)
        elif entry[0] == "symlink":
            path.symlink_to(entry[1].format(secret=secret, secret_dir=secret.parent))
        elif entry[0] == "fifo":
            os.mkfifo(path)
        elif entry[0] == "dir":
            path.mkdir()
    return root


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, dict]:
    """Every case run once by one worker process: {case id: what happened}."""
    base = tmp_path_factory.mktemp("hostile")
    secret = base / "secret" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text(SECRET)
    lines = []
    for i, case in enumerate(CASES):
        repo = make_repository(base / f"case-{i}" / "repo", case, secret)
        lines.append(json.dumps({"id": case.id, "cwd": str(repo), "argv": case.argv}))
    worker = (WORKER.replace("ADDRESS_SPACE", str(ADDRESS_SPACE))
              .replace("WALL_LIMIT", repr(WALL_LIMIT)))
    proc = subprocess.run([sys.executable, "-c", worker], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, timeout=60 + WALL_LIMIT * len(CASES))
    found = {}
    for line in proc.stdout.splitlines():
        result = json.loads(line)
        found[result["id"]] = result
    if len(found) < len(CASES):
        # The worker itself died (e.g. the address-space limit hit outside a case).
        missing = [c.id for c in CASES if c.id not in found]
        pytest.fail(f"the worker ended (exit {proc.returncode}) before {missing}: {proc.stderr[-2000:]}")
    return found


def test_table_covers_the_issue():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_case(results, case: Case):
    result = results[case.id]
    assert "error" not in result, result["error"]
    out, err = result["stdout"], result["stderr"]
    assert MARKER not in out + err, "content of a file outside the repository was shown"
    assert "Traceback" not in out + err
    assert result["code"] == case.code, err
    if case.expected is not None:
        assert err == (case.expected + "\n" if case.expected else "")
    for text in case.contains:
        assert text in err
    assert out == case.stdout
    assert result["cpu"] <= CPU_BOUND, f"{result['cpu']:.2f} s of CPU"
    assert result["peak"] <= MEMORY_BOUND, f"{result['peak'] / 2**20:.1f} MiB at peak"


# --- the buildpack (plain `repo2docker --config "$(repo2desktop config-path)"`) -------------
def _buildpack_detect(repo: Path, monkeypatch, caplog):
    from repo2desktop.image.buildpacks import selection

    monkeypatch.chdir(repo)
    with caplog.at_level(logging.INFO, logger="repo2docker"):
        with pytest.raises(SystemExit) as info:
            for buildpack_class in selection.buildpacks():
                buildpack = buildpack_class(base_image="local/debian:bookworm")
                if buildpack.detect():
                    buildpack.get_preassemble_scripts()  # where apt.txt is read
                    break
    return info.value.code, caplog.text


def test_buildpack_refuses_a_symlinked_desktop_yml_without_showing_it(tmp_path, monkeypatch, caplog):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    repo = tmp_path / "repo"
    (repo / "binder").mkdir(parents=True)
    (repo / "binder" / "desktop.yml").symlink_to(secret)
    code, log = _buildpack_detect(repo, monkeypatch, caplog)
    assert code == 2
    assert f"binder/desktop.yml:1:1: the file {OUTSIDE}" in log
    assert "repo2desktop: desktop.yml has errors; nothing was built." in log
    assert MARKER not in log


def test_buildpack_refuses_a_symlinked_apt_txt_without_showing_it(tmp_path, monkeypatch, caplog):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "desktop.yml").write_text("version: 1\n")
    (repo / "apt.txt").symlink_to(secret)
    code, log = _buildpack_detect(repo, monkeypatch, caplog)
    assert code == 2
    assert f"apt.txt:1:1: the file {OUTSIDE}" in log
    assert MARKER not in log


# --- home: files copied into $HOME when the desktop starts (repo2desktop/runtime/home.py) ----
def _session(runtime_dir: Path):
    from repo2desktop.render import Placement

    return Placement(str(runtime_dir), 1, f"unix:{runtime_dir}/ws.sock", None, "/usr/bin/websockify")


def test_home_source_swapped_for_a_symlink_after_validation_is_not_copied(tmp_path, monkeypatch):
    from repo2desktop.config import discover
    from repo2desktop.runtime.home import install_home_files

    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    repo, home = tmp_path / "repo", tmp_path / "home"
    repo.mkdir()
    home.mkdir()
    (repo / "desktop.yml").write_text(
        "version: 1\nhome:\n  - {source: rc, target: .rc, overwrite: always}\n"
        "  - {source: ok.txt, target: ok.txt}\n")
    (repo / "rc").write_text("fine\n")
    (repo / "ok.txt").write_text("from the repository\n")
    config = discover.load(str(repo))
    (repo / "rc").unlink()
    (repo / "rc").symlink_to(secret)  # the repository changed after validation
    report = install_home_files(config, _session(tmp_path / "run"), str(home))
    assert not os.path.lexists(home / ".rc")
    assert report[0] == f"skipped {home}/.rc: the source {repo}/rc {OUTSIDE}"
    assert (home / "ok.txt").read_text() == "from the repository\n"
    assert MARKER not in "\n".join(report)


def test_home_copies_get_user_only_modes(tmp_path):
    from repo2desktop.config import discover
    from repo2desktop.runtime.home import install_home_files

    repo, home = tmp_path / "repo", tmp_path / "home"
    repo.mkdir()
    home.mkdir()
    (repo / "desktop.yml").write_text(
        "version: 1\nhome:\n  - {source: shared.txt, target: shared.txt}\n"
        "  - {source: tool.sh, target: bin/tool.sh}\n")
    (repo / "shared.txt").write_text("x\n")
    (repo / "tool.sh").write_text("#!/bin/sh\n")
    os.chmod(repo / "shared.txt", 0o666)
    os.chmod(repo / "tool.sh", 0o4777)  # set-uid and world-writable: none of it is copied
    install_home_files(discover.load(str(repo)), _session(tmp_path / "run"), str(home))
    assert (home / "shared.txt").stat().st_mode & 0o7777 == 0o600
    assert (home / "bin" / "tool.sh").stat().st_mode & 0o7777 == 0o700


def test_home_copy_replaces_a_symlink_in_home_instead_of_writing_through_it(tmp_path):
    from repo2desktop.config import discover
    from repo2desktop.runtime.home import install_home_files

    repo, home, elsewhere = tmp_path / "repo", tmp_path / "home", tmp_path / "elsewhere.txt"
    repo.mkdir()
    home.mkdir()
    elsewhere.write_text("untouched\n")
    (repo / "desktop.yml").write_text("version: 1\nhome:\n  - {source: a.txt, target: a.txt, overwrite: always}\n")
    (repo / "a.txt").write_text("new\n")
    (home / "a.txt").symlink_to(elsewhere)
    install_home_files(discover.load(str(repo)), _session(tmp_path / "run"), str(home))
    assert not (home / "a.txt").is_symlink() and (home / "a.txt").read_text() == "new\n"
    assert elsewhere.read_text() == "untouched\n"


# --- item 12: autostart entries cannot break autostart.sh --------------------------------------
AUTOSTART = ["touch one # a comment", "touch 'two)'", 'touch "three', "touch four; touch five &",
             "touch six ) ( touch seven"]


@pytest.mark.skipif(not os.path.exists("/bin/sh"), reason="needs /bin/sh")
def test_autostart_entries_with_comments_and_odd_syntax(tmp_path, monkeypatch):
    from repo2desktop.config import discover
    from repo2desktop.render import render

    monkeypatch.chdir(tmp_path)
    (tmp_path / "desktop.yml").write_text(
        "version: 1\nwindow_manager: none\nautostart:\n" + "".join(f"  - {json.dumps(c)}\n" for c in AUTOSTART))
    config = discover.load("desktop.yml")  # validate says OK ...
    run = tmp_path / "run"
    script = run / "autostart.sh"
    run.mkdir()
    script.write_text(render(config, _session(run))["autostart.sh"].text)
    # ... and the script it renders is valid sh that starts every good entry.
    assert subprocess.run(["/bin/sh", "-n", str(script)], capture_output=True).returncode == 0
    work = tmp_path / "work"
    work.mkdir()
    subprocess.run(["/bin/sh", str(script)], cwd=work, env=dict(os.environ, PATH="/usr/bin:/bin"),
                   check=True, timeout=10, capture_output=True)
    expected = {"one", "two)", "four", "five"}
    wait_for(lambda: expected <= {p.name for p in work.iterdir()}, 5,
             lambda: f"the autostart entries' files {sorted(expected)} in {sorted(p.name for p in work.iterdir())}", 0.05)


# --- item 13: the generated files' header line ------------------------------------------------
def test_header_cannot_add_lines_to_generated_files(tmp_path):
    import configparser
    import dataclasses

    from repo2desktop.config.loader import parse
    from repo2desktop.render import render
    from repo2desktop.config.validate import validate

    config = validate(parse("version: 1\n", "desktop.yml"), "desktop.yml")
    config = dataclasses.replace(config, source="x\n[program:evil]\ncommand=/bin/evil\n#")
    files = render(config, _session(tmp_path))
    conf = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=True)
    conf.read_string(files["supervisord.conf"].text)
    assert not any("evil" in section for section in conf.sections())
    for name in files:
        assert "\n[program:evil]" not in files[name].text
        assert "\ncommand=/bin/evil" not in files[name].text


# --- item 8: opting in, and command overrides ----------------------------------------------------
def test_unsafe_vnc_args_opt_in_validates_with_a_loud_warning(tmp_path, monkeypatch, capsys):
    from repo2desktop import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "desktop.yml").write_text(
        "version: 1\nvnc:\n  server: tigervnc\n  unsafe_args: true\n"
        "  args: [-rfbport, '5946', -SecurityTypes, None, -dpi, '96']\n")
    assert cli.main(["validate", "."]) == 0
    out, err = capsys.readouterr()
    assert out == "desktop.yml: OK\n"
    assert err == ("desktop.yml:4:16: warning: vnc.unsafe_args: vnc.args change the desktop's "
                   "protection (-rfbport, -SecurityTypes); other local users may reach or control "
                   "the desktop\n")


@pytest.mark.parametrize("command, missing", [
    ("Xtightvnc :{display} -geometry {geometry}",
     "-auth {xauthority} (the X display's cookie); -localhost (the VNC port on loopback only); "
     "-rfbauth {rfbauth} (the session's VNC password)"),
    ("Xtigervnc :{display} -auth {xauthority} -localhost -SecurityTypes None -rfbport {vnc_port}",
     "-rfbauth {rfbauth} (the session's VNC password)"),
    ("Xtightvnc :{display} -auth {xauthority} -rfbauth {rfbauth} -rfbport {vnc_port} -ac",
     "-localhost (the VNC port on loopback only); no -ac (X access control)"),
])
def test_vnc_command_overrides_are_warned_about_what_they_drop(tmp_path, monkeypatch, capsys, command, missing):
    from repo2desktop import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "desktop.yml").write_text(f"version: 1\nvnc:\n  command: '{command}'\n")
    assert cli.main(["validate", "."]) == 0
    assert capsys.readouterr().err == (
        f"desktop.yml:3:12: warning: vnc.command: lacks what the default command has: {missing}; "
        "other local users may reach the desktop (README: Security)\n")


@pytest.mark.parametrize("command", [
    "Xtightvnc :{display} -auth {xauthority} -rfbport {vnc_port} -localhost -rfbauth {rfbauth}",
    "Xtigervnc :{display} -auth {xauthority} -rfbunixpath {unix_socket} -rfbport -1 -SecurityTypes None",
    "xinit -- /usr/bin/Xtigervnc :{display} -auth {xauthority} -interface 127.0.0.1 -PasswordFile={rfbauth}",
])
def test_vnc_command_overrides_keeping_the_protections_are_not_warned(tmp_path, monkeypatch, command):
    from repo2desktop.config import discover

    monkeypatch.chdir(tmp_path)
    (tmp_path / "desktop.yml").write_text(f"version: 1\nvnc:\n  server: tigervnc\n  command: '{command}'\n")
    assert discover.load(".").warnings == ()


def test_nbnovnc_vnc_command_override_is_warned_too(tmp_path, monkeypatch):
    from traitlets.config import Config

    from repo2desktop.config import discover
    from repo2desktop.jupyter import nbnovnc

    monkeypatch.chdir(tmp_path)
    (tmp_path / "desktop.yml").write_text("version: 1\n")
    settings = Config({"NBNoVNC": {"vnc_command": "xinit -- /usr/bin/Xtightvnc :{display}"}})
    config = discover.load(".", nbnovnc.overrides(settings))
    # Located at the setting it came from (desktop.yml:1:1 holds 'version').
    assert [w.split(": lacks", 1)[0] for w in config.warnings] == ["c.NBNoVNC.vnc_command: warning: vnc.command"]


# --- item 15: the longest allowed launcher name still renders into a usable file name -------
def test_longest_launcher_names_fit_in_a_file_name(tmp_path, monkeypatch):
    from repo2desktop.config import discover
    from repo2desktop.render import render

    monkeypatch.chdir(tmp_path)
    names = ["a" * 100, "漢" * 100, "😀x" * 50]
    (tmp_path / "desktop.yml").write_text(
        "version: 1\nlaunchers:\n" + "".join(f"  - {{name: {n}, command: xterm}}\n" for n in names),
        encoding="utf-8")
    files = render(discover.load("desktop.yml"), _session(tmp_path / "run"))
    launchers = [path for path in files if path.startswith("share/applications/")]
    assert len(launchers) == 3
    for path in launchers:
        assert len(os.path.basename(path).encode("utf-8")) <= 255, path
        target = tmp_path / "run" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(files[path].text)  # no ENAMETOOLONG


def test_up_prints_the_unsafe_args_warning_before_starting(tmp_path, monkeypatch, capsys):
    """`up` shows the same warning before it starts anything (the start itself is the host
    tier's; here it is replaced by a stand-in that records the config it got)."""
    from repo2desktop import cli
    from repo2desktop.runtime import foreground

    started = []
    monkeypatch.setattr(foreground, "run_up", lambda config, **kwargs: started.append(config) or 0)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "desktop.yml").write_text(
        "version: 1\nvnc:\n  server: tigervnc\n  unsafe_args: true\n  args: [-interface, 0.0.0.0]\n")
    assert cli.main(["up", "."]) == 0
    assert capsys.readouterr().err == (
        "desktop.yml:4:16: warning: vnc.unsafe_args: vnc.args change the desktop's protection "
        "(-interface); other local users may reach or control the desktop\n")
    assert started and started[0].vnc.args == ("-interface", "0.0.0.0")
