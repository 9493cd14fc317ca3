"""Builds that must fail, say why in located lines, and leave nothing behind.

- broken: a desktop.yml with errors stops `repo2desktop build` (and repo2docker with our
  config) before Docker builds anything: exit 2, the README's lines exactly.
- bad-package: a package name the base distribution lacks fails the build in the desktop
  layer's package step, naming the package and the distribution.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import List, Set

import pytest

from repo2desktop.image.build import ENGINE

from .images import (FIXTURES, IMAGES, REPO, build_env, build_options, container_ids, docker,
                     image_exists, image_ids, run_build, untag)

pytestmark = pytest.mark.image


@dataclass(frozen=True)
class Snapshot:
    containers: Set[str]
    images: Set[str]

    @classmethod
    def take(cls) -> "Snapshot":
        return cls(set(container_ids()), set(image_ids()))


def left_behind(before: Snapshot, fixture: str) -> List[str]:
    """Containers created since BEFORE that a build of FIXTURE could have made: from an image
    that did not exist before, or from an image repo2docker labelled with FIXTURE. (Other
    people's containers on a shared dockerd are not ours to count.)"""
    found = []
    for cid in set(container_ids()) - before.containers:
        info = json.loads(docker("inspect", cid, check=False).stdout or "[{}]")[0]
        if not info:
            continue  # gone again
        labels = (info.get("Config") or {}).get("Labels") or {}
        if info.get("Image") not in before.images or labels.get("repo2docker.repo", "").rstrip("/").endswith(fixture):
            found.append(f"{cid[:12]} {info.get('Name')} from {info.get('Config', {}).get('Image')}")
    return found


def new_images_of(before: Snapshot, fixture: str) -> List[str]:
    found = []
    for iid in set(image_ids()) - before.images:
        info = json.loads(docker("image", "inspect", iid, check=False).stdout or "[{}]")[0]
        labels = (info.get("Config") or {}).get("Labels") or {}
        if labels.get("repo2docker.repo", "").rstrip("/").endswith(fixture):
            found.append(f"{iid[:19]} {info.get('RepoTags')}")
    return found


def readme_block(name: str) -> List[str]:
    """The lines of the first ``` block of a fixture's README."""
    text = (FIXTURES / name / "README.md").read_text()
    block = re.search(r"```\n(.*?)```", text, re.S)
    assert block, f"{name}/README.md has no ``` block"
    return block.group(1).splitlines()


def test_broken_desktop_yml_stops_before_anything_is_built(tier_lock):
    expected = readme_block("broken")
    assert len(expected) == 2, expected
    untag(IMAGES["broken"])
    before = Snapshot.take()

    # As the brief of the fixture says, from the top of the checkout...
    proc = subprocess.run([sys.executable, "-m", "repo2desktop", "build", "tests/image/fixtures/broken",
                           "--no-run"], cwd=REPO, env=build_env(), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.splitlines() == [f"tests/image/fixtures/broken/{line}" for line in expected]
    assert proc.stdout == ""

    # ... from inside the repository: exactly the README's lines ...
    proc = subprocess.run([sys.executable, "-m", "repo2desktop", "build", ".",
                           *build_options(IMAGES["broken"])], cwd=FIXTURES / "broken",
                          env=build_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.splitlines() == expected

    # ... and repo2docker itself with our config (the buildpack validates in detect()).
    config = subprocess.run([sys.executable, "-m", "repo2desktop", "config-path"], capture_output=True,
                            text=True, check=True).stdout.strip()
    proc = subprocess.run([sys.executable, "-m", "repo2docker", "--config", config, "--engine", ENGINE,
                           *build_options(IMAGES["broken"]), str(FIXTURES / "broken")],
                          cwd=REPO, env=build_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    output = (proc.stdout + proc.stderr).splitlines()
    for line in expected:
        assert line in output, (line, output)
    assert "repo2desktop: desktop.yml has errors; nothing was built." in output

    assert left_behind(before, "broken") == []
    assert new_images_of(before, "broken") == []
    assert not image_exists(IMAGES["broken"])


def test_unknown_apt_package_fails_the_build(images):
    base = build_env()["REPO2DESKTOP_BASE_IMAGE"]
    os_release = docker("run", "--rm", "--entrypoint", "cat", base, "/etc/os-release").stdout
    pretty = re.search(r'^PRETTY_NAME="?([^"\n]*)"?$', os_release, re.M).group(1)
    untag(IMAGES["bad-package"])
    before = Snapshot.take()

    result = images.record(run_build(FIXTURES / "bad-package", IMAGES["bad-package"], "build-bad-package",
                                     expect_failure=True))
    print(f"\nbad-package: exit {result.returncode} after {result.seconds:.1f} s; log {result.log_path}")
    assert result.returncode != 0, result.failure()
    message = (f"repo2desktop: error: desktop.yml: package 'no-such-package-r2d' does not exist "
               f"on {pretty}")
    lines = [line.rstrip() for line in result.output.splitlines()]
    assert any(line.endswith(message) for line in lines), (message, result.output[-3000:])
    # The README's line is what this machine's base says.
    assert readme_block("bad-package") == [message.replace(pretty, "Debian GNU/Linux 12 (bookworm)")]
    # repo2docker's last words repeat the reason after BuildKit's noise.
    assert "no-such-package-r2d" in "\n".join(lines[-5:]) and pretty in "\n".join(lines[-5:]), lines[-5:]

    assert left_behind(before, "bad-package") == []
    assert new_images_of(before, "bad-package") == []
    assert not image_exists(IMAGES["bad-package"])


def test_apt_txt_names_are_checked_with_rename_hints(docker_engine):
    """The check the buildpack runs before repo2docker's apt.txt step, on the real base image:
    one line per missing name, naming the distribution, with the known rename; a name that
    apt would only match as a pattern is an error naming the exact package; a virtual
    package (awk) and an exact name pass."""
    base = build_env()["REPO2DESKTOP_BASE_IMAGE"]
    script = REPO / "repo2desktop" / "image" / "buildpacks" / "check-apt-packages.bash"
    result = docker("run", "--rm", "-v", f"{script}:/check.bash:ro", base,
                    "bash", "/check.bash", "apt.txt", "x11-apps", "firefox", "libasound2t64", "awk",
                    "python-tk", "freeglut3", "libgconf2-4", "libgtk2.0.0", "libgtk2.0-0",
                    check=False, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("repo2desktop: error:")]
    on = "on Debian GNU/Linux 12 (bookworm)"
    assert lines == [
        f"repo2desktop: error: apt.txt: package 'firefox' does not exist {on}; there it is called "
        "'firefox-esr'",
        f"repo2desktop: error: apt.txt: package 'libasound2t64' does not exist {on}; there it is "
        "called 'libasound2'",
        f"repo2desktop: error: apt.txt: package 'python-tk' does not exist {on}; there it is called "
        "'python3-tk'",
        f"repo2desktop: error: apt.txt: package 'freeglut3' does not exist {on}; there it is called "
        "'libglut3.12' (the library; 'freeglut3-dev' for headers)",
        f"repo2desktop: error: apt.txt: package 'libgconf2-4' does not exist {on}; GConf was removed "
        "from Debian and Ubuntu and has no replacement (apps moved to GSettings/dconf): drop the line",
        f"repo2desktop: error: apt.txt: 'libgtk2.0.0' is not an exact package name {on} (apt would "
        "read it as a pattern and install 'libgtk2.0-0'); write 'libgtk2.0-0'",
    ], result.stderr
