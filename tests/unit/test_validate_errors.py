"""Every way a desktop.yml can be wrong, with the exact located message a user sees.

Each case is written to tmp_path/desktop.yml and read through the real entry point
(discover.load) from inside tmp_path, so the file is shown as ``desktop.yml``.
"""
from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import Union

import pytest

from repo2desktop import cli
from repo2desktop.config import discover
from repo2desktop.errors import ConfigError

TOP_KEYS = ("version, display, vnc, websockify, novnc, clipboard, window_manager, autostart, packages, "
            "programs, environment, start, launcher, home, launchers, wallpaper, audio, qt, python")
VNC_FIELDS = "{depth}, {display}, {geometry}, {rfbauth}, {unix_socket}, {vnc_port}, {xauthority}"
WEBSOCKIFY_FIELDS = "{heartbeat}, {listen}, {novnc_directory}, {port}, {target}, {vnc_port}, {web}"
TIGHTVNC_HINT = "TightVNC has no GLX/RANDR; use 'vnc.server: tigervnc'"
LIMIT = 64 * 1024  # written out in the messages below as 65536

Content = Union[str, bytes]


def _write(tmp_path: Path, content: Content) -> None:
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    (tmp_path / "desktop.yml").write_bytes(data)


def case(id: str, content: Content, *messages: str):
    return pytest.param(content, "\n".join(messages), id=id)


