"""Fast checks of what nine real GUI repositories ran into (issue 9): OpenGL apps opened
from notebooks, launchers per desktop, the session's PATH, the lean Python path."""
from __future__ import annotations

import os

import pytest

from repo2desktop import cli

HINT = "TightVNC has no GLX/RANDR; use 'vnc.server: tigervnc'"


def _repo(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize("files, expected", [
    pytest.param({"requirements.txt": "numpy\n# napari later\nnapari[all]>=0.4 ; python_version>'3.9'\n"},
                 ["requirements.txt:3:1: warning: napari needs OpenGL (GLX) when a notebook opens "
                  "its windows on the desktop; " + HINT], id="requirements"),
    pytest.param({"environment.yml": "channels: [conda-forge]\ndependencies:\n  - python=3.11\n"
                                     "  - conda-forge::vispy\n  - pip:\n    - PyOpenGL==3.1\n"},
                 ["environment.yml:4:18: warning: vispy needs OpenGL (GLX) when a notebook opens its "
                  "windows on the desktop; " + HINT,
                  "environment.yml:6:7: warning: pyopengl needs OpenGL (GLX) when a notebook opens its "
                  "windows on the desktop; " + HINT], id="environment-yml-and-pip"),
    pytest.param({"binder/requirements.txt": "pyvista\n", "binder/desktop.yml": "version: 1\n"},
                 ["binder/requirements.txt:1:1: warning: pyvista needs OpenGL (GLX) when a notebook "
                  "opens its windows on the desktop; " + HINT], id="binder-folder"),
])
def test_opengl_notebook_apps_warn_with_tightvnc(tmp_path, monkeypatch, capsys, files, expected):
    if "binder/desktop.yml" not in files:  # with binder/, a top-level one is ignored (warned)
        files.setdefault("desktop.yml", "version: 1\n")
    monkeypatch.chdir(_repo(tmp_path, files))
    assert cli.main(["validate", "."]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == expected
    assert out.endswith(": OK\n")


@pytest.mark.parametrize("files", [
    pytest.param({"desktop.yml": "version: 1\nvnc: {server: tigervnc}\n",
                  "requirements.txt": "napari\n"}, id="tigervnc"),
    pytest.param({"desktop.yml": "version: 1\n", "requirements.txt": "numpy\n-r napari.txt\n"},
                 id="no-opengl-app"),
])
def test_no_opengl_warning_where_it_does_not_apply(tmp_path, monkeypatch, capsys, files):
    monkeypatch.chdir(_repo(tmp_path, files))
    assert cli.main(["validate", "."]) == 0
    assert capsys.readouterr().err == ""


def test_opengl_scan_does_not_follow_symlinks(tmp_path, monkeypatch, capsys):
    outside = tmp_path / "outside.txt"
    outside.write_text("napari\n")
    repo = _repo(tmp_path / "repo", {"desktop.yml": "version: 1\n"})
    os.symlink(outside, repo / "requirements.txt")
    monkeypatch.chdir(repo)
    assert cli.main(["validate", "."]) == 0
    assert capsys.readouterr().err == ""


def test_opengl_scan_follows_a_symlink_within_the_repository(tmp_path, monkeypatch, capsys):
    """binder/requirements.txt -> ../requirements.txt: repo2docker installs what it names, so
    it is read like every repository file (repofiles), not skipped as a symlink."""
    repo = _repo(tmp_path, {"requirements.txt": "napari\n", "binder/desktop.yml": "version: 1\n"})
    os.symlink("../requirements.txt", repo / "binder" / "requirements.txt")
    monkeypatch.chdir(repo)
    assert cli.main(["validate", "."]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "binder/requirements.txt:1:1: warning: napari needs OpenGL (GLX) when a notebook opens its "
        "windows on the desktop; " + HINT]


def test_opengl_scan_skips_a_fifo(tmp_path, monkeypatch, capsys):
    repo = _repo(tmp_path, {"desktop.yml": "version: 1\n"})
    os.mkfifo(repo / "requirements.txt")
    monkeypatch.chdir(repo)
    assert cli.main(["validate", "."]) == 0  # returns: opening the FIFO does not wait for a writer
    assert capsys.readouterr().err == ""


# -- the lean Python path: `python: venv` --------------------------------------------------

from tests.unit.test_buildpack_render import BUILD_ARGS, make_repo, no_network, pick, private_cache  # noqa: E402,F401

from repo2desktop.image.buildpacks.desktop import DesktopVenvBuildPack  # noqa: E402

VENV_YML = "version: 1\npython: venv\n"


def _dockerfile(tmp_path, monkeypatch, files, desktop_yml=VENV_YML):
    buildpack = pick(make_repo(tmp_path, files, desktop_yml), monkeypatch)
    return buildpack, buildpack.render(BUILD_ARGS).splitlines()


def test_venv_installs_requirements_without_conda(tmp_path, monkeypatch, no_network):
    buildpack, lines = _dockerfile(tmp_path, monkeypatch, {"requirements.txt": "cowsay\n"})
    assert type(buildpack) is DesktopVenvBuildPack
    text = "\n".join(lines)
    assert "micromamba" not in text and "conda" not in text.lower()
    copy = lines.index("COPY --chown=1000:1000 src/requirements.txt ${REPO_DIR}/requirements.txt")
    pip = next(i for i, l in enumerate(lines) if "bin/python -m pip install --no-cache-dir -r requirements.txt" in l)
    src = lines.index("COPY --chown=1000:1000 src/ ${REPO_DIR}/")
    venv = next(i for i, l in enumerate(lines) if "/usr/bin/python3 -m venv ${NB_PYTHON_PREFIX}" in l)
    assert venv < copy < pip < src  # cached until requirements.txt changes


def test_venv_requirements_that_refer_to_the_repository_come_after_it(tmp_path, monkeypatch, no_network):
    _, lines = _dockerfile(tmp_path, monkeypatch, {"requirements.txt": "-e .\n", "setup.py": ""})
    pip = next(i for i, l in enumerate(lines) if "-m pip install --no-cache-dir -r requirements.txt" in l)
    assert lines.index("COPY --chown=1000:1000 src/ ${REPO_DIR}/") < pip
    assert not any(l.startswith("COPY") and "src/requirements.txt" in l for l in lines)


def test_without_python_venv_requirements_take_repo2dockers_conda_path(tmp_path, monkeypatch, no_network):
    buildpack, _ = _dockerfile(tmp_path, monkeypatch, {"requirements.txt": "cowsay\n"}, "version: 1\n")
    assert type(buildpack).__name__ == "DesktopPythonBuildPack"


def test_venv_runtime_txt_is_checked_against_the_base_python(tmp_path, monkeypatch, no_network):
    _, lines = _dockerfile(tmp_path, monkeypatch, {"requirements.txt": "cowsay\n", "runtime.txt": "python-3.11\n"})
    text = "\n".join(lines)
    assert '!= 3.11 ]' in text and "runtime.txt asks for python-3.11" in text


def test_venv_with_environment_yml_leaves_it_to_conda(tmp_path, monkeypatch, no_network):
    buildpack, _ = _dockerfile(tmp_path, monkeypatch, {"environment.yml": "dependencies: [numpy]\n"})
    assert type(buildpack).__name__ == "DesktopCondaBuildPack"


def test_venv_with_a_non_python_runtime_txt_stops(tmp_path, monkeypatch, no_network):
    with pytest.raises(SystemExit) as stopped:
        _dockerfile(tmp_path, monkeypatch, {"runtime.txt": "r-4.3-2024-01-10\n"})
    assert stopped.value.code == 2


# -- reaching the display from `docker exec` ---------------------------------------------------

from repo2desktop.runtime import displays  # noqa: E402


def test_x_server_command_lines_give_display_and_authority():
    argv = ["/usr/bin/Xtigervnc", ":3", "-auth", "/tmp/r2d x/Xauthority", "-geometry", "1280x800"]
    display = displays.parse(argv, 42)
    assert display == displays.Display(3, "/tmp/r2d x/Xauthority", 42)
    assert displays.exports(display) == "export DISPLAY=:3\nexport XAUTHORITY='/tmp/r2d x/Xauthority'\n"
    assert displays.parse(["/usr/bin/xinit", "/x/xinitrc", "--", "/usr/bin/Xtigervnc", ":3"], 1) is None
    assert displays.parse(["Xtightvnc", "-geometry", "1x1"], 1) is None


def test_exec_env_without_a_desktop_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setattr(displays, "running", lambda uid=None: [])
    assert cli.main(["exec-env", "--", "xdpyinfo"]) == 1
    assert capsys.readouterr().err == ("repo2desktop: no desktop of this user is running (open the "
                                       "Desktop tile, or start one with `repo2desktop up`)\n")


def test_exec_env_prints_the_lowest_display(monkeypatch, capsys):
    monkeypatch.setattr(displays, "running", lambda uid=None: [displays.Display(1, "/a", 10),
                                                               displays.Display(2, None, 11)])
    assert cli.main(["exec-env"]) == 0
    assert capsys.readouterr().out == "export DISPLAY=:1\nexport XAUTHORITY=/a\n"
    assert cli.main(["exec-env", "--display", "2"]) == 0
    assert capsys.readouterr().out == "export DISPLAY=:2\n"


def test_mate_dockerfile_silences_alsa_probes_in_one_line(tmp_path, monkeypatch, no_network):
    yml = "version: 1\nvnc: {server: tigervnc, auth: none}\nwindow_manager: mate\n"
    _, lines = _dockerfile(tmp_path, monkeypatch, {}, yml)
    instructions = ("FROM", "ARG", "ENV", "RUN", "COPY", "USER", "WORKDIR", "EXPOSE", "LABEL",
                    "ENTRYPOINT", "CMD", "#", "")
    previous = ""
    for line in lines:
        if not previous.rstrip().endswith("\\"):
            assert line.split(" ", 1)[0].upper() in instructions or not line.strip(), line
        previous = line
    run = next(l for l in lines if "90_repo2desktop.gschema.override" in l)
    assert "media-keys]\\nactive=false" in run and "glib-compile-schemas" in run
    assert any('chown -R ${NB_USER}:${NB_USER} "${HOME}/.cache"' in l for l in lines)
