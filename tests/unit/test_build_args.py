"""`repo2desktop build`'s repo2docker command line: repo2docker_args(), build() and the CLI.

repo2docker_args() is pure apart from the buildx probe, which every test passes in. build()
and the CLI are run with subprocess.Popen replaced by a recorder (no repo2docker, no Docker):
the argv it would run, and the config file it would read, are what is checked.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
from traitlets.config.loader import PyFileConfigLoader

from repo2desktop.image import build as build_module
from repo2desktop import cli
from repo2desktop.image.build import (BASE_IMAGE_ENV, ENGINE, build, config_file_path, repo2docker_args)
from repo2desktop.errors import ConfigError, Repo2DesktopError

CONFIG = "/opt/r2d/repo2docker_config.py"


def no_probe():
    pytest.fail("the buildx probe must not run here")


def args(r2d_args=(), no_build=False, base_image=None, is_root=False, buildx=lambda: True,
         config_file=CONFIG):
    return repo2docker_args("REPO", list(r2d_args), no_build, base_image=base_image,
                            config_file=config_file, is_root=is_root, buildx=buildx)


@pytest.fixture(autouse=True)
def no_base_image_env(monkeypatch):
    monkeypatch.delenv(BASE_IMAGE_ENV, raising=False)


# -- repo2docker_args() --------------------------------------------------------------------

def test_non_root_with_buildx_adds_only_our_config():
    assert args() == (["--config", CONFIG, "REPO"], [])


def test_config_file_defaults_to_the_installed_buildpacks():
    argv, _ = repo2docker_args("REPO", [], False, is_root=False, buildx=lambda: True)
    assert argv[:2] == ["--config", config_file_path()]
    path = Path(config_file_path())
    assert path.name == "repo2docker_config.py" and path.is_file()
    assert "c.Repo2Docker.buildpacks" in path.read_text()


def test_root_gets_repo2dockers_default_notebook_user():
    argv, _ = args(is_root=True)
    assert argv == ["--config", CONFIG, "--user-id", "1000", "--user-name", "jovyan", "REPO"]


@pytest.mark.parametrize("given, added", [
    (["--user-id", "4242"], ["--user-name", "jovyan"]),
    (["--user-id=4242"], ["--user-name", "jovyan"]),
    (["--user-name", "alice"], ["--user-id", "1000"]),
    (["--user-id", "4242", "--user-name=alice"], []),
])
def test_root_keeps_the_users_own_user_options(given, added):
    argv, _ = args(given, is_root=True)
    assert argv == ["--config", CONFIG, *added, *given, "REPO"]


def test_missing_buildx_selects_our_engine_with_a_note():
    argv, notes = args(buildx=lambda: False)
    assert argv == ["--config", CONFIG, "--engine", ENGINE, "REPO"]
    assert len(notes) == 1 and "buildx" in notes[0] and f"--engine {ENGINE}" in notes[0]


@pytest.mark.parametrize("engine", [["--engine", "docker"], ["--engine=podman"]])
def test_explicit_engine_wins_and_buildx_is_not_probed(engine):
    argv, notes = args(engine, buildx=no_probe)
    assert argv == ["--config", CONFIG, *engine, "REPO"] and notes == []
    assert argv.count("--engine") + sum(a.startswith("--engine=") for a in argv) == 1


def test_no_build_needs_no_engine():
    argv, notes = args(no_build=True, buildx=no_probe)
    assert argv == ["--config", CONFIG, "--no-build", "REPO"] and notes == []
    # Given twice (ours and the user's), repo2docker sees it once.
    argv, _ = args(["--no-build"], no_build=True, buildx=no_probe)
    assert argv.count("--no-build") == 1


def test_command_after_double_dash_follows_the_repository():
    argv, _ = args(["--no-run", "--image-name", "x", "--", "python", "-c", "print(1)"])
    assert argv == ["--config", CONFIG, "--no-run", "--image-name", "x", "REPO", "python", "-c", "print(1)"]


def test_options_of_the_command_are_not_ours():
    """`--user-id` / `--engine` after `--` belong to the container's command."""
    argv, _ = args(["--", "tool", "--user-id", "7", "--engine", "e"], is_root=True, buildx=lambda: False)
    repo = argv.index("REPO")
    assert argv[repo:] == ["REPO", "tool", "--user-id", "7", "--engine", "e"]
    assert argv[:repo] == ["--config", CONFIG, "--engine", ENGINE, "--user-id", "1000", "--user-name", "jovyan"]