BAD = [
    # --- reading the file -------------------------------------------------------------
    case("empty-file", "",
         "desktop.yml:1:1: the file is empty (a minimal desktop.yml is 'version: 1')"),
    case("whitespace-only", "  \n\n   \n",
         "desktop.yml:1:1: the file is empty (a minimal desktop.yml is 'version: 1')"),
    case("comments-only", "# my desktop\n\n  # nothing here yet\n",
         "desktop.yml:1:1: the file is empty (a minimal desktop.yml is 'version: 1')"),
    case("binary-nul-byte", b"version: 1\n\x00\x01\x02\n",
         "desktop.yml:1:1: not a text file (binary data at byte 11)"),
    case("invalid-utf8", b"version: 1\nfoo: \xff\n",
         "desktop.yml:2:6: not valid UTF-8 text"),
    case("latin1-text", b"version: 1\nnovnc:\n  title: Caf\xe9\n",
         "desktop.yml:3:13: not valid UTF-8 text"),
    case("huge-file", b"version: 1\n" + b"#" * (LIMIT + 1 - len(b"version: 1\n")),
         "desktop.yml:1:1: the file is 65537 bytes; desktop.yml is limited to 65536 bytes"),
    # --- YAML syntax ----------------------------------------------------------------------
    case("tab-indentation", "version: 1\ndisplay:\n\tdepth: 24\n",
         "desktop.yml:3:1: tab character in indentation; YAML needs spaces"),
    case("tab-after-spaces", "version: 1\ndisplay:\n  \tdepth: 24\n",
         "desktop.yml:3:3: tab character in indentation; YAML needs spaces"),
    case("unclosed-flow-mapping", "version: 1\ndisplay: {\n",
         "desktop.yml:3:1: invalid YAML: expected the node content, but found '<stream end>'"),
    case("unclosed-quote", "version: 1\nfoo: 'abc\n",
         "desktop.yml:3:1: invalid YAML: found unexpected end of stream"),
    case("bad-indentation", "version: 1\n  display: x\n",
         "desktop.yml:2:10: invalid YAML: mapping values are not allowed here"),
    case("list-then-mapping", "version: 1\ndisplay:\n  - a\n  b: c\n",
         "desktop.yml:4:3: invalid YAML: expected <block end>, but found '?'"),
    case("unknown-escape", 'version: 1\nfoo: "\\q"\n',
         "desktop.yml:2:8: invalid YAML: found unknown escape character 'q'"),
    case("two-documents", "version: 1\n---\nversion: 1\n",
         "desktop.yml:2:1: invalid YAML: but found another document"),
    case("undefined-alias", "version: 1\nautostart: *nope\n",
         "desktop.yml:2:12: invalid YAML: found undefined alias 'nope'"),
    case("duplicate-top-level-key", "version: 1\ndisplay: {}\nversion: 1\n",
         "desktop.yml:3:1: version: duplicate key (the mapping starts at line 1)"),
    # A nested duplicate names its dotted path.
    case("duplicate-nested-key", "version: 1\ndisplay:\n  depth: 24\n  depth: 16\n",
         "desktop.yml:4:3: display.depth: duplicate key (the mapping starts at line 3)"),
    case("duplicate-key-flow", "version: 1\nvnc: {server: tigervnc, server: tightvnc}\n",
         "desktop.yml:2:25: vnc.server: duplicate key (the mapping starts at line 2)"),
    case("duplicate-key-in-program", "version: 1\nprograms:\n  app:\n    command: a\n    command: b\n",
         "desktop.yml:5:5: programs.app.command: duplicate key (the mapping starts at line 4)"),
    # --- the document and version ---------------------------------------------------------
    case("document-is-list", "- version: 1\n",
         "desktop.yml:1:1: the document must be a mapping of keys, got a list"),
    case("document-is-flow-list", "[version, 1]\n",
         "desktop.yml:1:1: the document must be a mapping of keys, got a list"),
    # The text of a file that is no desktop.yml is not shown (it may be /etc/shadow).
    case("document-is-scalar", "hello\n",
         "desktop.yml:1:1: the document must be a mapping of keys, got a string"),
    case("document-is-integer", "1\n",
         "desktop.yml:1:1: the document must be a mapping of keys, got an integer (1)"),
    case("document-is-null", "---\n",
         "desktop.yml:1:1: the document must be a mapping of keys, got null"),
    case("version-missing", "display: {}\n",
         "desktop.yml:1:1: version: required key is missing (add 'version: 1')"),
    case("version-string", "version: '1'\n",
         "desktop.yml:1:10: version: expected the integer 1, got a string ('1')"),
    case("version-float", "version: 1.0\n",
         "desktop.yml:1:10: version: expected the integer 1, got a number (1.0)"),
    case("version-bool", "version: true\n",
         "desktop.yml:1:10: version: expected the integer 1, got a boolean (true)"),
    # A null value is located at its own key, not at the next token.
    case("version-null", "version:\n",
         "desktop.yml:1:1: version: expected the integer 1, got null"),
    case("version-date", "version: 2001-01-01\n",
         "desktop.yml:1:10: version: expected the integer 1, got a date (2001-01-01)"),
    case("version-binary", "version: !!binary aGVsbG8=\n",
         "desktop.yml:1:10: version: expected the integer 1, got binary data"),
    case("version-list", "version:\n  - 1\n",
         "desktop.yml:2:3: version: expected the integer 1, got a list"),
    case("version-unsupported", "version: 2\n",
         "desktop.yml:1:10: version: unsupported version 2 (this repo2desktop reads version 1)"),
    case("version-zero", "version: 0\n",
         "desktop.yml:1:10: version: unsupported version 0 (this repo2desktop reads version 1)"),
    case("version-after-bom", b"\xef\xbb\xbfversion: 3\n",
         "desktop.yml:1:10: version: unsupported version 3 (this repo2desktop reads version 1)"),
    # --- unknown keys ------------------------------------------------------------------------
    case("unknown-top-key-with-hint", "version: 1\ndisply: {}\n",
         "desktop.yml:2:1: disply: unknown key; did you mean 'display'?"),
    case("unknown-top-key-hint-autostart", "version: 1\nautostrat: [xterm]\n",
         "desktop.yml:2:1: autostrat: unknown key; did you mean 'autostart'?"),
    case("unknown-top-key-no-hint", "version: 1\nfoo: 1\n",
         f"desktop.yml:2:1: foo: unknown key (allowed here: {TOP_KEYS})"),
    case("unknown-display-key", "version: 1\ndisplay:\n  geometri: 1024x768\n",
         "desktop.yml:3:3: display.geometri: unknown key; did you mean 'geometry'?"),
    case("unknown-novnc-key", "version: 1\nnovnc:\n  pgae: lite\n",
         "desktop.yml:3:3: novnc.pgae: unknown key; did you mean 'page'?"),
    case("unknown-launcher-key", "version: 1\nlauncher:\n  titel: Lab\n",
         "desktop.yml:3:3: launcher.titel: unknown key; did you mean 'title'?"),
    case("unknown-program-key", "version: 1\nprograms:\n  app:\n    command: xterm\n    colour: red\n",
         "desktop.yml:5:5: programs.app.colour: unknown key "
         "(allowed here: command, environment, autorestart, directory)"),
    case("unknown-vnc-key-no-hint", "version: 1\nvnc:\n  port: 5901\n",
         "desktop.yml:3:3: vnc.port: unknown key (allowed here: server, auth, args, command, unsafe_args)"),
    case("non-string-key", "1: x\nversion: 1\n",
         "desktop.yml:1:1: 1: keys must be strings"),
    # A key with a line break is shown with repr: still one line per problem.
    case("key-with-line-break", 'version: 1\n"a\\nb": 1\n',
         f"desktop.yml:2:1: 'a\\nb': unknown key (allowed here: {TOP_KEYS})"),
    # --- wrong types per section ----------------------------------------------------------
    case("display-is-list", "version: 1\ndisplay: [1]\n",
         "desktop.yml:2:10: display: expected a mapping, got a list"),
    case("display-is-string", "version: 1\ndisplay: hi\n",
         "desktop.yml:2:10: display: expected a mapping, got a string ('hi')"),
    case("vnc-is-list", "version: 1\nvnc: [tigervnc]\n",
         "desktop.yml:2:6: vnc: expected a mapping, got a list"),
    case("websockify-is-integer", "version: 1\nwebsockify: 30\n",
         "desktop.yml:2:13: websockify: expected a mapping, got an integer (30)"),
    case("novnc-is-string", "version: 1\nnovnc: lite\n",
         "desktop.yml:2:8: novnc: expected a mapping, got a string ('lite')"),
    case("launcher-is-list", "version: 1\nlauncher: []\n",
         "desktop.yml:2:11: launcher: expected a mapping, got a list"),
    case("programs-is-list", "version: 1\nprograms: [xterm]\n",
         "desktop.yml:2:11: programs: expected a mapping of NAME: {command: ...}, got a list"),
    case("environment-is-list", "version: 1\nenvironment: [A=1]\n",
         "desktop.yml:2:14: environment: expected a mapping of NAME: value, got a list"),
    case("autostart-is-string", "version: 1\nautostart: xterm\n",
         "desktop.yml:2:12: autostart: expected a list of strings, got a string ('xterm')"),
    case("packages-is-string", "version: 1\npackages: xterm\n",
         "desktop.yml:2:11: packages: expected a list of strings, got a string ('xterm')"),
    case("vnc-args-is-string", "version: 1\nvnc:\n  args: -dpi 96\n",
         "desktop.yml:3:9: vnc.args: expected a list of strings, got a string ('-dpi 96')"),
    case("vnc-args-item-integer", "version: 1\nvnc:\n  args: [-dpi, 96]\n",
         "desktop.yml:3:16: vnc.args[1]: expected a non-empty string, got an integer (96)"),
    case("autostart-bad-items", "version: 1\nautostart: [1, '']\n",
         "desktop.yml:2:13: autostart[0]: expected a non-empty string, got an integer (1)",
         "desktop.yml:2:16: autostart[1]: expected a non-empty string, got a string ('')"),
    case("display-number-string", "version: 1\ndisplay:\n  number: one\n",
         "desktop.yml:3:11: display.number: expected an integer, got a string ('one')"),
    case("display-number-float", "version: 1\ndisplay:\n  number: 1.5\n",
         "desktop.yml:3:11: display.number: expected an integer, got a number (1.5)"),
    case("display-number-zero", "version: 1\ndisplay:\n  number: 0\n",
         "desktop.yml:3:11: display.number: display :0 is the host's own screen; "
         "use 1 or higher, or 'auto'"),
    case("display-number-too-big", "version: 1\ndisplay:\n  number: 1000\n",
         "desktop.yml:3:11: display.number: 1000 is out of range (1 to 999)"),
    case("display-number-negative", "version: 1\ndisplay:\n  number: -1\n",
         "desktop.yml:3:11: display.number: -1 is out of range (1 to 999)"),
    case("heartbeat-string", "version: 1\nwebsockify:\n  heartbeat: '30'\n",
         "desktop.yml:3:14: websockify.heartbeat: expected an integer, got a string ('30')"),
    case("heartbeat-negative", "version: 1\nwebsockify:\n  heartbeat: -1\n",
         "desktop.yml:3:14: websockify.heartbeat: -1 is out of range (0 to 3600)"),
    case("heartbeat-bool", "version: 1\nwebsockify:\n  heartbeat: true\n",
         "desktop.yml:3:14: websockify.heartbeat: expected an integer, got a boolean (true)"),
    case("novnc-directory-integer", "version: 1\nnovnc:\n  directory: 7\n",
         "desktop.yml:3:14: novnc.directory: expected a string, got an integer (7)"),
    case("novnc-title-empty", "version: 1\nnovnc:\n  title: '  '\n",
         "desktop.yml:3:10: novnc.title: must not be empty"),
    case("launcher-title-empty", "version: 1\nlauncher:\n  title: ''\n",
         "desktop.yml:3:10: launcher.title: must not be empty"),
    case("launcher-icon-integer", "version: 1\nlauncher:\n  icon: 5\n",
         "desktop.yml:3:9: launcher.icon: expected a string, got an integer (5)"),
    # --- geometry and depth ----------------------------------------------------------------
    case("geometry-missing-height", "version: 1\ndisplay:\n  geometry: 1280x\n",
         "desktop.yml:3:13: display.geometry: '1280x' is not WIDTHxHEIGHT (e.g. 1280x800)"),
    case("geometry-integer", "version: 1\ndisplay:\n  geometry: 1280\n",
         "desktop.yml:3:13: display.geometry: an integer (1280) is not WIDTHxHEIGHT (e.g. 1280x800)"),
    case("geometry-capital-x", "version: 1\ndisplay:\n  geometry: 1280X800\n",
         "desktop.yml:3:13: display.geometry: '1280X800' is not WIDTHxHEIGHT (e.g. 1280x800)"),
    case("geometry-spaces", "version: 1\ndisplay:\n  geometry: 1280 x 800\n",
         "desktop.yml:3:13: display.geometry: '1280 x 800' is not WIDTHxHEIGHT (e.g. 1280x800)"),
    case("geometry-with-depth", "version: 1\ndisplay:\n  geometry: 1280x800x24\n",
         "desktop.yml:3:13: display.geometry: '1280x800x24' is not WIDTHxHEIGHT (e.g. 1280x800)"),
    case("geometry-too-small", "version: 1\ndisplay:\n  geometry: 12x8\n",
         "desktop.yml:3:13: display.geometry: '12x8' is not WIDTHxHEIGHT (e.g. 1280x800)"),
    case("geometry-list", "version: 1\ndisplay:\n  geometry: [1280, 800]\n",
         "desktop.yml:3:13: display.geometry: a list is not WIDTHxHEIGHT (e.g. 1280x800)"),
    case("depth-unsupported", "version: 1\ndisplay:\n  depth: 15\n",
         "desktop.yml:3:10: display.depth: expected one of 8, 16, 24, 32; got an integer (15)"),
    case("depth-string", "version: 1\ndisplay:\n  depth: '24'\n",
         "desktop.yml:3:10: display.depth: expected one of 8, 16, 24, 32; got a string ('24')"),
    case("depth-bool", "version: 1\ndisplay:\n  depth: true\n",
         "desktop.yml:3:10: display.depth: expected one of 8, 16, 24, 32; got a boolean (true)"),
    case("depth-float", "version: 1\ndisplay:\n  depth: 24.0\n",
         "desktop.yml:3:10: display.depth: expected one of 8, 16, 24, 32; got a number (24.0)"),
    case("flow-display-two-errors", "version: 1\ndisplay: {geometry: 1x, depth: 7}\n",
         "desktop.yml:2:21: display.geometry: '1x' is not WIDTHxHEIGHT (e.g. 1280x800)",
         "desktop.yml:2:32: display.depth: expected one of 8, 16, 24, 32; got an integer (7)"),
    case("crlf-line-endings", "version: 1\r\ndisplay:\r\n  depth: 7\r\n",
         "desktop.yml:3:10: display.depth: expected one of 8, 16, 24, 32; got an integer (7)"),
    # --- enumerations -----------------------------------------------------------------------
    case("vnc-server-typo", "version: 1\nvnc:\n  server: tigervn\n",
         "desktop.yml:3:11: vnc.server: 'tigervn' is not one of: tightvnc, tigervnc; "
         "did you mean 'tigervnc'?"),
    case("vnc-server-integer", "version: 1\nvnc:\n  server: 5\n",
         "desktop.yml:3:11: vnc.server: expected one of: tightvnc, tigervnc; got an integer (5)"),
    case("vnc-auth-capitalised", "version: 1\nvnc:\n  auth: None\n",
         "desktop.yml:3:9: vnc.auth: 'None' is not one of: password, none; did you mean 'none'?"),
    case("vnc-auth-null", "version: 1\nvnc:\n  auth: null\n",
         "desktop.yml:3:3: vnc.auth: expected one of: password, none; got null"),
    case("novnc-page-typo", "version: 1\nnovnc:\n  page: lit\n",
         "desktop.yml:3:9: novnc.page: 'lit' is not one of: full, lite; did you mean 'lite'?"),
    case("novnc-resize-unknown", "version: 1\nnovnc:\n  resize: fit\n",
         "desktop.yml:3:11: novnc.resize: 'fit' is not one of: off, scale, remote"),
    case("novnc-resize-bool", "version: 1\nnovnc:\n  resize: true\n",
         "desktop.yml:3:11: novnc.resize: expected one of: off, scale, remote; got a boolean (true)"),
    case("window-manager-typo", "version: 1\nwindow_manager: xfce\n",
         "desktop.yml:2:17: window_manager: 'xfce' is not one of: openbox, xfce4, mate, icewm, fluxbox, none; "
         "did you mean 'xfce4'?"),
    case("window-manager-unknown", "version: 1\nwindow_manager: kde\n",
         "desktop.yml:2:17: window_manager: 'kde' is not one of: openbox, xfce4, mate, icewm, fluxbox, none"),
    case("window-manager-list", "version: 1\nwindow_manager: [openbox]\n",
         "desktop.yml:2:17: window_manager: expected one of: openbox, xfce4, mate, icewm, fluxbox, none; got a list"),
    case("start-unknown", "version: 1\nstart: now\n",
         "desktop.yml:2:8: start: 'now' is not one of: lazy, visit, eager"),
    case("start-capitalised", "version: 1\nstart: Lazy\n",
         "desktop.yml:2:8: start: 'Lazy' is not one of: lazy, visit, eager; did you mean 'lazy'?"),
    case("start-bool", "version: 1\nstart: true\n",
         "desktop.yml:2:8: start: expected one of: lazy, visit, eager; got a boolean (true)"),
    case("auth-none-with-tightvnc", "version: 1\nvnc:\n  auth: none\n",
         "desktop.yml:3:9: vnc.auth: 'none' needs 'server: tigervnc': tightvnc listens on a TCP "
         "port that every local user can reach, so it must use a password"),
    # --- command overrides ------------------------------------------------------------------
    case("vnc-command-unknown-field", "version: 1\nvnc:\n  command: 'Xvnc :{display} {bogus}'\n",
         f"desktop.yml:3:12: vnc.command: unknown replacement field {{bogus}} (known: {VNC_FIELDS})"),
    case("vnc-command-unclosed-brace", "version: 1\nvnc:\n  command: 'Xvnc :{display'\n",
         "desktop.yml:3:12: vnc.command: cannot be formatted: expected '}' before end of string"),
    case("vnc-command-single-close-brace", "version: 1\nvnc:\n  command: 'Xvnc {display}}'\n",
         "desktop.yml:3:12: vnc.command: cannot be formatted: Single '}' encountered in format string"),
    case("vnc-command-positional-field", "version: 1\nvnc:\n  command: 'Xvnc :{}'\n",
         f"desktop.yml:3:12: vnc.command: unknown replacement field {{}} (known: {VNC_FIELDS})"),
    case("vnc-command-unclosed-quote", "version: 1\nvnc:\n  command: \"Xvnc -desktop 'my desk\"\n",
         "desktop.yml:3:12: vnc.command: is not a valid command template: No closing quotation"),
    # Templates are dry-run formatted: what validates also renders.
    case("vnc-command-formats-to-nothing", "version: 1\nvnc:\n  command: '{display:.0}'\n",
         "desktop.yml:3:12: vnc.command: must name a program to run"),
    case("websockify-command-vnc-field",
         "version: 1\nwebsockify:\n  command: 'websockify {port} 127.0.0.1:{vnc_port} {display}'\n",
         "desktop.yml:3:12: websockify.command: unknown replacement field {display} "
         f"(known: {WEBSOCKIFY_FIELDS})"),
    case("websockify-command-attribute-field", "version: 1\nwebsockify:\n  command: 'ws {port.real}'\n",
         "desktop.yml:3:12: websockify.command: unknown replacement field {port.real} "
         f"(known: {WEBSOCKIFY_FIELDS})"),
    case("websockify-command-unclosed-brace", "version: 1\nwebsockify:\n  command: 'websockify {port'\n",
         "desktop.yml:3:12: websockify.command: cannot be formatted: expected '}' before end of string"),
    case("websockify-command-conversion", "version: 1\nwebsockify:\n  command: 'websockify {port!x}'\n",
         "desktop.yml:3:12: websockify.command: is not a valid command template: "
         "Unknown conversion specifier x"),
    case("websockify-command-format-spec", "version: 1\nwebsockify:\n  command: 'websockify {port:d}'\n",
         "desktop.yml:3:12: websockify.command: is not a valid command template: "
         "Unknown format code 'd' for object of type 'str'"),
    case("websockify-command-formats-to-nothing", "version: 1\nwebsockify:\n  command: '{port:.0}'\n",
         "desktop.yml:3:12: websockify.command: must name a program to run"),
    case("websockify-command-empty", "version: 1\nwebsockify:\n  command: ''\n",
         "desktop.yml:3:12: websockify.command: must not be empty"),
    case("websockify-command-integer", "version: 1\nwebsockify:\n  command: 5\n",
         "desktop.yml:3:12: websockify.command: expected a string, got an integer (5)"),
    # --- programs ---------------------------------------------------------------------------
    case("program-reserved-x-session", "version: 1\nprograms:\n  x-session:\n    command: xterm\n",
         "desktop.yml:3:3: programs.x-session: 'x-session' is reserved for the desktop's own program"),
    case("program-reserved-websockify", "version: 1\nprograms:\n  websockify:\n    command: x\n",
         "desktop.yml:3:3: programs.websockify: 'websockify' is reserved for the desktop's own program"),
    case("program-name-with-space", "version: 1\nprograms:\n  my app:\n    command: xterm\n",
         "desktop.yml:3:3: programs.my app: program names are letters, digits, '-' and '_'"),
    case("program-name-leading-dash", "version: 1\nprograms:\n  -app:\n    command: xterm\n",
         "desktop.yml:3:3: programs.-app: program names are letters, digits, '-' and '_'"),
    case("program-name-colon", "version: 1\nprograms:\n  'group:app':\n    command: xterm\n",
         "desktop.yml:3:3: programs.group:app: program names are letters, digits, '-' and '_'"),
    case("program-name-too-long", "version: 1\nprograms:\n  " + "a" * 64 + ":\n    command: x\n",
         "desktop.yml:3:3: programs." + "a" * 64 + ": program names are letters, digits, '-' and '_'"),
    case("program-name-integer", "version: 1\nprograms:\n  1: {command: x}\n",
         "desktop.yml:3:3: programs.1: program names are letters, digits, '-' and '_'"),
    case("program-without-command", "version: 1\nprograms:\n  app:\n    directory: /tmp\n",
         "desktop.yml:3:3: programs.app.command: required key is missing"),
    case("program-empty-mapping", "version: 1\nprograms:\n  app: {}\n",
         "desktop.yml:3:3: programs.app.command: required key is missing"),
    case("program-null", "version: 1\nprograms:\n  app:\n",
         "desktop.yml:3:3: programs.app: expected a mapping with at least 'command', got null"),
    case("program-null-then-another", "version: 1\nprograms:\n  app: ~\n  clock: {command: xclock}\n",
         "desktop.yml:3:3: programs.app: expected a mapping with at least 'command', got null"),
    case("program-is-string", "version: 1\nprograms:\n  app: xterm\n",
         "desktop.yml:3:8: programs.app: expected a mapping, got a string ('xterm')"),
    case("program-command-empty", "version: 1\nprograms:\n  app:\n    command: ''\n",
         "desktop.yml:4:14: programs.app.command: must not be empty"),
    case("program-bad-types",
         "version: 1\nprograms:\n  app:\n    command: 5\n    autorestart: 'yes'\n    directory: 7\n",
         "desktop.yml:4:14: programs.app.command: expected a string, got an integer (5)",
         "desktop.yml:5:18: programs.app.autorestart: expected true or false, got a string ('yes')",
         "desktop.yml:6:16: programs.app.directory: expected a string, got an integer (7)"),
    case("program-environment-list",
         "version: 1\nprograms:\n  app:\n    command: xterm\n    environment: [A]\n",
         "desktop.yml:5:18: programs.app.environment: expected a mapping of NAME: value, got a list"),
    case("program-environment-bad-name",
         "version: 1\nprograms:\n  app:\n    command: xterm\n    environment:\n      A-B: x\n",
         "desktop.yml:6:7: programs.app.environment.A-B: is not a valid variable name"),
    # --- environment ------------------------------------------------------------------------
    case("environment-name-starts-with-digit", "version: 1\nenvironment:\n  1BAD: x\n",
         "desktop.yml:3:3: environment.1BAD: is not a valid variable name"),
    case("environment-name-with-space", "version: 1\nenvironment:\n  'A B': x\n",
         "desktop.yml:3:3: environment.A B: is not a valid variable name"),
    case("environment-value-list", "version: 1\nenvironment:\n  GOOD: [1]\n",
         "desktop.yml:3:9: environment.GOOD: expected a string or number, got a list"),
    case("environment-value-null", "version: 1\nenvironment:\n  GOOD:\n  OTHER: x\n",
         "desktop.yml:3:3: environment.GOOD: expected a string or number, got null"),
    case("environment-value-mapping", "version: 1\nenvironment:\n  PATH: {a: 1}\n",
         "desktop.yml:3:9: environment.PATH: expected a string or number, got a mapping"),
    # --- packages ---------------------------------------------------------------------------
    case("package-uppercase", "version: 1\npackages:\n  - Foo_Bar\n",
         "desktop.yml:3:5: packages[0]: 'Foo_Bar' is not a valid apt package name"),
    case("package-option-injection", "version: 1\npackages:\n  - xterm\n  - '-o=Dpkg::Foo'\n",
         "desktop.yml:4:5: packages[1]: '-o=Dpkg::Foo' is not a valid apt package name"),
    case("package-one-letter", "version: 1\npackages: [xterm, a]\n",
         "desktop.yml:2:19: packages[1]: 'a' is not a valid apt package name"),
    case("package-two-arch-suffixes", "version: 1\npackages:\n  - 'libc6:amd64:i386'\n",
         "desktop.yml:3:5: packages[0]: 'libc6:amd64:i386' is not a valid apt package name"),
    case("package-shell-injection", "version: 1\npackages:\n  - 'xterm; rm -rf /'\n",
         "desktop.yml:3:5: packages[0]: 'xterm; rm -rf /' is not a valid apt package name"),
    case("package-null", "version: 1\npackages: [null]\n",
         "desktop.yml:2:12: packages[0]: expected a non-empty string, got null"),
    # --- several errors: all of them, in line order (the file's order, not the checker's) --
    case("many-errors-in-line-order",
         "version: 2\n"                                          # 1
         "vnc:\n"                                                # 2
         "  server: realvnc\n"                                   # 3
         "  auth: none\n"                                        # 4
         "  command: 'Xvnc :{display} -rfbport {port}'\n"        # 5
         "display:\n"                                            # 6
         "  geometry: big\n"                                     # 7
         "  depth: 12\n"                                         # 8
         "windw_manager: openbox\n"                              # 9
         "packages:\n"                                           # 10
         "  - Bad_Name\n"                                        # 11
         "  - xterm\n"                                           # 12
         "programs:\n"                                           # 13
         "  x-session:\n"                                        # 14
         "    command: xterm\n"                                  # 15
         "  clock: {}\n"                                         # 16
         "environment:\n"                                        # 17
         "  9LIVES: cat\n"                                       # 18
         "start: later\n",                                       # 19
         "desktop.yml:1:10: version: unsupported version 2 (this repo2desktop reads version 1)",
         "desktop.yml:3:11: vnc.server: 'realvnc' is not one of: tightvnc, tigervnc",
         "desktop.yml:4:9: vnc.auth: 'none' needs 'server: tigervnc': tightvnc listens on a TCP "
         "port that every local user can reach, so it must use a password",
         f"desktop.yml:5:12: vnc.command: unknown replacement field {{port}} (known: {VNC_FIELDS})",
         "desktop.yml:7:13: display.geometry: 'big' is not WIDTHxHEIGHT (e.g. 1280x800)",
         "desktop.yml:8:10: display.depth: expected one of 8, 16, 24, 32; got an integer (12)",
         "desktop.yml:9:1: windw_manager: unknown key; did you mean 'window_manager'?",
         "desktop.yml:11:5: packages[0]: 'Bad_Name' is not a valid apt package name",
         "desktop.yml:14:3: programs.x-session: 'x-session' is reserved for the desktop's own program",
         "desktop.yml:16:3: programs.clock.command: required key is missing",
         "desktop.yml:18:3: environment.9LIVES: is not a valid variable name",
         "desktop.yml:19:8: start: 'later' is not one of: lazy, visit, eager; did you mean 'eager'?"),
    case("errors-and-warnings-only-errors-reported",
         "version: 1\nnovnc:\n  resize: remote\ndisplay:\n  depth: 7\n",
         "desktop.yml:5:10: display.depth: expected one of 8, 16, 24, 32; got an integer (7)"),
]


