"""Plain repo2docker with repo2desktop's config on a repository whose desktop.yml is a
symlink to a host file: the buildpack stops it in detect(), before Docker builds anything,
with the located error and nothing of the file (the fast tier checks detect() itself)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from repo2desktop.image.build import ENGINE

from .images import IMAGES, REPO, build_env, build_options, image_exists

pytestmark = pytest.mark.image
MARKER = "R2D-SECRET-MARKER-image"


def test_repo2docker_with_our_config_refuses_a_symlinked_desktop_yml(docker_engine, tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text(f"root:{MARKER}:19000:0:99999:7:::\n{MARKER}: 1\n")
    repo = tmp_path / "repo"
    (repo / "binder").mkdir(parents=True)
    (repo / "binder" / "desktop.yml").symlink_to(secret)
    config = subprocess.run([sys.executable, "-m", "repo2desktop", "config-path"], capture_output=True,
                            text=True, check=True).stdout.strip()
    image = IMAGES["build-network"] + "-symlink"
    proc = subprocess.run([sys.executable, "-m", "repo2docker", "--config", config, "--engine", ENGINE,
                           *build_options(image), str(repo)],
                          cwd=REPO, env=build_env(), capture_output=True, text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert MARKER not in output
    assert ("binder/desktop.yml:1:1: the file is outside the repository (a symlink pointing out of it); "
            "only files inside the repository are read") in output.splitlines()
    assert "repo2desktop: desktop.yml has errors; nothing was built." in output.splitlines()
    assert "Traceback" not in output
    assert not image_exists(image)
