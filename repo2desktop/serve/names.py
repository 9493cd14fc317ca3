"""Image references and network names as the engine accepts them (pure).

Both end up in log lines and in generated files (hub-config's jupyterhub_config.py), so a
value with a line break or a quote must stop at the command line, with one clear line.
"""
from __future__ import annotations

import re
from typing import Optional

# The engine's reference grammar (name [":" tag] ["@" digest]), ASCII only.
_ALNUM = r"[a-z0-9]+"
_PATH_COMPONENT = rf"{_ALNUM}(?:(?:[._]|__|-+){_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
IMAGE_REFERENCE = re.compile(
    rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?")
MAX_REFERENCE = 512  # names are at most 255 characters; tag and digest add the rest
NETWORK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def image_problem(image: str) -> Optional[str]:
    if len(image) > MAX_REFERENCE or not IMAGE_REFERENCE.fullmatch(image):
        shown = repr(image) if len(image) <= 80 else repr(image[:77]) + "..."
        return f"{shown} is not an image reference (NAME[:TAG][@DIGEST], e.g. repo2desktop-demo:latest)"
    return None


def network_problem(name: str) -> Optional[str]:
    if not NETWORK_NAME.fullmatch(name):
        return f"{name[:80]!r} is not a network name (letters, digits, '_', '.', '-')"
    return None