def test_table_is_large_enough():
    assert len(BAD) >= 35
    ids = [p.id for p in BAD]
    assert len(ids) == len(set(ids)), "case ids must be unique"


@pytest.mark.parametrize("content, expected", BAD)
def test_bad_desktop_yml(load, content: Content, expected: str):
    with pytest.raises(ConfigError) as info:
        load(content)
    assert str(info.value) == expected
    # Every problem is located in the shown file, with 1-based line and column.
    for problem in info.value.problems:
        assert problem.file == "desktop.yml"
        assert problem.line >= 1 and problem.col >= 1
        assert problem.severity == "error"


# ruamel raises plain Python errors (IndexError, KeyError, AttributeError, AssertionError)
# for these tags and directives; each still becomes one located 'invalid YAML' line.
# Their text is ruamel's own and not pinned here.
ODD_TAGS_AND_DIRECTIVES = [
    pytest.param("!!int \n", id="empty-int-tag"),
    pytest.param("version: 1\ndisplay:\n  depth: !!float\n", id="empty-float-tag"),
    pytest.param("version: !!bool x\n", id="bool-tag-on-non-boolean"),
    pytest.param("version: 1\nautostart: !!set xterm\n", id="set-tag-on-scalar"),
    pytest.param("version: 1\ndisplay: !!omap x\n", id="omap-tag-on-scalar"),
    pytest.param("%YAML 1.3\n---\nversion: 1\n", id="yaml-1.3-directive"),
]