def test_base_image_option_environment_and_precedence(monkeypatch):
    argv, _ = args(base_image="mine:1")
    assert argv == ["--config", CONFIG, "--Repo2Docker.base_image=mine:1", "REPO"]
    monkeypatch.setenv(BASE_IMAGE_ENV, "from-env:2")
    assert "--Repo2Docker.base_image=from-env:2" in args()[0]
    assert args(base_image="mine:1")[0].count("--Repo2Docker.base_image=mine:1") == 1
    assert not any("from-env" in a for a in args(base_image="mine:1")[0])
    # The user's own repo2docker option wins over both.
    argv, _ = args(["--Repo2Docker.base_image=theirs:3"], base_image="mine:1")
    assert [a for a in argv if "base_image" in a] == ["--Repo2Docker.base_image=theirs:3"]


def test_ours_come_first_so_repeated_user_options_win():
    argv, _ = args(["--image-name", "n", "--Repo2Docker.platform=linux/amd64"], base_image="b")
    assert argv.index("--Repo2Docker.base_image=b") < argv.index("--image-name") < argv.index("REPO")


# -- build(): the subprocess and the user's --config ---------------------------------------

class Recorder:
    """Stands in for subprocess.Popen in repo2desktop.image.build."""

    def __init__(self, returncode: int = 0, output: bytes = b""):
        self.calls: List[List[str]] = []
        self.envs: List[dict] = []
        self.output = output
        self.configs: List[str] = []
        self.returncode = returncode

    def __call__(self, argv, **kwargs):
        self.calls.append(list(argv))
        self.envs.append(kwargs.get("env") or {})
        self.stdout = io.BytesIO(self.output)
        config = argv[argv.index("--config") + 1]
        self.configs.append(Path(config).read_text())  # before build() removes a temporary one
        self.config_path = config
        return self

    def wait(self):
        return self.returncode


@pytest.fixture
def recorder(monkeypatch):
    rec = Recorder()
    monkeypatch.setattr(build_module.subprocess, "Popen", rec)
    return rec


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "desktop.yml").write_text("version: 1\n")
    return tmp_path / "repo"


def test_build_runs_repo2docker_with_our_config(recorder, repo, monkeypatch, capsys):
    monkeypatch.setattr(build_module.os, "geteuid", lambda: 1000)
    recorder.returncode = 3
    code = build(str(repo), ["--engine", "docker", "--no-run"], no_build=False, base_image="b:1")
    assert code == 3  # repo2docker's exit code
    (argv,) = recorder.calls
    # repo2docker's CLI (rebuilding existing images), from the installed package only
    assert argv[1:4] == ["-P", "-m", "repo2desktop.image.r2d"]
    assert argv[4:] == ["--config", config_file_path(), "--Repo2Docker.base_image=b:1", "--engine", "docker",
                        "--no-run", str(repo)]
    assert "repo2desktop: running python -m repo2docker --config" in capsys.readouterr().err


@pytest.mark.parametrize("form", ["separate", "equals"])
def test_users_config_is_loaded_after_ours(recorder, repo, tmp_path, form):
    theirs = tmp_path / "my_config.py"
    theirs.write_text("c.Repo2Docker.buildpacks = []\nc.Repo2Docker.appendix = 'RUN echo mine'\n")
    option = ["--config", str(theirs)] if form == "separate" else [f"--config={theirs}"]
    assert build(str(repo), [*option, "--engine", "docker"], no_build=False) == 0
    (argv,) = recorder.calls
    assert sum(a == "--config" or a.startswith("--config=") for a in argv) == 1, argv
    combined = recorder.config_path
    assert combined not in (config_file_path(), str(theirs))
    text = recorder.configs[0]
    assert text.index(repr(config_file_path())) < text.index(repr(str(theirs)))
    assert not os.path.exists(combined), "the combined config file was left behind"

    # Loaded as repo2docker loads it: our buildpacks, then the user's settings, which win.
    Path(combined).write_text(text)
    try:
        loaded = PyFileConfigLoader(os.path.basename(combined), path=os.path.dirname(combined)).load_config()
    finally:
        os.unlink(combined)
    assert loaded.Repo2Docker.buildpacks == []
    assert loaded.Repo2Docker.appendix == "RUN echo mine"
    assert callable(loaded.Repo2Docker.default_buildpack)  # ours, not overridden


