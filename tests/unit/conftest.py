"""Fixtures of the fast tier: render scenarios, and the --update-golden switch.

The option is registered here, so pass it together with the unit folder:

    python -m pytest tests/unit --update-golden

(pytest only reads options from the conftest files of the folders named on its command
line; a bare ``pytest --update-golden`` from the top level does not see this file in time.)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Union

import pytest

from repo2desktop.config import discover
from repo2desktop.config.model import DesktopConfig
from repo2desktop.config.loader import parse
from repo2desktop.render import RenderedFile, Placement, render
from repo2desktop.config.validate import validate


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", default=False,
        help="rewrite the golden files in tests/unit/golden/ (test_render_golden.KEPT) from the current templates (review with git diff)",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    # default=False: the whole suite also runs from the top level, where the option
    # may not be registered.
    return bool(request.config.getoption("--update-golden", default=False))


@pytest.fixture
def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[Union[str, bytes]], DesktopConfig]:
    """load(content): write CONTENT as tmp_path/desktop.yml and read it as the CLI does,
    from inside tmp_path, so that messages show the file as ``desktop.yml``."""
    monkeypatch.chdir(tmp_path)

    def _load(content: Union[str, bytes]) -> DesktopConfig:
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (tmp_path / "desktop.yml").write_bytes(data)
        # A relative name: the loader shows an absolute path as it is.
        return discover.load("desktop.yml")

    return _load


RUNTIME_DIR = "/run/r2d"
UNIX_LISTEN = f"unix:{RUNTIME_DIR}/websockify.sock"
PASSWORD_FILE = f"{RUNTIME_DIR}/vnc.passwd"
WEBSOCKIFY = "/usr/bin/websockify"


@dataclass(frozen=True)
class ScenarioSpec:
    text: str  # the desktop.yml
    listen: str
    password_file: Optional[str]


# Each scenario is one desktop.yml and the Placement it runs in. Their rendered files are
# stored under golden/<name>/; test_render_structure.py checks the same scenarios.
SCENARIOS: Dict[str, ScenarioSpec] = {
    # Nothing but the version: every default (tightvnc, password, openbox, xterm).
    "defaults-tightvnc": ScenarioSpec("version: 1\n", UNIX_LISTEN, PASSWORD_FILE),
    # TigerVNC on a private unix socket, no VNC password (the socket's mode protects it);
    # the clipboard only out of the desktop (the server refuses the browser's text).
    "tigervnc-auth-none": ScenarioSpec(
        "version: 1\n"
        "display:\n"
        "  geometry: 1920x1080\n"
        "  depth: 16\n"
        "vnc:\n"
        "  server: tigervnc\n"
        "  auth: none\n"
        "  args: [-dpi, '96']\n"
        "novnc:\n"
        "  page: lite\n"
        "  resize: remote\n"
        "clipboard: to-browser\n"
        "launcher:\n"
        "  title: Linux desktop\n",
        UNIX_LISTEN, None),
    # xfce4 with extra programs, environment and autostart; '%' in user strings.
    "xfce4-programs": ScenarioSpec(
        "version: 1\n"
        "window_manager: xfce4\n"
        "vnc:\n"
        "  server: tigervnc\n"
        "novnc:\n"
        "  title: Lab at 100%\n"
        "autostart:\n"
        "  - xterm -title '100% shell'\n"
        "  - xclock -update 1\n"
        "packages: [xclock, 'x11-apps # for xeyes']\n"
        "environment:\n"
        "  LANG: C.UTF-8\n"
        "  RATIO: 50%\n"
        "  SEARCH_PATH: /opt/a, /opt/b\n"
        "  THREADS: 4\n"
        "programs:\n"
        "  jupyter-lab:\n"
        "    command: jupyter lab --no-browser --ServerApp.token='%t'\n"
        "    directory: /home/jovyan/work\n"
        "    autorestart: false\n"
        "    environment:\n"
        "      BROWSER: firefox\n"
        "  eyes:\n"
        "    command: xeyes\n"
        "launcher:\n"
        "  title: Lab desktop\n"
        "  icon: icons/lab.svg\n",
        UNIX_LISTEN, PASSWORD_FILE),
    # nbnovnc-style command overrides with their replacement fields; websockify on TCP.
    "nbnovnc-commands": ScenarioSpec(
        "version: 1\n"
        "vnc:\n"
        "  command: /opt/vnc/bin/Xvnc :{display} -geometry {geometry} -depth {depth}"
        " -rfbport {vnc_port} -localhost -nolisten tcp -rfbauth {rfbauth}\n"
        "websockify:\n"
        "  heartbeat: 15\n"
        "  command: websockify --web {novnc_directory} --heartbeat {heartbeat}"
        " 127.0.0.1:{port} 127.0.0.1:{vnc_port}\n",
        "tcp:6080", PASSWORD_FILE),
    # A vnc.command that is itself an xinit line is used as it is.
    "xinit-command": ScenarioSpec(
        "version: 1\n"
        "vnc:\n"
        "  server: tigervnc\n"
        "  command: xinit -- /usr/bin/Xtigervnc :{display} -geometry {geometry}"
        " -rfbport {vnc_port} -localhost -nolisten tcp -PasswordFile {rfbauth}\n",
        UNIX_LISTEN, PASSWORD_FILE),
    # Sound (audio: true): PipeWire and WirePlumber supervised before the X session; every
    # program finds the sound server.
    "audio": ScenarioSpec(
        "version: 1\n"
        "vnc: {server: tigervnc, auth: none}\n"
        "audio: true\n"
        "programs:\n"
        "  chime:\n"
        "    command: paplay /usr/share/sounds/chime.wav\n"
        "    autorestart: false\n",
        UNIX_LISTEN, None),
    # No window manager: the session stays up while the autostarted programs run.
    "window-manager-none": ScenarioSpec(
        "version: 1\n"
        "window_manager: none\n"
        "start: eager\n"
        "display:\n"
        "  number: 5\n"
        "websockify:\n"
        "  heartbeat: 0\n"
        "novnc:\n"
        "  directory: /opt/novnc\n"
        "  resize: 'off'\n"
        "autostart:\n"
        "  - xclock\n"
        "  - xterm -e top\n"
        # Launchers go on ~/Desktop (home.py), no tint2 panel under the user's own desktop.
        "launchers:\n"
        "  - name: Clock\n"
        "    command: xclock\n",
        "tcp:6080", PASSWORD_FILE),
    # MATE: its session runs our XDG autostart entry; launchers on ~/Desktop, wallpaper
    # through gsettings.
    "mate-launchers": ScenarioSpec(
        "version: 1\n"
        "vnc: {server: tigervnc, auth: none}\n"
        "window_manager: mate\n"
        "autostart: [xeyes]\n"
        "wallpaper: desktop/bg.png\n"
        "launchers:\n"
        "  - name: Terminal\n"
        "    command: mate-terminal\n"
        "    icon: utilities-terminal\n",
        UNIX_LISTEN, None),
    # IceWM: its own config folder (ICEWM_PRIVCFG) with startup, look and a launcher toolbar;
    # no clipboard, so TightVNC runs no clipboard bridge.
    "icewm-launchers": ScenarioSpec(
        "version: 1\n"
        "window_manager: icewm\n"
        "clipboard: 'off'\n"
        "wallpaper: desktop/bg.png\n"
        "launchers:\n"
        "  - name: Say \"hi\"\n"
        "    command: xmessage 'hi there' > /dev/null\n"
        "    icon: icons/say.svg\n",
        UNIX_LISTEN, PASSWORD_FILE),
}


@dataclass(frozen=True)
class Scenario:
    name: str
    config: DesktopConfig
    placement: Placement
    files: Dict[str, RenderedFile]


def build_scenario(name: str) -> Scenario:
    spec = SCENARIOS[name]
    config = validate(parse(spec.text, "desktop.yml"), "desktop.yml")
    placement = Placement(runtime_dir=RUNTIME_DIR, display=1, listen=spec.listen,
                        password_file=spec.password_file, websockify=WEBSOCKIFY)
    return Scenario(name, config, placement, render(config, placement))


@pytest.fixture(scope="session", params=sorted(SCENARIOS))
def scenario(request: pytest.FixtureRequest) -> Scenario:
    return build_scenario(request.param)


@pytest.fixture
def scenario_names() -> list:
    return sorted(SCENARIOS)


@pytest.fixture
def make_scenario():
    """Build one named scenario (for tests about a single scenario)."""
    return build_scenario