@pytest.mark.parametrize("content", ODD_TAGS_AND_DIRECTIVES)
def test_odd_tags_and_directives_are_one_located_yaml_error(load, content: str):
    with pytest.raises(ConfigError) as info:
        load(content)
    [problem] = info.value.problems
    assert problem.file == "desktop.yml"
    assert problem.severity == "error"
    assert 1 <= problem.line <= content.count("\n") and problem.col >= 1
    assert problem.message.startswith("invalid YAML: ")
    assert str(info.value) == str(problem)
    assert len(str(info.value).splitlines()) == 1


@pytest.mark.parametrize("content", ODD_TAGS_AND_DIRECTIVES)
def test_cli_validate_reports_odd_tags_without_a_traceback(tmp_path, monkeypatch, capsys, content):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, content)
    assert cli.main(["validate", "desktop.yml"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("desktop.yml:")
    assert ": invalid YAML: " in err


def test_file_at_the_size_limit_is_read(load):
    head = b"version: 1\n"
    config = load(head + b"#" * (LIMIT - len(head)))
    assert config.version == 1


def test_missing_file_is_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        discover.load("nothere.yml")
    assert str(info.value) == "nothere.yml:1:1: cannot read the file: No such file or directory"


# --- the same through the command line ------------------------------------------------------
CLI_CASES = ["empty-file", "binary-nul-byte", "tab-indentation", "undefined-alias",
             "duplicate-top-level-key", "document-is-list", "auth-none-with-tightvnc",
             "many-errors-in-line-order"]


@pytest.mark.parametrize("content, expected", [p for p in BAD if p.id in CLI_CASES])
def test_cli_validate_reports_errors(tmp_path, monkeypatch, capsys, content, expected):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, content)
    code = cli.main(["validate", "desktop.yml"])
    out, err = capsys.readouterr()
    assert code == 2
    assert err == expected + "\n"
    assert out == ""
    assert "Traceback" not in out + err


def test_cli_validate_finds_desktop_yml_in_binder_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "binder").mkdir()
    (tmp_path / "binder" / "desktop.yml").write_text("version: 1\nstart: now\n")
    (tmp_path / "desktop.yml").write_text("version: 1\n")  # binder/ wins, as in repo2docker
    assert cli.main(["validate", "."]) == 2
    assert capsys.readouterr().err == "binder/desktop.yml:2:8: start: 'now' is not one of: lazy, visit, eager\n"