def test_missing_user_config_is_an_error_before_anything_runs(recorder, repo, tmp_path):
    with pytest.raises(Repo2DesktopError, match=r"--config .*nope\.py: no such file"):
        build(str(repo), ["--config", str(tmp_path / "nope.py")], no_build=False)
    assert recorder.calls == []


def test_broken_desktop_yml_stops_before_repo2docker(recorder, tmp_path):
    (tmp_path / "desktop.yml").write_text("version: 1\nwindow_manager: openbx\n")
    with pytest.raises(ConfigError):
        build(str(tmp_path), [], no_build=True)
    assert recorder.calls == []


# -- the command line ------------------------------------------------------------------------

def test_cli_base_image_and_no_build(recorder, repo, monkeypatch):
    monkeypatch.setattr(build_module.os, "geteuid", lambda: 0)
    code = cli.main(["build", str(repo), "--base-image", "cli:1", "--no-build", "--image-name", "n"])
    assert code == 0
    (argv,) = recorder.calls
    assert "--base-image" not in argv and "cli:1" not in argv
    assert "--Repo2Docker.base_image=cli:1" in argv and argv.count("--no-build") == 1
    assert "--engine" not in argv  # --no-build builds nothing
    assert argv[argv.index("--user-id") + 1] == "1000" and argv[argv.index("--user-name") + 1] == "jovyan"
    assert argv[-3:] == ["--image-name", "n", str(repo)]


