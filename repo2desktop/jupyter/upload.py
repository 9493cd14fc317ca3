"""Files dropped onto the Desktop page, written into the desktop user's ~/Desktop.

``<base>/desktop/upload`` behind the Jupyter login:
- ``GET`` answers ``{"folder": "~/Desktop", "xsrf": TOKEN, "limit": BYTES}`` (and sets Jupyter's
  XSRF cookie, which the page's own handlers never do);
- ``PUT ?name=NAME[&overwrite=1]`` with the file's bytes as the body writes ~/Desktop/NAME:
  201 written, 409 the name exists (the page asks before it sends overwrite=1), 400 a name that is
  not one plain file name, 413 over the size limit. Errors are ``{"message": ...}``.

Nothing is written outside the folder: NAME must be a single path component (no '/', no '..',
no control characters), the file is opened relative to the folder's descriptor without
following symbolic links, and written under a temporary name first, so a failed upload leaves
no half file. The Jupyter server's own request size limit applies as well.
"""
from __future__ import annotations

import json
import os
from typing import List, Tuple

# One upload at most this large (the body is held in memory by tornado).
LIMIT = 512 * 1024 * 1024
FOLDER = "Desktop"


class UploadRefused(ValueError):
    """A request that cannot be honoured: HTTP status and the message the page shows."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def checked_name(name: str) -> str:
    """NAME as one plain file name inside the folder, or UploadRefused."""
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise UploadRefused(400, f"{name!r} is not a file name (no folders, no '..')")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise UploadRefused(400, f"{name!r} contains control characters")
    if len(name.encode("utf-8", "surrogateescape")) > 255:
        raise UploadRefused(400, "the file name is longer than 255 bytes")
    return name


def write_file(folder: str, name: str, data: bytes, overwrite: bool) -> str:
    """Write DATA as FOLDER/NAME (FOLDER created if missing); the path written."""
    name = checked_name(name)
    if len(data) > LIMIT:
        raise UploadRefused(413, f"{name} is larger than the limit of {LIMIT // (1024 * 1024)} MiB")
    os.makedirs(folder, mode=0o755, exist_ok=True)
    directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if not overwrite and _exists(name, directory):
            raise UploadRefused(409, f"~/{FOLDER}/{name} exists already")
        partial = f".{name[:200]}.{os.getpid()}.upload"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644, dir_fd=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            if not overwrite and _exists(name, directory):
                raise UploadRefused(409, f"~/{FOLDER}/{name} exists already")
            # rename replaces a symbolic link itself, never the file it points to.
            os.rename(partial, name, src_dir_fd=directory, dst_dir_fd=directory)
        except BaseException:
            try:
                os.unlink(partial, dir_fd=directory)
            except FileNotFoundError:
                pass
            raise
    finally:
        os.close(directory)
    return os.path.join(folder, name)


def _exists(name: str, directory: int) -> bool:
    try:
        os.stat(name, dir_fd=directory, follow_symlinks=False)
        return True
    except FileNotFoundError:
        return False


def handlers(prefix: str, home: str = "") -> List[Tuple[str, type]]:
    """Tornado handler tuples for ``PREFIX + "upload"`` (PREFIX ends with /desktop/)."""
    from jupyter_server.base.handlers import JupyterHandler
    from tornado import web

    folder = os.path.join(home or os.path.expanduser("~"), FOLDER)

    class UploadHandler(JupyterHandler):
        def _answer(self, status: int, body: dict) -> None:
            self.set_status(status)
            self.set_header("Content-Type", "application/json")
            self.set_header("Cache-Control", "no-store")
            self.finish(json.dumps(body))

        @web.authenticated
        def get(self):
            token = self.xsrf_token  # sets the _xsrf cookie the PUT must echo
            self._answer(200, {"folder": f"~/{FOLDER}", "limit": LIMIT,
                               "xsrf": token.decode() if isinstance(token, bytes) else token})

        @web.authenticated
        def put(self):
            try:
                path = write_file(folder, self.get_argument("name", ""), self.request.body,
                                  self.get_argument("overwrite", "") == "1")
            except UploadRefused as e:
                self._answer(e.status, {"message": str(e)})
                return
            except OSError as e:
                self._answer(500, {"message": f"could not write into ~/{FOLDER}: {e.strerror}"})
                return
            self.log.info("repo2desktop: uploaded %s (%d bytes)", path, len(self.request.body))
            self._answer(201, {"path": f"~/{FOLDER}/{os.path.basename(path)}"})

    return [(prefix + "upload", UploadHandler)]