# --- valid files ----------------------------------------------------------------------------
def test_version_alone_gives_documented_defaults(load):
    config = load("version: 1\n")
    assert config.source == "desktop.yml"
    assert config.version == 1
    assert config.display.geometry == "1280x800"
    assert (config.display.width, config.display.height) == (1280, 800)
    assert config.display.depth == 24
    assert config.display.number is None
    assert config.vnc.server == "tightvnc"
    assert config.vnc.auth == "password"
    assert config.vnc.args == ()
    assert config.vnc.command is None
    assert config.window_manager == "openbox"
    assert config.autostart == ("xterm",)
    assert config.start == "lazy"
    assert config.launcher.title == "Desktop"
    assert config.launcher.icon is None
    assert config.novnc.page == "full"
    assert config.novnc.resize == "scale"
    assert config.novnc.directory is None  # the bundled viewer
    assert config.novnc.title == "Desktop"
    assert config.websockify.heartbeat == 30
    assert config.websockify.command is None
    assert config.packages == ()
    assert config.programs == ()
    assert config.environment == ()
    assert config.warnings == ()


def test_no_desktop_yml_gives_the_same_defaults(tmp_path: Path, load):
    from_file = load("version: 1\n")
    (tmp_path / "desktop.yml").unlink()
    defaults = discover.load(str(tmp_path))
    assert defaults.source == "<defaults: version 1>"
    assert defaults == dataclasses.replace(from_file, source=defaults.source)


