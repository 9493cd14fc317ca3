"""The desktop layer on repo2docker's conda-based buildpacks, built and run for real.

repo2docker's Python (requirements.txt), Conda (environment.yml), Pipfile, R and Julia
buildpacks install micromamba and their packages from conda-forge while the image builds.
Where conda-forge is reachable, set R2D_TEST_CONDA=1 to run these; their Dockerfiles are
checked without building in tests/unit/test_buildpack_render.py on every machine.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict

import pytest

from .images import GREETING, IMAGES, ContainerPool, ImageBuilder, run_build, untag

CONDA_REASON = ("conda-forge is unreachable here: repo2docker's conda-based buildpacks download "
                "micromamba and packages from it while building (set R2D_TEST_CONDA=1 where it is "
                "reachable)")

pytestmark = [
    pytest.mark.image,
    pytest.mark.conda,
    pytest.mark.skipif(os.environ.get("R2D_TEST_CONDA", "") in ("", "0"), reason=CONDA_REASON),
]

DESKTOP_YML = "version: 1\nvnc:\n  server: tigervnc\n  auth: none\nautostart:\n  - xterm\n"
REPOSITORIES: Dict[str, Dict[str, str]] = {
    "conda-requirements": {"requirements.txt": "numpy\n"},
    "conda-environment": {"environment.yml": "dependencies:\n  - python=3.11\n  - numpy\n"},
    "conda-pipfile": {"Pipfile": '[packages]\nrequests = "*"\n\n[requires]\npython_version = "3.11"\n'},
    "conda-r": {"runtime.txt": "r-4.3-2024-01-10\n"},
    "conda-julia": {"Project.toml": "[deps]\n"},
}


@pytest.mark.parametrize("name", list(REPOSITORIES))
def test_desktop_on_a_conda_buildpack(name: str, tmp_path: Path, images: ImageBuilder, containers: ContainerPool):
    repo = tmp_path / name
    repo.mkdir()
    for filename, text in {**REPOSITORIES[name], "desktop.yml": DESKTOP_YML}.items():
        (repo / filename).write_text(text)
    image = IMAGES[name]
    untag(image)
    result = images.record(run_build(repo, image, f"build-{name}", name=name))
    assert result.ok, result.failure()
    container = containers.start(image)
    try:
        container.open_desktop()
        assert GREETING.fullmatch(container.rfb())
        assert container.host.file("/etc/repo2desktop/desktop.yml").content_string == DESKTOP_YML
    finally:
        container.remove()
