"""The Desktop page's server extension is switched on by the package itself: the
jupyter_server_config.d entry that pyproject.toml installs with a pip-built wheel is the
same one the wheel packed into images (image/wheel.py) carries, and it names the
extension module that exists."""
from __future__ import annotations

import importlib
import io
import json
import zipfile
from pathlib import Path

from repo2desktop.jupyter import server_desktop
from repo2desktop.image.wheel import wheel_bytes
from repo2desktop.resources import server_extension_config

REPO = Path(__file__).resolve().parents[2]
TARGET = "etc/jupyter/jupyter_server_config.d/repo2desktop.json"


def test_the_entry_enables_the_extension_module():
    (target, path), = server_extension_config().items()
    assert target == TARGET
    enabled = json.loads(Path(path).read_text())["ServerApp"]["jpserver_extensions"]
    assert enabled == {server_desktop.EXTENSION: True}
    module = importlib.import_module(server_desktop.EXTENSION)
    points = module._jupyter_server_extension_points()
    assert points == [{"module": server_desktop.EXTENSION}]
    assert callable(importlib.import_module(points[0]["module"])._load_jupyter_server_extension)


def test_pyproject_installs_the_same_entry():
    import tomllib  # Python 3.11+, what the test machines run

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    data_files = project["tool"]["setuptools"]["data-files"]
    (_, path), = server_extension_config().items()
    assert data_files == {"etc/jupyter/jupyter_server_config.d": [str(Path(path).relative_to(REPO))]}


def test_the_wheel_for_images_carries_the_entry_as_a_data_file():
    name, data = wheel_bytes()
    version = name.split("-")[1]
    wheel = zipfile.ZipFile(io.BytesIO(data))
    entry = f"repo2desktop-{version}.data/data/{TARGET}"
    assert entry in wheel.namelist()
    (_, path), = server_extension_config().items()
    assert wheel.read(entry) == Path(path).read_bytes()
    assert f"{entry},sha256=" in wheel.read(f"repo2desktop-{version}.dist-info/RECORD").decode()
