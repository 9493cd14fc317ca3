"""repo2docker buildpacks that add repo2desktop's Linux desktop on top of any other buildpack.

``desktop_variant(B)`` makes ``Desktop<B>``: it detects when B detects *and* the repository
has a desktop.yml (binder/, .binder/ or the top level), and each hook returns B's data plus
the desktop's. ``DesktopOnlyBuildPack`` serves a repository with a desktop.yml and no
environment file: BaseImage (no conda) plus a venv with Jupyter at ${NB_PYTHON_PREFIX}.

Where each addition lands in repo2docker's Dockerfile, and why (early layers are cached
across changes of everything that comes later):

1. ``get_base_packages``: the desktop's core apt packages (VNC server, window manager, xinit,
   supervisor), installed with --no-install-recommends in repo2docker's base-package
   layer. They depend only on vnc.server / window_manager / an xterm in autostart.
2. ``get_build_env`` / ``get_path``: NB_PYTHON_PREFIX and PATH when B brings no notebook env.
3. ``get_build_script_files``: a wheel of the running repo2desktop and small helper scripts.
   repo2docker copies these before *all* build scripts, so upgrading repo2desktop rebuilds
   from here on (as upgrading repo2docker does).
4. ``get_build_scripts``: the venv with Jupyter (if needed), then ``pip install`` of the wheel
   into ${NB_PYTHON_PREFIX}. The wheel carries the jupyter-server-proxy entry point "desktop".
5. ``get_env``: DISPLAY (:display.number, default :1; for shells outside Jupyter) and
   REPO2DESKTOP_CONFIG. These ENV lines precede the pre-assemble steps, which is why nothing
   else from desktop.yml goes here.
6. ``get_preassemble_scripts``: desktop.yml's ``packages:`` (after the repository's apt.txt
   and environment, before the repository is copied): cached until that list changes.
7. ``get_assemble_scripts``: desktop.yml itself is copied from the repository to
   /etc/repo2desktop/desktop.yml (outside $HOME, which JupyterHub may mount over), then a
   build-time check. Geometry, autostart, titles... are read from that file when the desktop
   starts, so changing them reruns only this step and what follows it.

The start script is B's own (the repository's ``start`` keeps working unchanged): the
"desktop" entry point decides the display, exports DISPLAY to the server and its kernels and
starts the session when desktop.yml says ``start: eager``, so nothing needs to run earlier.
"""
from __future__ import annotations

import dataclasses
import os
import shlex
from functools import lru_cache
from typing import Dict, List, Tuple

from repo2docker.buildpacks import BaseImage, CondaBuildPack, NixBuildPack

from repo2desktop.config import discover, envfiles, repofiles
from repo2desktop.config.model import DesktopConfig
from repo2desktop import desktops, vncservers
from repo2desktop.errors import ConfigError
from repo2desktop.image.packages import apt_packages

from repo2desktop.image.wheel import build_wheel, context_dir

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG_IN_IMAGE = "/etc/repo2desktop/desktop.yml"
HELPERS_IN_IMAGE = "/usr/local/lib/repo2desktop"
# The notebook environment of a repository that has none (DesktopOnly, Nix).
NOTEBOOK_ENV_PACKAGES = (
    "jupyter-server>=2.14,<3", "notebook>=7.2,<8", "jupyterlab>=4.2,<5", "ipykernel>=6",
    "jupyter-server-proxy>=4.2",  # earlier releases skipped websocket auth (CVE-2024-28179)
    "websockify==0.13.0",
    # jupyterhub-singleuser: the same image then runs under JupyterHub (DockerSpawner, z2jh).
    "jupyterhub>=5,<7",
)
NOTEBOOK_ENV_APT = ("python3", "python3-venv")
PROFILE_SCRIPT = "/etc/profile.d/repo2desktop-notebook-env.sh"
APT_TXT_LIMIT = 1024 * 1024

Script = Tuple[str, str]


def load_or_exit(log) -> DesktopConfig:
    """The repository's validated desktop.yml; a broken one ends repo2docker before building."""
    try:
        config = discover.load(".")
    except ConfigError as e:
        for problem in e.problems:
            log.error(f"{problem}\n")
        log.error("repo2desktop: desktop.yml has errors; nothing was built.\n")
        raise SystemExit(e.exit_code) from None
    for warning in config.warnings:
        log.warning(f"{warning}\n")
    return config


