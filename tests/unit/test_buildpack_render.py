"""The desktop layer in repo2docker's Dockerfile, for every kind of repository, without building.

Each case is a repository made in tmp_path. The buildpack is picked the way repo2docker picks
it with our config file (``c.Repo2Docker.buildpacks`` / ``default_buildpack`` from
buildpacks/selection.py), then ``render()`` gives the Dockerfile, whose lines must be there in
this order (early layers are cached across changes of what comes later):

    desktop apt packages (repo2docker's base-package layer)
    < our wheel installed into ${NB_PYTHON_PREFIX}  < ENV DISPLAY
    < the repository's own environment  < desktop.yml's ``packages:``
    < COPY src/  < desktop.yml copied to /etc/repo2desktop/desktop.yml  < the build-time check

The network is switched off: a buildpack whose render() needs it (repo2docker's R and
Julia buildpacks look things up while rendering) is skipped with the reason, printed.
Building these images needs conda-forge for most of them: tests/image/test_conda_builds.py.
"""
from __future__ import annotations

import dataclasses
import socket
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from repo2docker.buildpacks import (BaseImage, CondaBuildPack, JuliaProjectTomlBuildPack, NixBuildPack,
                                    PipfileBuildPack, PythonBuildPack, RBuildPack)
from repo2docker.utils import get_platform

from repo2desktop.config import discover
from repo2desktop.image.buildpacks import selection
from repo2desktop.image.buildpacks.desktop import CONFIG_IN_IMAGE, DesktopLayer, DesktopOnlyBuildPack
from repo2desktop.image.packages import apt_packages

BASE_IMAGE = "local/debian:bookworm"  # rendering never pulls it
BUILD_ARGS = {"NB_USER": "jovyan", "NB_UID": "1000"}
DESKTOP_YML = "version: 1\nautostart:\n  - xterm\npackages:\n  - x11-apps\n"
COPY_SRC = "COPY --chown=1000:1000 src/ ${REPO_DIR}/"


@dataclasses.dataclass(frozen=True)
class Case:
    files: Dict[str, str]
    base: type  # repo2docker's buildpack under the desktop layer
    environment: Optional[str]  # a line fragment of the repository's own environment step
    config: str = "desktop.yml"  # where desktop.yml sits in the repository


CASES: Dict[str, Case] = {
    "requirements.txt": Case({"requirements.txt": "numpy\n"}, PythonBuildPack,
                             'pip install --no-cache-dir -r "requirements.txt"'),
    "environment.yml": Case({"environment.yml": "dependencies:\n  - python=3.11\n  - numpy\n"},
                            CondaBuildPack, "environment.yml"),
    "Pipfile": Case({"Pipfile": '[packages]\nrequests = "*"\n'}, PipfileBuildPack, "pipenv"),
    "R": Case({"runtime.txt": "r-4.3-2024-01-10\n"}, RBuildPack, None),
    "Julia": Case({"Project.toml": "[deps]\n"}, JuliaProjectTomlBuildPack, None),
    "default.nix": Case({"default.nix": "let pkgs = import <nixpkgs> {}; in pkgs.mkShell {}\n"},
                        NixBuildPack, "nix-shell"),
    "apt.txt": Case({"apt.txt": "cowsay\n"}, BaseImage,
                    "apt-get install --yes --no-install-recommends cowsay"),
    "desktop.yml only": Case({}, BaseImage, None),
    "binder/ folder": Case({"binder/requirements.txt": "numpy\n", "requirements.txt": "ignored\n"},
                           PythonBuildPack, 'pip install --no-cache-dir -r "binder/requirements.txt"',
                           config="binder/desktop.yml"),
}


# -- helpers -----------------------------------------------------------------------------

class NetworkUsed(OSError):
    pass