def test_explicit_values_are_kept(load):
    config = load(
        "version: 1\n"
        "display: {number: 7, geometry: 1920x1080, depth: 16}\n"
        "vnc: {server: tigervnc, auth: none, args: [-dpi, '96']}\n"
        "novnc: {page: lite, resize: 'off', title: Lab}\n"
        "window_manager: none\n"
        "autostart: []\n"
        "packages: ['xterm # the terminal', 'libc6:amd64']\n"
        "environment: {A: 1, B: true, C: x}\n"
        "start: eager\n"
        "launcher: {title: My lab, icon: null}\n"
        "programs:\n"
        "  clock: {command: xclock, autorestart: false, directory: /tmp}\n")
    assert config.display.number == 7
    assert config.display.geometry == "1920x1080"
    assert config.vnc.args == ("-dpi", "96")
    assert config.novnc.resize == "off"
    assert config.autostart == ()
    assert config.packages == ("xterm", "libc6:amd64")
    assert config.environment == (("A", "1"), ("B", "true"), ("C", "x"))
    assert config.launcher.title == "My lab"
    assert config.programs[0].name == "clock"
    assert config.programs[0].autorestart is False
    assert config.programs[0].directory == "/tmp"


def test_reused_anchor_is_accepted(load):
    with warnings.catch_warnings():
        # ruamel reports a reused anchor as a Python warning: it must not escape the loader.
        warnings.simplefilter("error")
        config = load("version: 1\nautostart: [&a xterm, &a xclock]\n")
    assert config.autostart == ("xterm", "xclock")


