"""The one place that locates the data files shipped inside the package.

The templates live beside the renderer (repo2desktop/render/templates) and, for those only
one desktop renders, beside the desktops (repo2desktop/desktops/templates/NAME), the viewer in
repo2desktop/viewer; in a checkout and in an installed wheel alike they are found through
importlib, so an editable install and a wheel behave the same.
"""
from __future__ import annotations

import importlib.util
import os


def _package_dir(name: str) -> str:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"repo2desktop is installed without its {name} data")
    return list(spec.submodule_search_locations)[0]


def templates_dir() -> str:
    return os.path.join(_package_dir("repo2desktop.render"), "templates")


def hub_templates_dir() -> str:
    """`hub-config`'s templates (jupyterhub_config.py.j2), beside the serve package."""
    return os.path.join(_package_dir("repo2desktop.serve"), "templates")


def templates_dirs() -> list:
    """Where render's Jinja loader looks: our templates, then the desktops' own folders."""
    return [templates_dir(), os.path.join(_package_dir("repo2desktop.desktops"), "templates")]


def viewer_files() -> dict:
    """{name in the page's folder: path} of the bundled viewer's one module, desktop.js (the
    page itself is rendered: templates/desktop.html.j2, viewer/page.py).

    desktop.js is built (scripts/build-viewer.bash, run by `make viewer` and when a wheel is
    built), never committed; a checkout that has not built it gets a clear error.
    """
    root = _package_dir("repo2desktop.viewer")
    files = {"desktop.js": os.path.join(root, "dist", "desktop.js")}
    missing = [path for path in files.values() if not os.path.isfile(path)]
    if missing:
        raise RuntimeError(f"the bundled noVNC viewer is missing ({', '.join(missing)}): "
                           "run `make viewer` (needs npm) or set novnc.directory")
    return files



def server_extension_config() -> dict:
    """{path under the install prefix: path here} of the file that enables the Desktop page's
    server extension (pyproject.toml's data-files installs the same file there)."""
    name = "repo2desktop.json"
    path = os.path.join(_package_dir("repo2desktop.jupyter"), "jupyter_server_config.d", name)
    if not os.path.isfile(path):
        raise RuntimeError(f"repo2desktop is installed without {path}")
    return {f"etc/jupyter/jupyter_server_config.d/{name}": path}
