"""Pack the repo2desktop that runs this build into a wheel for the image's build context.

The image needs the same repo2desktop as the host (same templates, same validator), and
jupyter-server-proxy finds the desktop through an entry point, which only a real install
(dist-info) provides. repo2desktop may be installed from a wheel or as an editable checkout;
either way importlib locates every package, so the wheel is assembled from what is
importable, not from a source tree.

The wheel is byte-for-byte reproducible (sorted entries, fixed timestamps) and written only
when its content changes: Docker's layer cache keys on the file, so an unchanged repo2desktop
never invalidates the image's layers.
"""
from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import io
import os
import stat
import zipfile
from typing import Dict, List, Tuple

DISTRIBUTION = "repo2desktop"
# The distribution is one package tree; its data (templates, viewer, buildpack scripts) lives
# inside it, so walking the top package finds everything.
PACKAGES = ("repo2desktop",)
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _skip(name: str) -> bool:
    return (name.startswith(".") or name == "__pycache__" or name.endswith((".pyc", ".pyo"))
            or name.endswith(".egg-info"))


def package_files() -> Dict[str, str]:
    """{path inside the wheel: path on this host} for every file of every package."""
    files: Dict[str, str] = {}
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"cannot locate the installed package {package}")
        root = list(spec.submodule_search_locations)[0]
        prefix = package.replace(".", "/")
        for folder, subfolders, names in os.walk(root):
            subfolders[:] = sorted(d for d in subfolders if not _skip(d))
            for name in sorted(names):
                if _skip(name):
                    continue
                path = os.path.join(folder, name)
                inside = f"{prefix}/{os.path.relpath(path, root)}".replace(os.sep, "/")
                files.setdefault(inside, path)  # a nested install lists some files twice
    return files


def _metadata() -> Tuple[str, str, str]:
    dist = importlib.metadata.distribution(DISTRIBUTION)
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    if not text:
        raise RuntimeError(f"the installed {DISTRIBUTION} has no METADATA")
    return dist.version, text, dist.read_text("entry_points.txt") or ""


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def wheel_bytes() -> Tuple[str, bytes]:
    """(file name, content) of a py3-none-any wheel of the installed repo2desktop."""
    version, metadata, entry_points = _metadata()
    # Images get noVNC only from here (no Debian novnc, no node): refuse to pack without it.
    from repo2desktop.resources import viewer_files
    viewer_files()
    dist_info = f"{DISTRIBUTION}-{version}.dist-info"
    entries: List[Tuple[str, bytes, int]] = []
    for inside, path in sorted(package_files().items()):
        with open(path, "rb") as f:
            data = f.read()
        executable = os.stat(path).st_mode & stat.S_IXUSR
        entries.append((inside, data, 0o755 if executable else 0o644))
    # The wheel's data files: the switch that enables the Desktop page's server extension in
    # the image's Jupyter (installed to <prefix>/etc/jupyter, as a pip-built wheel does).
    from repo2desktop.resources import server_extension_config
    for target, path in server_extension_config().items():
        with open(path, "rb") as f:
            entries.append((f"{DISTRIBUTION}-{version}.data/data/{target}", f.read(), 0o644))
    entries.append((f"{dist_info}/METADATA", metadata.encode(), 0o644))
    entries.append((f"{dist_info}/WHEEL", (
        "Wheel-Version: 1.0\nGenerator: repo2desktop.image.wheel\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n").encode(), 0o644))
    if entry_points:
        entries.append((f"{dist_info}/entry_points.txt", entry_points.encode(), 0o644))
    record = "".join(f"{name},sha256={_digest(data)},{len(data)}\n" for name, data, _ in entries)
    entries.append((f"{dist_info}/RECORD", (record + f"{dist_info}/RECORD,,\n").encode(), 0o644))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | mode) << 16
            wheel.writestr(info, data)
    return f"{DISTRIBUTION}-{version}-py3-none-any.whl", buffer.getvalue()


def build_wheel(out_dir: str) -> str:
    """Write the wheel into a folder of OUT_DIR named after its content (unless an identical one
    is there); return its path. Two builds at once from different installs (two checkouts, two
    venvs) each get their own file: with one shared path, one build's image could get the other's
    package. The same content keeps the same path, so Docker's layer cache still holds."""
    name, data = wheel_bytes()
    os.makedirs(out_dir, mode=0o700, exist_ok=True)
    folder = os.path.join(out_dir, hashlib.sha256(data).hexdigest()[:16])
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = os.path.join(folder, name)
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return path
    except OSError:
        pass
    partial = f"{path}.{os.getpid()}.partial"
    with open(partial, "wb") as f:
        f.write(data)
    os.chmod(partial, 0o644)
    os.replace(partial, path)
    return path


def context_dir() -> str:
    """A stable per-user folder: the wheel's host path is part of repo2docker's Dockerfile."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "repo2desktop", "build-context")
