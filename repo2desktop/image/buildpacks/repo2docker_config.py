"""repo2docker configuration that adds repo2desktop's desktop layer to every buildpack.

    repo2docker --config "$(repo2desktop config-path)" --engine buildkit-cli REPO

(`repo2desktop build REPO` passes it for you.) traitlets runs this file with ``c`` defined.
Repositories with a desktop.yml get ``Desktop<BuildPack>`` (or DesktopOnlyBuildPack when they
have no environment file); all others build exactly as with stock repo2docker. The engine
cannot be chosen here: repo2docker's command-line default overrides a config file's.
"""
from repo2desktop.image.buildpacks.selection import buildpacks, default_buildpack

c = get_config()  # noqa: F821 -- provided by traitlets' config loader

c.Repo2Docker.buildpacks = buildpacks()
c.Repo2Docker.default_buildpack = default_buildpack
