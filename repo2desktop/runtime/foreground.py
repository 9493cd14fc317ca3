"""The processes that hold one desktop in the foreground: ``up`` until Ctrl-C / SIGTERM, and
``session`` (jupyter-server-proxy's process) until Jupyter stops it. Each runs the desktop
through the one supervising loop (runner.py) and serves its page: `up` from its own small
server (pageserver.py), the session process through websockify (nbnovnc's overrides, or a
Jupyter server without the extension), a failure or a broken desktop.yml from pageserver.py on
the private socket. Both stop every process they started before returning."""
from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

from repo2desktop.config.model import DesktopConfig
from repo2desktop.errors import Repo2DesktopError, RuntimeStartError
from repo2desktop.runtime import allocate, guard, pageserver
from repo2desktop.runtime.runner import Runner, needs_websockify, say_to_stderr
from repo2desktop.runtime.session import DesktopSession


class _Stop(SystemExit):
    """Raised by our signal handlers. A SystemExit, so that neither an `except Exception` nor
    asyncio (which reports other exceptions of its callbacks and carries on) swallows it."""


def _raise_stop(signum, frame):
    raise _Stop()


def _install_signal_handlers() -> None:
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGHUP, _raise_stop)


async def _until(condition, every: float = 0.05) -> None:
    # A signal's _Stop leaves the event loop from here (the loop's select is interrupted).
    while not condition():
        await asyncio.sleep(every)


def _quiet(text: str) -> None:
    """`up` says what happens in its own words (below)."""


def run_up(config: DesktopConfig, port: int = 0, timeout: float = 60.0) -> int:
    if config.vnc.auth == "none":
        raise Repo2DesktopError(
            f"{config.source}: vnc.auth 'none' is only safe behind Jupyter's authenticated proxy; "
            "`up` serves noVNC on a TCP port that other local users can reach")
    port = port or allocate.free_port()
    if not allocate.port_is_free(port):
        raise Repo2DesktopError(f"port {port} is already in use on 127.0.0.1")
    # nbnovnc's overrides: websockify serves the session's files on the port; else our server.
    websockify = needs_websockify(config)
    desktop = Runner(config, DesktopSession(config, listen=f"tcp:{port}" if websockify else ""),
                     timeout=timeout, say=_quiet)
    _install_signal_handlers()
    try:
        placement = desktop.prepare()
        print(f"Starting display :{placement.display} ({config.vnc.server}, {config.window_manager}) "
              f"from {config.source} ...", flush=True)
        return asyncio.run(_up(desktop, port, websockify))
    except _Stop:
        print("\nStopping the desktop ...", file=sys.stderr)
        return 0
    except RuntimeStartError as e:
        print(f"repo2desktop: {e}", file=sys.stderr)
        return 1
    finally:
        desktop.stop()


async def _up(desktop: Runner, port: int, websockify: bool) -> int:
    from repo2desktop.viewer.page import render_page

    server = None if websockify else pageserver.serve(desktop, render_page(desktop.config), port=port)
    began = time.monotonic()
    desktop.ensure_started()
    await _until(lambda: desktop.status["state"] != "starting")
    if desktop.failure is None:
        through = "websockify" if websockify else "the VNC server"
        print(f"Desktop ready in {time.monotonic() - began:.1f} s (RFB handshake with {through}).")
        print(f"  noVNC: http://127.0.0.1:{port}/#&password={desktop.password}")
        print(f"  logs:  {desktop.placement.log_dir}")
        print("Press Ctrl-C to stop.", flush=True)
        await _until(lambda: desktop.failure is not None, every=0.2)
    if server is not None:
        server.stop()
    raise desktop.failure


def _attach(unix_socket: str, parent: int, timeout: float = 60.0) -> bool:
    """Wait for an eagerly started session on UNIX_SOCKET, then while it runs; False if none."""
    _install_signal_handlers()
    deadline = time.monotonic() + timeout
    try:
        while not guard.socket_answers(unix_socket):
            if time.monotonic() > deadline or os.getppid() != parent:
                return False
            time.sleep(0.2)
        while guard.socket_answers(unix_socket) and os.getppid() == parent:
            time.sleep(1.0)
    except _Stop:
        pass
    return True


def _end_with_parent() -> int:
    """The Jupyter server that started us is our parent: whatever way it ends (SIGTERM,
    POST /api/shutdown, SIGKILL) we get SIGTERM and stop the desktop. Returns the parent's
    pid, which the caller also watches (the signal is lost if the parent died before)."""
    parent = os.getppid()
    guard.die_with_parent()
    if os.getppid() != parent or parent == 1:
        raise _Stop()
    return parent


def run_session(config: DesktopConfig, unix_socket: str, xauthority: str = "", attach: bool = False,
                display_lock_holder: int = 0) -> int:
    """The process jupyter-server-proxy starts: websockify on a private unix socket.

    A failure is printed to stderr (Jupyter's log) *and* shown on the page; once nothing of
    the desktop runs (websockify gone with supervisord), our own server shows it on the socket.
    The session always ends with its parent.
    """
    _install_signal_handlers()
    try:
        parent = _end_with_parent()
    except _Stop:
        return 0
    if attach and _attach(unix_socket, parent, timeout=20.0):
        return 0
    desktop = Runner(config, DesktopSession(config, listen=f"unix:{unix_socket}", xauthority=xauthority,
                                            display_lock_holder=display_lock_holder), say=say_to_stderr)
    try:
        return asyncio.run(_session(desktop, unix_socket, parent))
    except _Stop:
        return 0
    finally:
        desktop.stop()


async def _session(desktop: Runner, unix_socket: str, parent: int) -> int:
    from repo2desktop.viewer.page import render_page

    desktop.ensure_started()
    await _until(lambda: os.getppid() != parent or desktop.finished, every=0.5)
    if os.getppid() != parent:
        return 0
    pageserver.serve(desktop, render_page(desktop.config, audio=False), unix_socket=unix_socket)
    await _until(lambda: os.getppid() != parent, every=0.5)
    return 1


def run_config_error(errors: str, unix_socket: str) -> int:
    """desktop.yml is broken: keep the Desktop tile working and show the located errors."""
    from repo2desktop.config.discover import defaults
    from repo2desktop.viewer.page import error_page

    _install_signal_handlers()
    print(f"repo2desktop: {errors}", file=sys.stderr, flush=True)
    desktop = Runner.failed(defaults(), RuntimeStartError("desktop.yml", "it has errors", errors), say=_quiet)
    try:
        parent = _end_with_parent()
        asyncio.run(_error_page(desktop, error_page(errors), unix_socket, parent))
    except _Stop:
        pass
    return 2


async def _error_page(desktop: Runner, html: str, unix_socket: str, parent: int) -> None:
    pageserver.serve(desktop, html, unix_socket=unix_socket)
    await _until(lambda: os.getppid() != parent, every=0.5)