class DesktopLayer:
    """Mixin for a repo2docker BuildPack: every hook returns the base hook's data + the desktop's.

    Use through ``desktop_variant(BuildPackClass)``; ``super()`` is the wrapped buildpack.
    """

    #: True when the wrapped buildpack brings no notebook environment (BaseImage, Nix):
    #: the layer then makes a venv with Jupyter at ${NB_PYTHON_PREFIX}.
    needs_notebook_env = False

    # -- desktop.yml --------------------------------------------------------------------
    @property
    def desktop_config_path(self) -> str:
        """desktop.yml relative to the repository root (= ${REPO_DIR} inside the image)."""
        return os.path.normpath(discover.find_config("."))

    @property
    def desktop_config(self) -> DesktopConfig:
        if getattr(self, "_desktop_config", None) is None:
            self._desktop_config = load_or_exit(self.log)
        return self._desktop_config

    def detect(self):
        if discover.find_config(".") is None or not super().detect():
            return False
        config = self.desktop_config  # a broken desktop.yml stops here, before any build
        self.log.info(
            f"repo2desktop: desktop from {self.desktop_config_path} on top of "
            f"{type(self).__mro__[2].__name__} ({config.vnc.server}, "
            f"window manager {config.window_manager})\n")
        if isinstance(self, NixBuildPack):
            self.log.warning(
                "repo2desktop: with default.nix, Jupyter runs from your nix environment; add "
                "jupyter-server-proxy>=4.2 there and put ${NB_PYTHON_PREFIX}'s site-packages on "
                "its path, or the Desktop tile will not appear\n")
        return True

    def core_packages(self) -> Tuple[str, ...]:
        """The desktop's apt packages that do not come from desktop.yml's ``packages:``."""
        return apt_packages(dataclasses.replace(self.desktop_config, packages=()))

    def extra_packages(self) -> Tuple[str, ...]:
        core = set(self.core_packages())
        return tuple(p for p in apt_packages(self.desktop_config) if p not in core)

    def wheel_path(self) -> str:
        if getattr(self, "_wheel_path", None) is None:
            self._wheel_path = build_wheel(context_dir())
        return self._wheel_path

    # -- early: packages, environment, our package ---------------------------------------
    @lru_cache
    def get_base_packages(self):
        """Core desktop packages join repo2docker's --no-install-recommends base layer."""
        packages = set(super().get_base_packages()) | set(self.core_packages())
        if self.needs_notebook_env:
            packages.update(NOTEBOOK_ENV_APT)
        return packages

    @lru_cache
    def get_build_env(self):
        env = list(super().get_build_env())
        if self.needs_notebook_env:
            env.append(("NB_PYTHON_PREFIX", "${APP_BASE}/venv"))
        return env

    @lru_cache
    def get_path(self):
        path = list(super().get_path())
        if self.needs_notebook_env:
            path.append("${NB_PYTHON_PREFIX}/bin")
        return path

    @lru_cache
    def get_build_script_files(self):
        """Our wheel and helper scripts (host path: image path); desktop.yml is NOT here.

        repo2docker copies these before the build scripts; desktop.yml travels with the
        repository instead and is installed in the assemble step, so editing it does not
        invalidate the environment layers.
        """
        files: Dict[str, str] = dict(super().get_build_script_files())
        wheel = self.wheel_path()
        files[wheel] = f"/tmp/{os.path.basename(wheel)}"
        helpers = {os.path.join(HERE, name): f"{HELPERS_IN_IMAGE}/{name}"
                   for name in ("check-apt-packages.bash", "install-apt-packages.bash",
                                "verify-desktop-image.bash")}
        if self.needs_notebook_env:
            # Login shells (repo2docker's entrypoint) reset PATH on Debian: restore the venv.
            helpers[os.path.join(HERE, "activate-notebook-env.sh")] = PROFILE_SCRIPT
        missing = [path for path in helpers if not os.path.isfile(path)]
        if missing:
            raise RuntimeError(f"repo2desktop is installed without its buildpack scripts: {missing}")
        files.update(helpers)
        return files

    @lru_cache
    def get_build_scripts(self):
        scripts: List[Script] = list(super().get_build_scripts())
        # repo2docker copies build files owned by the notebook user; what root runs or
        # every login shell sources must not be writable by that user.
        owned = [HELPERS_IN_IMAGE] + ([PROFILE_SCRIPT] if self.needs_notebook_env else [])
        scripts.append(("root", f"chown -R root:root {' '.join(owned)}"))
        # Package scripts run as root with HOME=$NB_USER's home (MATE's left a root-owned
        # ~/.cache: dconf then fails for the user and MATE's daemons retry endlessly).
        scripts.append(("root", 'if [ -d "${HOME}/.cache" ]; then chown -R ${NB_USER}:${NB_USER} "${HOME}/.cache"; fi'))
        # The desktop's own image tweaks (MATE's quiet settings daemon).
        scripts += desktops.get(self.desktop_config.window_manager).build_scripts()
        if self.needs_notebook_env:
            packages = " ".join(shlex.quote(p) for p in NOTEBOOK_ENV_PACKAGES)
            scripts += [
                ("root", "install -d -o ${NB_USER} -g ${NB_USER} ${NB_PYTHON_PREFIX}"),
                ("${NB_USER}", f"""
                /usr/bin/python3 -m venv ${{NB_PYTHON_PREFIX}} && \\
                ${{NB_PYTHON_PREFIX}}/bin/python -m pip install --no-cache-dir {packages}
                """),
            ]
        wheel = f"/tmp/{os.path.basename(self.wheel_path())}"
        scripts.append(("${NB_USER}", f"""
            ${{NB_PYTHON_PREFIX}}/bin/python -m pip install --no-cache-dir {wheel} && \\
            rm -f {wheel}
            """))
        return scripts

    @lru_cache
    def get_env(self):
        display = self.desktop_config.display.number_or_first
        return list(super().get_env()) + [
            ("DISPLAY", f":{display}"),
            ("REPO2DESKTOP_CONFIG", CONFIG_IN_IMAGE),
        ]

    # -- middle: desktop.yml's own packages ----------------------------------------------
    def apt_txt_packages(self) -> List[str]:
        """apt.txt's names, read as repo2docker reads them (inline '#' comments dropped).

        Read as untrusted input, like desktop.yml: an apt.txt that is a symlink out of the
        repository (or a FIFO, a device...) stops the build before repo2docker's own apt.txt
        step would read it into the Dockerfile and the build log.
        """
        path = self.binder_path("apt.txt")
        if not os.path.lexists(path):
            return []
        try:
            data = repofiles.read_bytes(path, ".", APT_TXT_LIMIT)
        except (repofiles.Refused, OSError) as e:
            reason = str(e) if isinstance(e, repofiles.Refused) else f"cannot be read: {e.strerror}"
            self.log.error(f"{os.path.normpath(path)}:1:1: the file {reason}\n")
            self.log.error("repo2desktop: apt.txt cannot be used; nothing was built.\n")
            raise SystemExit(2) from None
        text = data.decode("utf-8", "replace")
        return [name for name in (line.partition("#")[0].strip() for line in text.splitlines()) if name]

    @lru_cache
    def get_preassemble_scripts(self):
        scripts: List[Script] = []
        apt_txt = self.apt_txt_packages()
        if apt_txt:
            # Before repo2docker's own apt.txt step: a missing name fails in one clear line.
            names = " ".join(shlex.quote(p) for p in apt_txt)
            scripts.append(("root", f"bash {HELPERS_IN_IMAGE}/check-apt-packages.bash "
                                    f"{shlex.quote(self.binder_path('apt.txt'))} {names}"))
        scripts += list(super().get_preassemble_scripts())
        extra = self.extra_packages()
        if extra:
            names = " ".join(shlex.quote(p) for p in extra)
            scripts.append(("root", f"bash {HELPERS_IN_IMAGE}/install-apt-packages.bash {names}"))
        return scripts

    # -- late: desktop.yml itself --------------------------------------------------------
    @lru_cache
    def get_assemble_scripts(self):
        config = self.desktop_config
        required = ["/usr/bin/supervisord", "/usr/bin/xinit"]
        if config.vnc.command is None:
            required.append(vncservers.get(config.vnc.server).executable)
        # Files desktop.yml names (home files, wallpaper, icons) go beside it, outside $HOME:
        # relative paths then resolve the same way in the image as in the repository.
        here = os.path.dirname(self.desktop_config_path)
        copies = [(self.desktop_config_path, CONFIG_IN_IMAGE)] + [
            (os.path.normpath(os.path.join(here, name)), f"{os.path.dirname(CONFIG_IN_IMAGE)}/{name}")
            for name in config.referenced_files()]
        install = " && ".join(f"install -D -m 0644 {shlex.quote(src)} {shlex.quote(dst)}"
                              for src, dst in copies)
        return list(super().get_assemble_scripts()) + [
            ("root", install),
            ("${NB_USER}", f"bash {HELPERS_IN_IMAGE}/verify-desktop-image.bash "
                           + " ".join(shlex.quote(p) for p in required)),
        ]