def test_alias_of_a_reused_anchor_takes_the_latest(load):
    config = load("version: 1\nautostart: [&a xterm, &a xclock]\npackages: [*a]\n")
    assert config.packages == ("xclock",)


def test_tab_inside_block_scalar_is_allowed(load):
    # A tab inside a literal block scalar is content, not indentation.
    config = load("version: 1\nprograms:\n  app:\n    command: |\n      printf 'a\\n'\n      \tprintf b\n")
    assert config.programs[0].command == "printf 'a\\n'\n\tprintf b\n"


def test_display_number_auto_means_none(load):
    assert load("version: 1\ndisplay:\n  number: auto\n").display.number is None


def test_cli_validate_ok(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "version: 1\n")
    assert cli.main(["validate", "desktop.yml"]) == 0
    out, err = capsys.readouterr()
    assert out == "desktop.yml: OK\n"
    assert err == ""


def test_cli_validate_quiet(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "version: 1\n")
    assert cli.main(["validate", "-q", "desktop.yml"]) == 0
    assert capsys.readouterr() == ("", "")


WARNINGS = [
    pytest.param(
        "version: 1\nautostart:\n  - xterm\n  - glxgears -info\n",
        ["desktop.yml:4:5: warning: autostart[1]: glxgears needs OpenGL (GLX); " + TIGHTVNC_HINT],
        id="tightvnc-glxgears"),
    pytest.param(
        "version: 1\nnovnc:\n  resize: remote\n",
        ["desktop.yml:3:11: warning: novnc.resize: remote resize needs RANDR; " + TIGHTVNC_HINT],
        id="tightvnc-resize-remote"),
    pytest.param(
        "version: 1\nnovnc: {resize: remote}\npackages: [mesa-utils]\nautostart: [/usr/bin/glxinfo]\n",
        ["desktop.yml:2:17: warning: novnc.resize: remote resize needs RANDR; " + TIGHTVNC_HINT,
         "desktop.yml:3:12: warning: packages[0]: mesa-utils needs OpenGL (GLX); " + TIGHTVNC_HINT,
         "desktop.yml:4:13: warning: autostart[0]: glxinfo needs OpenGL (GLX); " + TIGHTVNC_HINT],
        id="several-warnings-in-line-order"),
    # One OpenGL list (config/opengl.py) for desktop.yml and requirements.txt: an app that
    # only the requirements.txt list knew (pyglet, vtk) is warned about in autostart too.
    pytest.param(
        "version: 1\nautostart: [python3 -m pyglet]\n",
        ["desktop.yml:2:13: warning: autostart[0]: pyglet needs OpenGL (GLX); " + TIGHTVNC_HINT],
        id="one-opengl-list"),
]


@pytest.mark.parametrize("content, expected", WARNINGS)
def test_cli_validate_prints_warnings(tmp_path, monkeypatch, capsys, content, expected):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, content)
    assert cli.main(["validate", "desktop.yml"]) == 0
    out, err = capsys.readouterr()
    assert out == "desktop.yml: OK\n"
    assert err.splitlines() == expected
    assert "Traceback" not in err


@pytest.mark.parametrize("content", [
    pytest.param("version: 1\nvnc: {server: tigervnc}\nautostart: [glxgears]\nnovnc: {resize: remote}\n",
                 id="tigervnc"),
    pytest.param("version: 1\nvnc: {command: 'Xvnc :{display}'}\npackages: [mesa-utils]\n",
                 id="own-vnc-command"),
])
def test_no_tightvnc_warnings_when_not_tightvnc(load, content):
    # (An own vnc.command gets its own warning: what it lacks of the default's protection.)
    assert not [w for w in load(content).warnings if TIGHTVNC_HINT in w]