@pytest.fixture
def no_network(monkeypatch):
    """No name lookups or connections; returns the hosts something tried to reach."""
    tried: List[str] = []

    def lookup(host, *args, **kwargs):
        tried.append(str(host))
        raise NetworkUsed(f"network disabled in the fast tier (lookup of {host})")

    def connect(self, address):
        tried.append(str(address))
        raise NetworkUsed(f"network disabled in the fast tier (connect to {address})")

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return tried


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """render() writes our wheel into the build context under $XDG_CACHE_HOME: keep it here."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def make_repo(root: Path, files: Dict[str, str], desktop_yml: Optional[str], config: str = "desktop.yml") -> Path:
    repo = root / "repo"
    repo.mkdir()
    if desktop_yml is not None:
        files = {**files, config: desktop_yml}
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    return repo


def pick(repo: Path, monkeypatch):
    """The buildpack repo2docker would pick with our config (its loop in Repo2Docker.build)."""
    monkeypatch.chdir(repo)
    for buildpack_class in selection.buildpacks():
        buildpack = buildpack_class(base_image=BASE_IMAGE)
        if buildpack.detect():
            break
    else:
        buildpack = selection.default_buildpack(base_image=BASE_IMAGE)
    buildpack.platform = get_platform()
    return buildpack


def render(buildpack, name: str, tried: List[str]) -> str:
    try:
        return buildpack.render(BUILD_ARGS)
    except Exception as e:
        if not tried:
            raise
        reason = (f"{name}: repo2docker's {type(buildpack).__mro__[2].__name__} needs the network "
                  f"while rendering (it tried {', '.join(sorted(set(tried)))}: {type(e).__name__}); "
                  "its Dockerfile is not checked in the fast tier")
        print(f"\nSKIP {reason}")
        pytest.skip(reason)


def base_packages(lines: List[str]) -> List[str]:
    """The names of repo2docker's base-package layer (one per line, up to '> /dev/null')."""
    start = lines.index("    apt-get -qq install --yes --no-install-recommends \\")
    names = []
    for line in lines[start + 1:]:
        if line.strip().startswith(">"):
            return names
        names.append(line.strip().rstrip("\\").strip())
    raise AssertionError("unterminated base-package block")


def first(lines: List[str], fragment: str, after: int = -1) -> int:
    for i, line in enumerate(lines):
        if i > after and fragment in line:
            return i
    raise AssertionError(f"no line with {fragment!r} in the Dockerfile" + (f" after line {after}" if after >= 0 else ""))


# -- desktop repositories ------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CASES))
def test_desktop_layer_lines_in_order(name, tmp_path, monkeypatch, no_network, private_cache):
    case = CASES[name]
    repo = make_repo(tmp_path, case.files, DESKTOP_YML, case.config)
    buildpack = pick(repo, monkeypatch)
    assert isinstance(buildpack, DesktopLayer) and isinstance(buildpack, case.base), type(buildpack).__mro__
    if case.base is BaseImage:
        assert type(buildpack) is DesktopOnlyBuildPack
    else:
        assert type(buildpack).__name__ == f"Desktop{case.base.__name__}"
    dockerfile = render(buildpack, name, no_network)
    lines = dockerfile.splitlines()
    config = discover.load(case.config)

    # 1. the desktop's core packages join repo2docker's base-package layer
    core = apt_packages(dataclasses.replace(config, packages=()))
    assert {"tightvncserver", "supervisor", "xinit", "openbox", "xterm"} <= set(core)
    # noVNC comes bundled in the wheel: Debian's novnc (and its nodejs, numpy) stays out.
    assert not {"novnc", "nodejs", "websockify"} & set(core), core
    packages = base_packages(lines)
    assert set(core) <= set(packages), sorted(set(core) - set(packages))
    assert "x11-apps" not in packages  # desktop.yml's own packages come later, cached apart
    i_base = first(lines, "apt-get -qq install --yes --no-install-recommends \\")

    # 2. our wheel, into the notebook environment
    wheel_copy = first(lines, "/tmp/repo2desktop-")
    assert lines[wheel_copy].startswith("COPY ") and lines[wheel_copy].endswith("-py3-none-any.whl")
    i_wheel = first(lines, "python -m pip install --no-cache-dir /tmp/repo2desktop-")
    assert "${NB_PYTHON_PREFIX}/bin/python" in lines[i_wheel]
    assert list(private_cache.glob("repo2desktop/build-context/*/repo2desktop-*.whl")), "no wheel in the context"
    venv = [i for i, line in enumerate(lines) if "-m venv ${NB_PYTHON_PREFIX}" in line]
    if issubclass(case.base, CondaBuildPack):
        assert venv == [], "a conda environment needs no venv"
    else:
        assert venv and venv[0] < i_wheel

    # 3. environment
    i_display = lines.index("ENV DISPLAY=:1")
    i_env = lines.index(f"ENV REPO2DESKTOP_CONFIG={CONFIG_IN_IMAGE}")

    # 4. desktop.yml's packages, after the repository's own environment
    i_extra = first(lines, "install-apt-packages.bash x11-apps")
    if case.environment:
        i_repo_env = first(lines, case.environment)
        assert i_repo_env < i_extra, (lines[i_repo_env], lines[i_extra])

    # 5. the repository, then desktop.yml into /etc, then the check
    i_src = lines.index(COPY_SRC)
    i_config = lines.index(f"RUN install -D -m 0644 {case.config} {CONFIG_IN_IMAGE}")
    i_verify = first(lines, "verify-desktop-image.bash", after=i_config)

    assert i_base < i_wheel < i_display < i_extra < i_src < i_config < i_verify, \
        dict(base=i_base, wheel=i_wheel, display=i_display, extra=i_extra, src=i_src,
             config=i_config, verify=i_verify)
    assert i_env < i_extra
    # desktop.yml itself is not copied before the repository (only its package names are in
    # earlier steps), so editing the desktop reruns only the last steps.
    early = [line for line in lines[:i_src] if line.startswith(("COPY", "ADD")) and "desktop.yml" in line]
    assert early == [], early
    last = [line for line in lines if line.strip()][-1]
    assert last.startswith("CMD ") and "jupyter" in last, last


