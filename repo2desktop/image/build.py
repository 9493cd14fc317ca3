"""`repo2desktop build REPO [repo2docker options...]`: repo2docker plus the desktop layer.

The desktop.yml of a local repository is validated first, so a broken one stops with its
located errors before repo2docker or Docker is started. Then repo2docker runs as a
subprocess (its log streams through unchanged) with what this machine needs added, each
only when the user did not pass it: our config file (buildpacks), our BuildKit engine when
`docker buildx` is missing, a non-root notebook user when running as root, and the base
image from --base-image / $REPO2DESKTOP_BASE_IMAGE. Every other option goes to repo2docker.

Unlike plain repo2docker, an existing image of the output name is built again (a local
repository, or an explicit --image-name): repo2docker would keep the old image silently.
A failed download of conda (micromamba) is named in one plain line at the end.
"""
from __future__ import annotations

import importlib.util
import os
import shlex
import subprocess
import sys
import tempfile
from typing import Callable, List, Optional, Sequence, Tuple

from repo2desktop.config import discover
from repo2desktop.errors import Repo2DesktopError
from repo2desktop.image.r2d import REBUILD_ENV

BASE_IMAGE_ENV = "REPO2DESKTOP_BASE_IMAGE"
ENGINE = "buildkit-cli"  # the entry point name of engine.BuildKitCLIEngine (pyproject.toml)
DEFAULT_USER = ("1000", "jovyan")  # repo2docker's own defaults for the notebook user
# What repo2docker's conda bootstrap prints when the micromamba download is cut off or
# refused (install-base-env.bash pipes wget into `tar -xj`).
CONDA_DOWNLOAD_FAILED = ("bzip2: Compressed file ends unexpectedly", "micromamba: not found",
                         "micromamba: No such file or directory")
CONDA_HINT = (
    "repo2desktop: error: the build failed downloading conda (micromamba), which repo2docker's "
    "Python/conda environments need; this machine cannot reach conda's download host. For a "
    "requirements.txt repository, `python: venv` in desktop.yml installs it into the base "
    "image's Python instead (README: 'Lean Python'); environment.yml needs conda.")


def config_file_path() -> str:
    """The repo2docker config file that adds the desktop buildpacks (for `--config`)."""
    spec = importlib.util.find_spec("repo2desktop.image.buildpacks")
    if spec is None or not spec.submodule_search_locations:
        raise Repo2DesktopError("repo2desktop is installed without its buildpacks")
    return os.path.join(list(spec.submodule_search_locations)[0], "repo2docker_config.py")


class BuildUsageError(Repo2DesktopError):
    """`repo2desktop build` called with arguments it cannot split into REPO, options, CMD."""

    exit_code = 2


# Our own options, besides repo2docker's: (name, takes a value).
OWN_OPTIONS = (("--base-image", True), ("--no-build", False))


def value_options() -> Tuple[set, set]:
    """(options that take a value, those that do not), read from repo2docker's own parser so
    that a repo2docker upgrade's new options are split correctly without a change here."""
    from repo2docker.__main__ import get_argparser

    valued, flags = set(), set()
    for action in get_argparser()._actions:
        (flags if action.nargs == 0 else valued).update(action.option_strings)
    for name, takes_value in OWN_OPTIONS:
        (valued if takes_value else flags).add(name)
    return valued, flags


def split_arguments(words: Sequence[str], valued: Optional[set] = None) -> Tuple[str, List[str], List[str]]:
    """`build`'s arguments as (REPO, options, CMD): options may come before REPO (repo2docker's
    order) or after it (ours), in any mix; the container's command follows `--`.

    VALUED names the options that take a value (`--image-name x`), so that their value is not
    taken for REPO; `--Class.trait value` (traitlets) takes one too.
    """
    if valued is None:
        valued = value_options()[0]
    words = list(words)
    cut = words.index("--") if "--" in words else len(words)
    options_and_repo, command = words[:cut], words[cut + 1:]
    positional: List[Tuple[int, str]] = []
    i = 0
    while i < len(options_and_repo):
        word = options_and_repo[i]
        if word.startswith("-") and word != "-":
            name = word.split("=", 1)[0]
            if "=" not in word and (name in valued or (word.startswith("--") and "." in name)):
                i += 1  # its value is the next word
        else:
            positional.append((i, word))
        i += 1
    if not positional:
        raise BuildUsageError("build needs a repository: repo2desktop build [OPTIONS] REPO "
                              "[OPTIONS] [-- COMMAND ...]")
    if len(positional) > 1:
        raise BuildUsageError(
            f"build takes one repository, got {positional[0][1]!r} and {positional[1][1]!r}; the "
            "container's command goes after `--`: repo2desktop build REPO [OPTIONS] -- COMMAND ...")
    at, repo = positional[0]
    return repo, options_and_repo[:at] + options_and_repo[at + 1:], command


def option_value(args: Sequence[str], name: str) -> Optional[str]:
    """The value of NAME in ARGS (`NAME VALUE` or `NAME=VALUE`), the last one winning."""
    found = None
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            found = args[i + 1]
        elif arg.startswith(name + "="):
            found = arg[len(name) + 1:]
    return found


def has_option(args: Sequence[str], name: str) -> bool:
    return any(arg == name or arg.startswith(name + "=") for arg in args)


def without_option(args: Sequence[str], name: str) -> List[str]:
    """ARGS without NAME and its value."""
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == name:
            skip = True
        elif not arg.startswith(name + "="):
            kept.append(arg)
    return kept


