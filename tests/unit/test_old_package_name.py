"""repo2desktop.repo2docker (the image side's old name) still imports, as the same modules as
repo2desktop.image: a repo2docker config of one's own and an environment installed before the
rename (its entry point names the old path) keep working. Each check runs in a fresh
interpreter, as repo2docker would, so the old name's finder never touches this process."""
from __future__ import annotations

import pathlib
import subprocess
import sys
import textwrap

import repo2desktop

PACKAGE = pathlib.Path(repo2desktop.__file__).parent


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_entry_point_written_before_the_rename_loads_the_engine():
    out = run("""
        from importlib.metadata import EntryPoint
        from repo2desktop.image.engine import BuildKitCLIEngine
        old = EntryPoint("buildkit-cli", "repo2desktop.repo2docker.engine:BuildKitCLIEngine",
                         "repo2docker.engines")
        print(old.load() is BuildKitCLIEngine)
    """)
    assert out == "True\n"


def test_an_own_config_importing_the_old_path_gets_the_same_modules_once():
    out = run("""
        import sys
        from repo2desktop.repo2docker.buildpacks.selection import buildpacks, default_buildpack
        from repo2desktop.repo2docker import build
        import repo2desktop.image.buildpacks.selection as selection, repo2desktop.image.build as new_build
        print(buildpacks is selection.buildpacks, default_buildpack is selection.default_buildpack,
              build is new_build, selection.__spec__.name)
        # one module object per file, whichever name imported it
        mods = [m for n, m in list(sys.modules.items())
                if n.startswith(("repo2desktop.image.", "repo2desktop.repo2docker."))]
        print(len({id(m) for m in mods}) == len({m.__file__ for m in mods}))
    """)
    assert out == "True True True repo2desktop.image.buildpacks.selection\nTrue\n"


def test_nothing_in_the_package_uses_the_old_name():
    users = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
             if p.name != "repo2docker.py" and "repo2desktop.repo2docker" in p.read_text()]
    assert users == []