def test_cli_leaves_the_containers_command_alone(recorder, repo, monkeypatch):
    monkeypatch.setattr(build_module.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(build_module, "repo2docker_args", _real_args_without_probe)
    cli.main(["build", str(repo), "--no-run", "--", "echo", "--no-build", "--base-image", "x"])
    (argv,) = recorder.calls
    assert argv[argv.index(str(repo)):] == [str(repo), "echo", "--no-build", "--base-image", "x"]
    assert "--Repo2Docker.base_image=x" not in argv


_original_args = repo2docker_args


def _real_args_without_probe(*a, **kw):
    kw["buildx"] = lambda: True
    return _original_args(*a, **kw)


# -- rebuilds and conda downloads (issue 9) ---------------------------------------------------

def test_local_repository_is_rebuilt_not_reused(recorder, repo):
    assert build(str(repo), ["--image-name", "mine", "--engine", "docker"], no_build=False) == 0
    assert recorder.envs[0].get("REPO2DESKTOP_REBUILD") == "1"


def test_remote_repository_without_a_name_may_reuse(recorder, monkeypatch):
    monkeypatch.setattr(build_module, "validate_repo", lambda repo, subdir: None)
    assert build("https://example.invalid/repo.git", ["--engine", "docker"], no_build=False) == 0
    assert "REPO2DESKTOP_REBUILD" not in recorder.envs[0]


def test_conda_download_failure_is_named(recorder, repo, capsys):
    recorder.returncode = 1
    recorder.output = b"Step 12\nbzip2: Compressed file ends unexpectedly;\ntar: Child returned status 2\n"
    assert build(str(repo), ["--engine", "docker"], no_build=False) == 1
    out, err = capsys.readouterr()
    assert "bzip2: Compressed file ends unexpectedly" in out  # repo2docker's log is relayed
    assert err.splitlines()[-1] == build_module.CONDA_HINT
    assert "python: venv" in build_module.CONDA_HINT


def test_other_failures_do_not_blame_conda(recorder, repo, capsys):
    recorder.returncode = 1
    recorder.output = b"E: Unable to locate package nope\n"
    assert build(str(repo), ["--engine", "docker"], no_build=False) == 1
    assert "conda" not in capsys.readouterr().err


# -- both orders: repo2docker's (options before REPO) and ours (after), issue 10 --------------

@pytest.fixture
def cli_build(recorder, monkeypatch):
    """cli.main(["build", ...]) as a non-root user with buildx: the repo2docker argv it runs."""
    monkeypatch.setattr(build_module.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(build_module, "repo2docker_args", _real_args_without_probe)

    def run(*words):
        assert cli.main(["build", *words]) == 0
        (argv,) = recorder.calls[-1:]
        return argv[argv.index("repo2desktop.image.r2d") + 1:]
    return run


def test_cli_options_before_the_repository(cli_build, repo):
    assert cli_build("--no-run", "--image-name", "x", str(repo)) == [
        "--config", config_file_path(), "--no-run", "--image-name", "x", str(repo)]


def test_cli_options_after_the_repository(cli_build, repo):
    assert cli_build(str(repo), "--no-run", "--image-name", "x") == [
        "--config", config_file_path(), "--no-run", "--image-name", "x", str(repo)]


def test_cli_options_on_both_sides_with_a_command(cli_build, repo):
    assert cli_build("--no-run", "--base-image", "b:1", str(repo), "--image-name=x", "-e", "A=1",
                     "--Repo2Docker.platform", "linux/amd64", "--", "echo", "--image-name", "y") == [
        "--config", config_file_path(), "--Repo2Docker.base_image=b:1", "--no-run", "--image-name=x",
        "-e", "A=1", "--Repo2Docker.platform", "linux/amd64", str(repo), "echo", "--image-name", "y"]


def test_cli_no_build_before_the_repository(cli_build, repo):
    assert cli_build("--no-build", "--ref", "main", str(repo)) == [
        "--config", config_file_path(), "--no-build", "--ref", "main", str(repo)]


@pytest.mark.parametrize("words, message", [
    ([], "repo2desktop: build needs a repository: repo2desktop build [OPTIONS] REPO [OPTIONS] "
         "[-- COMMAND ...]\n"),
    (["--image-name", "x"], "repo2desktop: build needs a repository: repo2desktop build [OPTIONS] "
                            "REPO [OPTIONS] [-- COMMAND ...]\n"),
    (["REPO", "jupyter", "lab"], "repo2desktop: build takes one repository, got 'REPO' and 'jupyter'; "
                                 "the container's command goes after `--`: repo2desktop build REPO "
                                 "[OPTIONS] -- COMMAND ...\n"),
])
def test_cli_build_usage_errors(recorder, words, message, capsys):
    assert cli.main(["build", *words]) == 2
    assert capsys.readouterr() == ("", message)
    assert recorder.calls == []


def test_cli_build_help_still_works(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["build", "--help"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith(
        "usage: repo2desktop build [OPTIONS] REPO [OPTIONS] [-- COMMAND ...]\n")


def test_value_options_come_from_repo2dockers_parser():
    valued, flags = build_module.value_options()
    assert {"--image-name", "--ref", "--config", "--subdir", "--engine", "-e", "--base-image"} <= valued
    assert {"--no-run", "--no-build", "--debug", "--push", "--json-logs"} <= flags
    assert not valued & flags


# -- the [build] and [serve] extras ----------------------------------------------------------

@pytest.mark.parametrize("absent, message", [
    (["repo2docker"], "repo2desktop: build needs jupyter-repo2docker, which is not installed here: "
                      "pip install 'repo2desktop[build]'\n"),
    (["repo2docker", "docker"], "repo2desktop: build needs jupyter-repo2docker and docker, which are "
                                "not installed here: pip install 'repo2desktop[build]'\n"),
])
def test_build_without_the_extra_names_it(recorder, repo, monkeypatch, capsys, absent, message):
    for module in absent:
        monkeypatch.setitem(sys.modules, module, None)  # what importlib finds for a missing module
    assert cli.main(["build", "--no-run", str(repo)]) == 1
    assert capsys.readouterr() == ("", message)
    assert recorder.calls == []


def test_serve_without_the_extra_names_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "docker", None)
    assert cli.main(["serve", "some/image"]) == 1
    assert capsys.readouterr() == ("", "repo2desktop: serve needs docker, which is not installed "
                                       "here: pip install 'repo2desktop[serve]'\n")


def test_extras_match_pyproject():
    import tomllib

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    for extra, modules in cli.EXTRAS.items():
        declared = {re.split(r"[<>=!~ ;\[]", d, maxsplit=1)[0] for d in project["optional-dependencies"][extra]}
        assert {dist for _, dist in modules} == declared, extra


# -- config-path (editable install or wheel: the file beside the imported package) ----------

def test_config_path_names_the_file_repo2docker_loads(tmp_path):
    import repo2desktop

    result = subprocess.run([sys.executable, "-m", "repo2desktop", "config-path"], cwd=tmp_path,
                            capture_output=True, text=True, check=True)
    path = Path(result.stdout.strip())
    assert result.stderr == ""
    assert path == Path(repo2desktop.__file__).parent / "image" / "buildpacks" / "repo2docker_config.py"
    loaded = PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
    from repo2desktop.image.buildpacks.selection import DesktopOnlyBuildPack
    assert DesktopOnlyBuildPack in loaded.Repo2Docker.buildpacks


def test_config_path_notes_a_missing_repo2docker(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "repo2docker", None)
    assert cli.main(["config-path"]) == 0
    out, err = capsys.readouterr()
    assert out == config_file_path() + "\n"
    assert err == ("repo2desktop: note: repo2docker is not installed beside repo2desktop, and the "
                   "config file works only with one that is: pip install 'repo2desktop[build]'\n")


def test_plain_repo2docker_with_config_path_from_this_install(tmp_path):
    """`repo2docker --config "$(repo2desktop config-path)" --no-build REPO` from the install that
    runs the tests (an editable one in a checkout; tests/image/test_wheel.py does the wheel)."""
    config = subprocess.run([sys.executable, "-m", "repo2desktop", "config-path"], cwd=tmp_path,
                            capture_output=True, text=True, check=True).stdout.strip()
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "desktop.yml").write_text("version: 1\nvnc: {server: tigervnc}\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}  # where the image's wheel is packed
    proc = subprocess.run([sys.executable, "-m", "repo2docker", "--config", config, "--no-build",
                           "--user-id", "1000", "--user-name", "jovyan", str(repo)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    output = proc.stdout + proc.stderr
    assert "repo2desktop: desktop from desktop.yml on top of BaseImage (tigervnc, window manager openbox)" in output
    assert "/etc/repo2desktop/desktop.yml" in proc.stdout  # the Dockerfile copies it there
    assert list((tmp_path / "cache").rglob("repo2desktop-*.whl"))


def test_the_containers_command_keeps_its_own_config_and_subdir(cli_build, repo, recorder):
    assert cli_build(str(repo), "--", "tool", "--config", "nope.py", "--subdir", "x", "--image-name", "y") == [
        "--config", config_file_path(), str(repo), "tool", "--config", "nope.py", "--subdir", "x",
        "--image-name", "y"]
    assert recorder.configs[0] == Path(config_file_path()).read_text()  # ours alone, not combined


def test_the_child_imports_the_installed_package_not_the_working_directory(repo, tmp_path, monkeypatch):
    """From inside a checkout (a folder holding a `repo2desktop/` package), build must run the
    installed repo2desktop: a real child Python, with a decoy package in its working directory
    that fails loudly if imported (issue 15)."""
    decoy = tmp_path / "checkout"
    (decoy / "repo2desktop" / "image").mkdir(parents=True)
    (decoy / "repo2desktop" / "__init__.py").write_text("raise SystemExit('imported the checkout')\n")
    (decoy / "repo2desktop" / "image" / "__init__.py").write_text("")
    (decoy / "repo2desktop" / "image" / "r2d.py").write_text("raise SystemExit('imported the checkout')\n")
    monkeypatch.chdir(decoy)
    started = []
    real_popen = subprocess.Popen

    def popen(argv, **kwargs):
        # The real command, told only to say where it imported repo2desktop from.
        probe = [a if a != "repo2desktop.image.r2d" else "repo2desktop" for a in argv[:argv.index(
            "repo2desktop.image.r2d") + 1]]
        started.append(probe)
        return real_popen(probe + ["--help"], **kwargs)

    monkeypatch.setattr(build_module.subprocess, "Popen", popen)
    monkeypatch.setattr(build_module.os, "geteuid", lambda: 1000)
    out = io.BytesIO()
    monkeypatch.setattr(build_module.sys, "stdout", type("Out", (), {"buffer": out})())
    code = build(str(repo), ["--engine", "docker", "--no-run"], no_build=False)
    assert started, "build started no child"
    text = out.getvalue().decode()
    assert "imported the checkout" not in text and code == 0, text
