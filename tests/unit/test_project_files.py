"""The project's own files: Binder setup, README commands, Makefile help, CI entry point."""
from __future__ import annotations

import os
import re
import subprocess

import pytest

from repo2desktop.config import discover
from repo2desktop.image.packages import apt_packages

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(path: str) -> str:
    with open(os.path.join(ROOT, path)) as f:
        return f.read()


def apt_lines(text: str) -> set:
    return {line.split("#", 1)[0].strip() for line in text.splitlines()} - {""}


def test_binder_apt_txt_installs_what_desktop_yml_needs():
    config = discover.load(os.path.join(ROOT, "desktop.yml"))
    assert set(apt_packages(config)) <= apt_lines(read("binder/apt.txt"))


def test_stock_repo2docker_builds_the_binder_folder(monkeypatch):
    """mybinder.org cannot load our buildpack: stock repo2docker must get everything from binder/."""
    from repo2docker.buildpacks import PythonBuildPack

    monkeypatch.chdir(ROOT)
    pack = PythonBuildPack(base_image="buildpack-deps:24.04")
    pack.platform = "linux/amd64"  # repo2docker's app sets this before rendering
    assert pack.detect()
    dockerfile = pack.render()
    for package in apt_lines(read("binder/apt.txt")):
        assert package in dockerfile
    assert "requirements.txt" in dockerfile
    assert "postBuild" in dockerfile
    # "." in requirements.txt makes repo2docker install it after the repository is copied in.
    assert dockerfile.index("COPY --chown") < dockerfile.index("requirements.txt")


def test_postbuild_validates_with_a_located_error():
    text = read("binder/postBuild")
    assert text.startswith("#!/bin/bash")
    assert "repo2desktop validate desktop.yml" in text
    assert os.access(os.path.join(ROOT, "binder/postBuild"), os.X_OK)
    subprocess.run(["bash", "-n", os.path.join(ROOT, "binder/postBuild")], check=True)


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = read("README.md")
    assert "`make demo`" in readme and "`make test`" in readme
    assert re.search(r"^make test$", read(".ci/run"), re.MULTILINE)


def test_make_help_lists_every_documented_target():
    out = subprocess.run(["make", "-s", "-C", ROOT, "help"], capture_output=True, text=True, check=True).stdout
    for target in ("demo", "test", "test-unit", "test-host", "test-image", "bench", "base-image", "engine"):
        assert re.search(rf"^\s+{re.escape(target)}\s", out, re.MULTILINE), target


@pytest.mark.parametrize("script", sorted(f for f in os.listdir(os.path.join(ROOT, "scripts")) if f.endswith(".bash")))
def test_scripts_parse(script):
    subprocess.run(["bash", "-n", os.path.join(ROOT, "scripts", script)], check=True)