def test_apt_txt_names_are_checked_before_repo2dockers_apt_step(tmp_path, monkeypatch, no_network):
    repo = make_repo(tmp_path, {"apt.txt": "cowsay\n# a comment\nsl  # inline\n"}, DESKTOP_YML)
    lines = render(pick(repo, monkeypatch), "apt.txt", no_network).splitlines()
    i_check = first(lines, "check-apt-packages.bash apt.txt cowsay sl")
    i_install = first(lines, "apt-get install --yes --no-install-recommends cowsay sl")
    assert i_check < i_install < first(lines, "install-apt-packages.bash x11-apps") < lines.index(COPY_SRC)


def test_display_number_from_desktop_yml(tmp_path, monkeypatch, no_network):
    repo = make_repo(tmp_path, {}, "version: 1\ndisplay:\n  number: 7\n")
    lines = render(pick(repo, monkeypatch), "display 7", no_network).splitlines()
    assert "ENV DISPLAY=:7" in lines and "ENV DISPLAY=:1" not in lines


def test_tigervnc_and_xfce4_packages(tmp_path, monkeypatch, no_network):
    repo = make_repo(tmp_path, {}, "version: 1\nvnc:\n  server: tigervnc\n  auth: none\nwindow_manager: xfce4\n")
    buildpack = pick(repo, monkeypatch)
    lines = render(buildpack, "xfce4", no_network).splitlines()
    packages = base_packages(lines)
    assert "tigervnc-standalone-server" in packages and "tightvncserver" not in packages
    assert {"xfce4-session", "xfwm4", "xfce4-panel"} <= set(packages), packages
    verify = first(lines, "RUN bash /usr/local/lib/repo2desktop/verify-desktop-image.bash")
    assert verify > lines.index(COPY_SRC)
    assert "/usr/bin/Xtigervnc" in lines[verify]


# -- repositories the desktop layer leaves alone -----------------------------------------------

def test_dockerfile_repository_gets_no_desktop_layer(tmp_path, monkeypatch, no_network, capsys):
    dockerfile = "FROM local/debian:bookworm\nRUN echo hello\n"
    repo = make_repo(tmp_path, {"Dockerfile": dockerfile}, DESKTOP_YML)
    buildpack = pick(repo, monkeypatch)
    assert type(buildpack) is selection.DockerfileBuildPack
    assert not isinstance(buildpack, DesktopLayer)
    text = render(buildpack, "Dockerfile", no_network)
    assert text == dockerfile
    for fragment in ("repo2desktop", "DISPLAY", "novnc", "tightvncserver", CONFIG_IN_IMAGE):
        assert fragment not in text


def test_repository_without_desktop_yml_builds_as_stock(tmp_path, monkeypatch, no_network):
    repo = make_repo(tmp_path, {"requirements.txt": "numpy\n"}, None)
    buildpack = pick(repo, monkeypatch)
    assert type(buildpack) is PythonBuildPack
    text = render(buildpack, "no desktop.yml", no_network)
    for fragment in ("repo2desktop", "DISPLAY", "novnc", "tightvncserver", CONFIG_IN_IMAGE):
        assert fragment not in text


def test_every_stock_buildpack_has_a_desktop_variant():
    names = [b.__name__ for b in selection.buildpacks()]
    first_desktop = min(i for i, n in enumerate(names) if n.startswith("Desktop"))
    # Repositories with their own Dockerfile are built as they are, before any desktop variant.
    assert names.index("DockerfileBuildPack") < first_desktop, names
    assert "DockerBuildPack" not in names
    for base in selection.stock_buildpacks():
        if selection.composable(base):
            variant = f"Desktop{base.__name__}"
            # Tried before DesktopOnly, which is tried before the stock buildpack itself.
            assert names.index(variant) < names.index("DesktopOnlyBuildPack") < names.index(base.__name__), names


def test_renders_here_use_no_network(no_network):
    with pytest.raises(OSError):
        socket.create_connection(("192.0.2.1", 9), timeout=1)
    assert no_network == ["192.0.2.1"]
