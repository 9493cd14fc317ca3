"""The `repo2desktop` command line: thin argument parsing over the library modules.

Every Repo2DesktopError is printed as-is (located, one line per problem) with its exit code;
a Python traceback reaching the user is a bug.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from typing import List, Optional

from repo2desktop.config import discover
from repo2desktop.config.overrides import add_arguments as _add_overrides, from_args as _overrides
from repo2desktop.errors import ConfigError, Repo2DesktopError


def no_config_report(path: str, config) -> str:
    """What `validate` says where there is no desktop.yml: where it looked, and the defaults
    that `up` and `render` use there instead (read from CONFIG, so they stay true)."""
    looked = discover.expected_path(path or ".")
    shown = os.path.normpath(looked)
    return (f"no desktop.yml: {shown} does not exist, so no file was checked.\n"
            "Without one, `repo2desktop up` and `render` use the defaults (a desktop.yml of just "
            f"`version: 1`): window_manager: {config.window_manager}, autostart: "
            f"[{', '.join(config.autostart)}], display.geometry: {config.display.geometry}, "
            f"display.depth: {config.display.depth}, vnc.server: {config.vnc.server}, vnc.auth: "
            f"{config.vnc.auth}, start: {config.start}.\n"
            f"`repo2desktop build` needs a desktop.yml; `repo2desktop init {path or '.'}` writes a starter.")


def cmd_validate(args: argparse.Namespace) -> int:
    # Exit 0 without a desktop.yml: the defaults are a valid desktop (up/render use them);
    # the report says plainly that no file was checked.
    config = discover.load(args.path, _overrides(args))
    for warning in config.warnings:
        print(warning, file=sys.stderr)
    if not args.quiet:
        if discover.find_config(args.path) is None:
            print(no_config_report(args.path, config))
        else:
            print(f"{config.source}: OK")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from repo2desktop.runtime.files import write_rendered

    config = discover.load(args.path, _overrides(args))
    for warning in config.warnings:
        print(warning, file=sys.stderr)
    written = write_rendered(config, os.path.abspath(args.out), listen=args.listen)
    for path in written:
        print(path)
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from repo2desktop.runtime.foreground import run_up

    from repo2desktop.runtime.limits import shared_host_warnings

    config = discover.load(args.path, _overrides(args))
    for warning in [*config.warnings, *shared_host_warnings(config)]:
        print(warning, file=sys.stderr)
    return run_up(config, port=args.port, timeout=args.timeout)


def cmd_session(args: argparse.Namespace) -> int:
    from repo2desktop.runtime.foreground import run_config_error, run_session

    try:
        config = discover.load(args.config, _overrides(args))
    except ConfigError as e:
        # The Desktop tile stays; opening it shows the located errors instead of a proxy error.
        return run_config_error(str(e), args.unix_socket)
    return run_session(config, unix_socket=args.unix_socket, xauthority=args.xauthority,
                       attach=args.attach, display_lock_holder=args.display_lock_holder)


# What the optional commands import: (module, the distribution that provides it), by the
# pyproject.toml extra that installs them (a plain `pip install repo2desktop` has none).
EXTRAS = {
    "build": (("repo2docker", "jupyter-repo2docker"), ("docker", "docker")),
    "serve": (("docker", "docker"), ("requests", "requests"), ("tornado", "tornado")),
}


def require_extra(extra: str) -> None:
    """Stop with the pip command that installs EXTRA when one of its modules is missing."""
    missing = [dist for module, dist in EXTRAS[extra] if importlib.util.find_spec(module) is None]
    if missing:
        which = " and ".join(missing) + (", which are" if len(missing) > 1 else ", which is")
        raise Repo2DesktopError(f"{extra} needs {which} not installed here: "
                                f"pip install 'repo2desktop[{extra}]'")


def cmd_build(args: argparse.Namespace) -> int:
    require_extra("build")
    from repo2desktop.image.build import build, option_value, split_arguments, without_option

    # Options before or after REPO; "--" ends them: what follows is the container's command.
    repo, options, command = split_arguments(args.words)
    base = option_value(options, "--base-image")
    no_build = "--no-build" in options
    options = [a for a in without_option(options, "--base-image") if a != "--no-build"]
    return build(repo, options + (["--", *command] if command else []), no_build, base_image=base)


def cmd_init(args: argparse.Namespace) -> int:
    from repo2desktop.image.starter import init

    for path in init(args.path):
        print(path)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from repo2desktop.config import json_schema, reference

    sys.stdout.write(reference.markdown() if args.markdown else json_schema.text())
    return 0


def cmd_config_path(args: argparse.Namespace) -> int:
    from repo2desktop.image.build import config_file_path

    print(config_file_path())
    if importlib.util.find_spec("repo2docker") is None:
        # The file imports repo2desktop: only a repo2docker in this environment can load it.
        print("repo2desktop: note: repo2docker is not installed beside repo2desktop, and the "
              "config file works only with one that is: pip install 'repo2desktop[build]'",
              file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    require_extra("serve")
    from repo2desktop.serve import options, service

    return service.run(options.from_args(args))


def cmd_hub_config(args: argparse.Namespace) -> int:
    from repo2desktop.serve import hubconfig, huboptions

    for path in hubconfig.write(huboptions.from_args(args), args.out, force=args.force):
        print(path)
    return 0


def cmd_exec_env(args: argparse.Namespace) -> int:
    from repo2desktop.runtime import displays

    found = displays.running()
    if args.display is not None:
        found = [d for d in found if d.number == args.display]
    if not found:
        which = f" :{args.display}" if args.display is not None else ""
        raise Repo2DesktopError(f"no desktop{which} of this user is running (open the Desktop "
                                "tile, or start one with `repo2desktop up`)")
    display = found[0]
    command = args.command_line[1:] if args.command_line[:1] == ["--"] else args.command_line
    if not command:
        sys.stdout.write(displays.exports(display))
        return 0
    try:
        os.execvpe(command[0], command, {**os.environ, **display.environment()})
    except OSError as e:
        raise Repo2DesktopError(f"{command[0]}: {e.strerror}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="repo2desktop",
        description="Put a Linux desktop (VNC + noVNC) into Jupyter/Binder images from desktop.yml.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check a desktop.yml and report every problem, located")
    p.add_argument("path", nargs="?", default=".", help="desktop.yml or a repository folder")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when valid")
    _add_overrides(p)  # checked as `up` and `render` would apply them (e.g. a --vnc-command)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("render", help="write the supervisord config, xinitrc, program scripts, ...")
    p.add_argument("path", nargs="?", default=".")
    p.add_argument("--out", required=True, help="folder to write into (created)")
    p.add_argument("--listen", default="tcp:6080",
                   help="websockify's side: tcp:PORT or unix:PATH (default tcp:6080)")
    _add_overrides(p)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("up", help="run the desktop on this host and print its noVNC URL")
    p.add_argument("path", nargs="?", default=".")
    p.add_argument("--port", type=int, default=0, help="loopback port for noVNC (default: a free one)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the desktop")
    _add_overrides(p)
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("session", help="(used by Jupyter) run a desktop behind a private unix socket")
    p.add_argument("--config", default=None, help="desktop.yml or repository folder (default: .)")
    p.add_argument("--unix-socket", required=True, help="where websockify listens")
    p.add_argument("--xauthority", default="", help="where to write the X authority file")
    p.add_argument("--attach", action="store_true",
                   help="if a session already answers on --unix-socket, wait while it runs "
                        "(jupyter-server-proxy's process for an eager desktop); else start one")
    p.add_argument("--display-lock-holder", type=int, default=0, metavar="PID",
                   help="the process whose X lock reserves --display until our X server starts")
    _add_overrides(p)
    p.set_defaults(func=cmd_session)

    p = sub.add_parser(
        "build", help="build REPO with repo2docker plus the desktop layer",
        usage="repo2desktop build [OPTIONS] REPO [OPTIONS] [-- COMMAND ...]",
        description="Options before or after REPO go to repo2docker (--no-run, --image-name N, "
                    "--engine E, ...); the container's command follows --. Ours: --no-build "
                    "(print the Dockerfile) and --base-image IMAGE. Needs the [build] extra: "
                    "pip install 'repo2desktop[build]'.")
    # Split by main() and repo2docker's own option table (build.split_arguments), not here:
    # argparse would refuse repo2docker's options before REPO.
    p.add_argument("words", nargs=argparse.REMAINDER, metavar="...")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("init", help="write a starter desktop.yml and Binder files (never overwrites)")
    p.add_argument("path", nargs="?", default=".")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser(
        "exec-env", help="DISPLAY and XAUTHORITY of your running desktop (for docker exec)",
        description="Without COMMAND: print `export DISPLAY=... XAUTHORITY=...` lines for "
                    "`eval \"$(repo2desktop exec-env)\"`. With `-- COMMAND`: run it on the desktop.")
    p.add_argument("--display", type=int, default=None, help="this display number (default: the lowest)")
    p.add_argument("command_line", nargs=argparse.REMAINDER, metavar="-- COMMAND")
    p.set_defaults(func=cmd_exec_env)

    p = sub.add_parser(
        "schema", help="print desktop.yml's JSON Schema (for editors; see README)",
        description="Print the JSON Schema of desktop.yml, made from the same table as validate's "
                    "checks; editors with the YAML language server use it through a "
                    "`# yaml-language-server: $schema=desktop.schema.json` line.")
    p.add_argument("--markdown", action="store_true",
                   help="print the README's reference of every key instead")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("config-path", help="print the repo2docker config file with the desktop buildpacks")
    p.set_defaults(func=cmd_config_path)

    p = sub.add_parser(
        "serve", help="temporary desktops for visitors: a pre-started pool behind "
                      "configurable-http-proxy (tmpnb's options and API)")
    from repo2desktop.serve.options import add_arguments as add_serve_arguments
    add_serve_arguments(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("hub-config", help="write jupyterhub_config.py (tmpauthenticator + DockerSpawner "
                                          "+ idle culler, a pre-started pool with --pool-size) and a "
                                          "z2jh values.yaml for IMAGE")
    from repo2desktop.serve.huboptions import add_arguments as add_hub_arguments
    add_hub_arguments(p)
    p.set_defaults(func=cmd_hub_config)

    return parser


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    words = argv[1:argv.index("--") if "--" in argv else len(argv)]
    if argv[:1] == ["build"] and not {"-h", "--help"} & set(words):
        # repo2docker's options go before REPO, ours after it: both are accepted, so the
        # words are split by build.split_arguments, which knows which options take a value.
        args = argparse.Namespace(func=cmd_build, words=argv[1:])
    else:
        args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return e.exit_code
    except Repo2DesktopError as e:
        print(f"repo2desktop: {e}", file=sys.stderr)
        return e.exit_code
    except OSError as e:  # a file or folder we were pointed at cannot be used
        print(f"repo2desktop: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
