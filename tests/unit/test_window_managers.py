"""The desktops' registry (repo2desktop/desktops/) and fluxbox, the desktop added to it as one
file: validated, installed, rendered, and its start script run under sh with fake X tools."""
from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from repo2desktop import desktops, vncservers
from repo2desktop.config import schema
from repo2desktop.errors import ConfigError
from repo2desktop.render import Placement, render
from repo2desktop.image.packages import apt_packages

FLUXBOX = """version: 1
window_manager: fluxbox
autostart: [xterm]
wallpaper: art/sky.png
launchers:
  - name: Eyes (big) {x} <y>
    command: xeyes -geometry 300x300
"""


def placement(runtime_dir: str) -> Placement:
    return Placement(runtime_dir=runtime_dir, display=1, listen="", password_file="/p",
                     websockify="websockify")


@pytest.fixture
def fluxbox(load, tmp_path):
    (tmp_path / "art").mkdir()
    (tmp_path / "art" / "sky.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return load(FLUXBOX)


def test_the_registries_offer_one_choice_per_file():
    folder = Path(desktops.__file__).parent
    files = sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")
    assert sorted(desktops.names()) == files
    assert "fluxbox" in schema.KEYS["window_manager"].choices
    folder = Path(vncservers.__file__).parent
    assert sorted(vncservers.names()) == sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")


def test_an_unknown_window_manager_lists_fluxbox(load):
    with pytest.raises(ConfigError) as e:
        load("version: 1\nwindow_manager: fluxbx\n")
    assert str(e.value) == ("desktop.yml:2:17: window_manager: 'fluxbx' is not one of: openbox, xfce4, "
                            "mate, icewm, fluxbox, none; did you mean 'fluxbox'?")


def test_fluxbox_installs_itself_and_feh_and_no_panel(fluxbox):
    assert (fluxbox.launcher_place, fluxbox.uses_panel, fluxbox.uses_feh) == ("menu", False, True)
    names = apt_packages(fluxbox)
    assert {"fluxbox", "feh", "xterm", "tightvncserver"} <= set(names)
    assert "tint2" not in names and "openbox" not in names


def test_fluxbox_renders_its_own_files(fluxbox):
    files = render(fluxbox, placement("/run/r2d"))
    own = {path: f.mode for path, f in files.items()
           if path.startswith(("fluxbox/", "bin/launcher-", "tint2rc", "icewm/", "xdg/"))}
    assert own == {"fluxbox/start.sh": 0o700, "fluxbox/init": 0o600, "fluxbox/menu": 0o600,
                   "fluxbox/overlay": 0o600, "bin/launcher-eyes--big---x---y.sh": 0o700}
    assert files["xinitrc"].text.endswith("exec /bin/sh /run/r2d/fluxbox/start.sh\n")
    init = files["fluxbox/init"].text
    assert "session.menuFile: /run/r2d/fluxbox/menu\n" in init
    assert "session.styleOverlay: /run/r2d/fluxbox/overlay\n" in init
    assert "background: unset\n" in files["fluxbox/overlay"].text
    # A name's parentheses, braces and angle brackets cannot end the label early.
    assert ("  [exec] (Eyes \\(big\\) \\{x\\} \\<y\\>) {/bin/sh /run/r2d/bin/launcher-eyes--big---x---y.sh}\n"
            in files["fluxbox/menu"].text)
    assert files["bin/launcher-eyes--big---x---y.sh"].text.endswith("exec xeyes -geometry 300x300\n")
    # No wallpaper setting of its own: feh draws it, before the autostart programs.
    autostart = files["autostart.sh"].text
    assert autostart.index("feh --no-fehbg --bg-fill ") < autostart.index("/bin/sh -c xterm &")


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_fluxbox_start_runs_autostart_once_fluxbox_manages_the_screen(fluxbox, tmp_path):
    """start.sh under sh with stand-ins for fluxbox, xprop and xterm: ~/.fluxbox exists before
    fluxbox starts (else fluxbox overwrites -rc's file), the autostart programs start only once
    fluxbox announces itself on the root window, and fluxbox gets the session's settings."""
    runtime = tmp_path / "run"
    for path, rendered in render(fluxbox, placement(str(runtime))).items():
        (runtime / path).parent.mkdir(parents=True, exist_ok=True)
        (runtime / path).write_text(rendered.text)
    tools, home = tmp_path / "tools", tmp_path / "home"
    tools.mkdir()
    home.mkdir()
    log = tmp_path / "log"
    _executable(tools / "fluxbox", f"""#!/bin/sh
[ -d "$HOME/.fluxbox" ] && echo "home ready" >> {log}
echo "fluxbox $*" >> {log}
sleep 0.3
touch {tmp_path}/managing
i=0; while [ ! -e {tmp_path}/xterm-ran ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
""")
    _executable(tools / "xprop", f"""#!/bin/sh
[ -e {tmp_path}/managing ] && echo "_NET_SUPPORTING_WM_CHECK(WINDOW): window id # 0x400001"
exit 0
""")
    _executable(tools / "xterm", f"""#!/bin/sh
[ -e {tmp_path}/managing ] && echo "xterm after fluxbox" >> {log} || echo "xterm before fluxbox" >> {log}
touch {tmp_path}/xterm-ran
""")
    _executable(tools / "feh", "#!/bin/sh\n")
    env = {"PATH": f"{tools}:/usr/bin:/bin", "HOME": str(home)}
    subprocess.run(["sh", str(runtime / "fluxbox" / "start.sh")], env=env, timeout=30, check=True)
    assert log.read_text().splitlines() == [
        "home ready", f"fluxbox -rc {runtime}/fluxbox/init", "xterm after fluxbox"]


def test_fluxbox_start_passes_sh_n(fluxbox):
    text = render(fluxbox, placement("/run/r2d"))["fluxbox/start.sh"].text
    assert subprocess.run(["sh", "-n"], input=text, text=True).returncode == 0
    assert text.splitlines()[-1] == "exec fluxbox -rc /run/r2d/fluxbox/init"