def validate_repo(repo: str, subdir: Optional[str]) -> None:
    """Validate a local repository's desktop.yml; remote ones are checked after the fetch."""
    if not os.path.isdir(repo):
        print(f"repo2desktop: {repo} is not a local folder; its desktop.yml is checked "
              "after repo2docker fetches it", file=sys.stderr)
        return
    where = os.path.join(repo, subdir) if subdir else repo
    if discover.find_config(where) is None:
        ignored = discover.ignored_config_warning(where)
        if ignored:
            print(ignored, file=sys.stderr)
        raise Repo2DesktopError(
            f"{where}: no desktop.yml ({os.path.normpath(discover.expected_path(where))} does not "
            f"exist); `repo2desktop init {where}` writes a starter")
    config = discover.load(where)  # ConfigError: every problem, located; nothing is built
    for warning in config.warnings:
        print(warning, file=sys.stderr)


def repo2docker_args(repo: str, r2d_args: Sequence[str], no_build: bool,
                     base_image: Optional[str] = None, config_file: Optional[str] = None,
                     is_root: Optional[bool] = None,
                     buildx: Optional[Callable[[], bool]] = None) -> Tuple[List[str], List[str]]:
    """(repo2docker's arguments, notes for stderr). Pure apart from the buildx probe."""
    options, command = list(r2d_args), []
    if "--" in options:  # `... -- CMD ARGS`: the command to run in the container
        i = options.index("--")
        options, command = options[:i], options[i + 1:]
    notes: List[str] = []
    args = ["--config", config_file or config_file_path()]
    if not no_build and not has_option(options, "--engine"):
        if buildx is None:
            from repo2desktop.image.engine import buildx_available as buildx
        if not buildx():
            args += ["--engine", ENGINE]
            notes.append("repo2desktop: `docker buildx` is not available; building with "
                         f"--engine {ENGINE} (DOCKER_BUILDKIT=1 docker build)")
    if is_root is None:
        is_root = os.geteuid() == 0
    if is_root:
        if not has_option(options, "--user-id"):
            args += ["--user-id", DEFAULT_USER[0]]
        if not has_option(options, "--user-name"):
            args += ["--user-name", DEFAULT_USER[1]]
    base_image = base_image or os.environ.get(BASE_IMAGE_ENV)
    if base_image and not has_option(options, "--Repo2Docker.base_image"):
        args.append(f"--Repo2Docker.base_image={base_image}")
    if no_build and not has_option(options, "--no-build"):
        args.append("--no-build")
    return args + options + [repo] + command, notes


def _combined_config(ours: str, theirs: str) -> str:
    """A config file loading ours, then the user's (whose settings win)."""
    if not os.path.isfile(theirs):
        raise Repo2DesktopError(f"--config {theirs}: no such file")
    fd, path = tempfile.mkstemp(prefix="repo2desktop-config-", suffix=".py")
    with os.fdopen(fd, "w") as f:
        f.write("# Generated by `repo2desktop build`: its buildpacks, then your settings.\n"
                f"load_subconfig({ours!r})\nload_subconfig({os.path.abspath(theirs)!r})\n")
    return path


def relay(source, sink) -> bool:
    """Copy repo2docker's output line by line as it comes; True if conda's download failed."""
    failed = False
    for line in iter(source.readline, b""):
        sink.write(line)
        sink.flush()
        if not failed:
            text = line.decode("utf-8", errors="replace")
            failed = any(marker in text for marker in CONDA_DOWNLOAD_FAILED)
    return failed


# The child must import the installed repo2desktop, never a checkout in the caller's working
# directory (`python -m` puts the working directory first on sys.path): from a clone of this
# repository that would build the clone's code, or stop for its unbuilt viewer bundle.
# -P (Python 3.11+) leaves the working directory off sys.path; older Pythons drop it by hand.
if sys.version_info >= (3, 11):
    INSTALLED_ONLY = ["-P", "-m"]
else:
    INSTALLED_ONLY = ["-c", "import runpy, sys; del sys.path[0]; "
                      "runpy.run_module(sys.argv[1], run_name='__main__', alter_sys=True)"]


def build(repo: str, r2d_args: List[str], no_build: bool, base_image: Optional[str] = None) -> int:
    """Build REPO with repo2docker and the desktop layer; return repo2docker's exit code.

    With NO_BUILD, print the Dockerfile (repo2docker's --no-build) instead of building.
    Raises ConfigError (located) for a broken desktop.yml before anything runs.
    """
    # Only the options count: after "--" come the container's command and its own arguments.
    cut = r2d_args.index("--") if "--" in r2d_args else len(r2d_args)
    options, command = r2d_args[:cut], r2d_args[cut:]
    validate_repo(repo, option_value(options, "--subdir"))
    config_file, temporary = config_file_path(), None
    user_config = option_value(options, "--config")
    if user_config:
        temporary = config_file = _combined_config(config_file, user_config)
        options = without_option(options, "--config")
    r2d_args = options + command
    try:
        args, notes = repo2docker_args(repo, r2d_args, no_build, base_image, config_file)
        for note in notes:
            print(note, file=sys.stderr)
        command = [sys.executable, *INSTALLED_ONLY, "repo2desktop.image.r2d", *args]
        shown = shlex.join(["python", "-m", "repo2docker", *args])
        print(f"repo2desktop: running {shown}", file=sys.stderr, flush=True)
        env = dict(os.environ)
        if not no_build and (os.path.isdir(repo) or has_option(options, "--image-name")):
            env[REBUILD_ENV] = "1"
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            conda_failed = relay(proc.stdout, sys.stdout.buffer)
            code = proc.wait()
        except KeyboardInterrupt:
            # repo2docker got the same Ctrl-C (same process group): let it clean up.
            proc.wait()
            return 130
        finally:
            if proc.stdout:
                proc.stdout.close()
        if code != 0 and conda_failed:
            print(CONDA_HINT, file=sys.stderr, flush=True)
        return code
    finally:
        if temporary:
            os.unlink(temporary)