def desktop_variant(base: type) -> type:
    """``Desktop<base>``: BASE with the desktop layer, detected when BASE is and desktop.yml exists."""
    return type(f"Desktop{base.__name__}", (DesktopLayer, base), {
        "__module__": __name__,
        "__doc__": f"repo2docker's {base.__name__} plus repo2desktop's desktop layer.",
        "needs_notebook_env": not issubclass(base, CondaBuildPack),
    })


class DesktopOnlyBuildPack(DesktopLayer, BaseImage):
    """A repository with a desktop.yml and no environment file: apt.txt, postBuild and start
    as BaseImage handles them, no conda, and a venv from the base image's python3 holding
    Jupyter, jupyter-server-proxy, websockify and repo2desktop."""

    needs_notebook_env = True


# Files that need a buildpack of their own (conda, Pipfile, R, Julia, Nix): `python: venv`
# does not apply where one is present.
NOT_LEAN = ("environment.yml", "Pipfile", "Pipfile.lock", "Project.toml", "REQUIRE", "install.R",
            "DESCRIPTION", "default.nix")


class DesktopVenvBuildPack(DesktopOnlyBuildPack):
    """``python: venv`` in desktop.yml: requirements.txt (and runtime.txt when it names the
    base image's Python, or is absent) installed with pip into the notebook venv that
    DesktopOnly makes from the base image's python3. No conda: nothing is downloaded from
    conda's hosts, which air-gapped and mirror-only build farms (and these machines) cannot
    reach. requirements.txt is copied alone before the repository (as repo2docker's Python
    buildpack does), so its layer is cached until the file changes; one that refers to files
    of the repository (-e ., -r other.txt, ./pkg) is installed after the repository is copied.
    """

    def detect(self):
        if discover.find_config(".") is None or self.desktop_config.python != "venv":
            return False
        others = [name for name in NOT_LEAN if os.path.exists(self.binder_path(name))]
        if others:
            self.log.warning(f"repo2desktop: `python: venv` applies to requirements.txt only; "
                             f"{', '.join(others)} needs repo2docker's own buildpack\n")
            return False
        version = envfiles.runtime_python(os.path.dirname(self.binder_path("runtime.txt")) or ".")
        if version == "":
            self.log.error("repo2desktop: error: runtime.txt names no Python version (python-X.Y); "
                           "`python: venv` installs requirements.txt with the base image's Python\n")
            raise SystemExit(2)
        self.log.info("repo2desktop: `python: venv`: requirements.txt goes into the notebook venv "
                      "with the base image's Python (no conda)\n")
        return super().detect()

    def requirements(self) -> str:
        """requirements.txt relative to the repository, or '' when there is none."""
        path = self.binder_path("requirements.txt")
        return path if os.path.isfile(path) else ""

    def installs_early(self) -> bool:
        """True when requirements.txt can be installed before the repository is copied."""
        text = envfiles.read_text(".", self.requirements()) if self.requirements() else None
        if text is None:
            return False
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if words and (words[0].startswith("-") or words[0].startswith(".")
                          or "file:" in words[0] or "/" in words[0]):
                return False
        return True

    def runtime_check(self) -> List[Script]:
        version = envfiles.runtime_python(os.path.dirname(self.binder_path("runtime.txt")) or ".")
        if not version:
            return []
        return [("${NB_USER}", f"""
            have="$(${{NB_PYTHON_PREFIX}}/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" && \\
            if [ "$have" != {shlex.quote(version)} ]; then \\
                echo "repo2desktop: error: runtime.txt asks for python-{version}; the base image's Python is $have. \\
With \\`python: venv\\` remove runtime.txt or name python-$have in it; for another version drop \\`python: venv\\` (repo2docker's conda environment)." >&2; \\
                exit 1; \\
            fi
            """)]

    def pip_install(self) -> List[Script]:
        requirements = self.requirements()
        if not requirements:
            return []
        return [("${NB_USER}", f"${{NB_PYTHON_PREFIX}}/bin/python -m pip install --no-cache-dir "
                               f"-r {shlex.quote(requirements)}")]

    @lru_cache
    def get_preassemble_script_files(self):
        files = dict(super().get_preassemble_script_files())
        if self.installs_early():
            files[self.requirements()] = self.requirements()
        return files

    @lru_cache
    def get_preassemble_scripts(self):
        scripts = list(super().get_preassemble_scripts()) + self.runtime_check()
        if self.installs_early():
            # ${REPO_DIR} is the working directory; the file was copied there alone.
            scripts += self.pip_install()
        return scripts

    @lru_cache
    def get_assemble_scripts(self):
        scripts = list(super().get_assemble_scripts())
        if self.requirements() and not self.installs_early():
            scripts[:0] = self.pip_install()  # before our desktop.yml copy and check
        return scripts
