"""Which buildpack repo2docker picks, with repo2desktop's config file in use.

repo2docker tries ``c.Repo2Docker.buildpacks`` in order and takes the first that detects:

0. ``IgnoredDesktopYmlNotice`` never detects: it says when a top-level desktop.yml is
   ignored because binder/ (or .binder/) exists and holds none (repo2docker then reads only
   that folder; with a binder/desktop.yml, loading it says the same);
1. repo2docker's Dockerfile buildpacks: a repository with its own Dockerfile is built as it
   is (the log says that its desktop.yml is not applied);
2. ``DesktopVenvBuildPack``: desktop.yml says ``python: venv`` (requirements.txt into the
   notebook venv, no conda);
3. ``Desktop<B>`` for each of repo2docker's own buildpacks B, in repo2docker's order: B plus
   the desktop layer, when B detects and the repository has a desktop.yml;
4. ``DesktopOnlyBuildPack``: a desktop.yml and no environment file;
5. repo2docker's own buildpacks: repositories without a desktop.yml build as they always did.

The list follows repo2docker's own (read from its traitlet default), so a buildpack added by
a repo2docker upgrade gets a desktop variant without a change here.
"""
from __future__ import annotations

import os
from typing import List

from repo2docker.app import Repo2Docker
from repo2docker.buildpacks import BaseImage, DockerBuildPack, PythonBuildPack

from repo2desktop.config import discover

from repo2desktop.image.buildpacks.desktop import DesktopOnlyBuildPack, DesktopVenvBuildPack, desktop_variant


class DockerfileBuildPack(DockerBuildPack):
    """repo2docker's DockerBuildPack, which also says that desktop.yml is not applied."""

    def detect(self):
        if not super().detect():
            return False
        found = discover.find_config(".")
        if found:
            self.log.warning(
                f"repo2desktop: {os.path.normpath(found)} is not applied: this repository has its own "
                f"{self.binder_path('Dockerfile')}, which repo2docker builds as it is. Install "
                "repo2desktop in that Dockerfile, or remove it to let repo2desktop build the image.\n")
        return True


class IgnoredDesktopYmlNotice(BaseImage):
    """Tried first, never picked: warns about a top-level desktop.yml that binder/ hides."""

    def detect(self):
        try:
            if discover.find_config(".") is None:
                warning = discover.ignored_config_warning(".")
                if warning:
                    self.log.warning(f"{warning}\n")
        except discover.BinderFoldersClash:
            pass  # repo2docker's own buildpacks refuse such a repository next, in their words
        return False


def stock_buildpacks() -> List[type]:
    """repo2docker's own buildpack list, in its order (it follows repo2docker upgrades)."""
    return list(Repo2Docker.class_traits()["buildpacks"].default())


def composable(buildpack: type) -> bool:
    return isinstance(buildpack, type) and issubclass(buildpack, BaseImage)


def buildpacks() -> List[type]:
    """For ``c.Repo2Docker.buildpacks``: Dockerfile repositories first (left alone), then a
    desktop variant of each stock buildpack, DesktopOnly, then the stock buildpacks for
    repositories without a desktop.yml."""
    stock = stock_buildpacks()
    ordered: List[type] = [IgnoredDesktopYmlNotice]
    ordered += [DockerfileBuildPack if b is DockerBuildPack else b
               for b in stock if not composable(b)]
    ordered.append(DesktopVenvBuildPack)  # `python: venv`: before the conda-based variants
    ordered += [desktop_variant(b) for b in stock if composable(b)]
    ordered.append(DesktopOnlyBuildPack)
    ordered += [b for b in stock if composable(b)]
    return ordered


def default_buildpack(base_image: str):
    """For ``c.Repo2Docker.default_buildpack``: desktop-only repositories get DesktopOnly,
    the others repo2docker's default (PythonBuildPack)."""
    if discover.find_config(".") is not None:
        buildpack = DesktopOnlyBuildPack(base_image=base_image)
        buildpack.detect()
        return buildpack
    return PythonBuildPack(base_image=base_image)
