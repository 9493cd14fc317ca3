"""repo2desktop installed from its wheel, not from the checkout, builds an image.

The wheel must carry the buildpack scripts, the templates, the viewer and repo2docker's config
file (all inside the one repo2desktop package tree), and nothing else. Everything
below runs outside the checkout: a fresh venv, a copy of the desktop-only fixture, a
temporary working directory, no PYTHONPATH.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from .images import (BASE_IMAGE_ENV, DEFAULT_BASE_IMAGE, FIXTURES, IMAGES, REPO, docker,
                     image_exists, run_build, untag)

pytestmark = pytest.mark.image

# A fixed folder outside the checkout, emptied at the start of each session. repo2docker
# names the files it copies into the image after their host paths (the venv's helper
# scripts, the wheel in $XDG_CACHE_HOME), so a fixed place lets Docker's layer cache serve
# the next session; a fresh pytest temp folder each time would rebuild from there on.
# Not ~/.cache: a checkout build on the same machine writes its own wheel there.
WORK = Path(tempfile.gettempdir()) / "r2d-test-wheel"


def run(argv, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("timeout", 900)
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, f"{argv} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def installed():
    """(venv, clean environment): a fresh venv holding the wheel built from this checkout."""
    root = WORK
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(mode=0o700)
    assert REPO not in root.parents
    # setuptools builds in the source tree (build/lib, *.egg-info, where files deleted since
    # linger): build from a clean copy of the project's files, leaving the checkout alone.
    source = shutil.copytree(REPO, root / "source", ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", "node_modules", ".venv",
        ".pytest_cache", ".hypothesis"))
    dist = root / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, source])
    wheels = list(dist.glob("repo2desktop-*.whl"))
    assert len(wheels) == 1, wheels
    names = zipfile.ZipFile(wheels[0]).namelist()
    for needed in ("repo2desktop/image/buildpacks/repo2docker_config.py",
                   "repo2desktop/render/templates/xinitrc.j2",
                   "repo2desktop/serve/templates/jupyterhub_config.py.j2",
                   # each desktop's own templates, found by the registry beside its class
                   "repo2desktop/desktops/fluxbox.py", "repo2desktop/desktops/templates/fluxbox/menu.j2",
                   "repo2desktop/desktops/templates/icewm/toolbar.j2",
                   "repo2desktop/image/buildpacks/install-apt-packages.bash",
                   # the one page's template and the bundled noVNC viewer, built by setup.py
                   # from a clean copy (no dist/ there)
                   "repo2desktop/render/templates/desktop.html.j2", "repo2desktop/viewer/page.py",
                   "repo2desktop/viewer/dist/desktop.js"):
        assert needed in names, f"{needed} is not in {wheels[0].name}"
    # The switch of the Desktop page's server extension: a data file for <prefix>/etc/jupyter.
    switch = ".data/data/etc/jupyter/jupyter_server_config.d/repo2desktop.json"
    assert any(n.startswith("repo2desktop-") and n.endswith(switch) for n in names), names
    # One package tree: the development scripts (dockerd, debootstrap, bench) and the tests
    # stay out of the wheel, and so out of every image.
    outside = sorted(n for n in names if not n.startswith(("repo2desktop/", "repo2desktop-")))
    assert outside == [], outside
    assert not any("start-dockerd" in n or "bench" in n for n in names), names

    venv = root / "venv"
    run([sys.executable, "-m", "venv", venv])
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    # The dependencies come from the package index; the build extra brings repo2docker.
    run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", f"{wheels[0]}[build]"], env=env)
    return venv, env


def _extension_list(output: str) -> str:
    """`jupyter server extension list` without its colours."""
    import re
    return re.sub(r"\x1b\[[0-9;]*m", "", output)


def test_installed_wheel_enables_the_server_extension(installed, tmp_path):
    venv, env = installed
    listed = run([venv / "bin" / "jupyter", "server", "extension", "list"], cwd=tmp_path,
                 env=dict(env, JUPYTER_CONFIG_DIR=str(tmp_path / "no-user-config")))
    text = _extension_list(listed.stdout + listed.stderr)
    assert "repo2desktop.jupyter.extension enabled" in text, text
    assert "repo2desktop.jupyter.extension  OK" in text, text
    assert (venv / "etc" / "jupyter" / "jupyter_server_config.d" / "repo2desktop.json").is_file()


def test_installed_wheel_writes_the_hub_config(installed, tmp_path):
    """hub-config renders from the template the wheel carries (serve/templates)."""
    venv, env = installed
    run([venv / "bin" / "repo2desktop", "hub-config", "img:1", "--out", tmp_path, "--pool-size", "1"],
        cwd=tmp_path, env=env)
    text = (tmp_path / "jupyterhub_config.py").read_text()
    assert "IMAGE = 'img:1'" in text and "POOL_SIZE = 1" in text and "poolconfig.hub_services" in text
    compile(text, "jupyterhub_config.py", "exec")
    assert "repo2desktop.hub" in (tmp_path / "values.yaml").read_text()


def test_installed_wheel_builds_an_image(images, installed, tmp_path):
    venv, env = installed
    work = tmp_path / "elsewhere"
    work.mkdir()
    repo = shutil.copytree(FIXTURES / "desktop-only", tmp_path / "desktop-only")
    assert REPO not in Path(repo).parents and REPO not in work.parents

    where = run([venv / "bin" / "python", "-c", "import repo2desktop; print(repo2desktop.__file__)"],
                cwd=work, env=env).stdout.strip()
    assert Path(where).resolve().is_relative_to(venv.resolve()), where

    config = run([venv / "bin" / "repo2desktop", "config-path"], cwd=work, env=env).stdout.strip()
    assert Path(config).resolve().is_relative_to(venv.resolve()), config
    assert Path(config).is_file() and config.endswith("repo2docker_config.py"), config

    # Plain repo2docker from the venv takes the file as the README says (Dockerfile only).
    plain = run([venv / "bin" / "repo2docker", "--config", config, "--no-build", "--user-id", "1000",
                 "--user-name", "jovyan", repo], cwd=work, env=dict(env, XDG_CACHE_HOME=str(WORK / "cache")))
    assert ("repo2desktop: desktop from desktop.yml on top of BaseImage"
            in plain.stdout + plain.stderr), plain.stdout[:2000] + plain.stderr[-2000:]
    assert "/etc/repo2desktop/desktop.yml" in plain.stdout

    image = IMAGES["wheel"]
    untag(image)
    build_env = dict(env, XDG_CACHE_HOME=str(WORK / "cache"))
    build_env.setdefault(BASE_IMAGE_ENV, DEFAULT_BASE_IMAGE)
    result = images.record(run_build(Path(repo), image, "build-wheel", cwd=work,
                                     command=[str(venv / "bin" / "repo2desktop")], env=build_env,
                                     name="wheel"))
    print(f"\nbuilt {image} with the installed wheel in {result.seconds:.1f} s; log {result.log_path}")
    assert result.ok, result.failure()
    assert image_exists(image)
    # repo2docker ran with the venv's config file, and the image checked its desktop layer
    # (the step's output is only there when it was not cached).
    assert f"--config {config}" in result.output, result.output[:1000]
    assert "verify-desktop-image.bash" in result.output
    # The repo2desktop inside the image (from the wheel the venv's copy packed) works.
    check = docker("run", "--rm", "--name", f"{image}-check", "--entrypoint", "/srv/venv/bin/repo2desktop",
                   image, "validate", "/etc/repo2desktop/desktop.yml")
    assert check.stdout.strip() == "/etc/repo2desktop/desktop.yml: OK", check
    # The image's Jupyter loads the Desktop page's server extension (the wheel's data file).
    listed = docker("run", "--rm", "--name", f"{image}-extensions", "--entrypoint", "/srv/venv/bin/jupyter",
                    image, "server", "extension", "list")
    assert "repo2desktop.jupyter.extension enabled" in _extension_list(listed.stdout + listed.stderr), listed
    assert str(REPO) not in result.output.split("\n", 1)[1], "the build used files of the checkout"
