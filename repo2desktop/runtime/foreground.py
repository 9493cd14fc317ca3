"""Run one desktop in the foreground until Ctrl-C / SIGTERM (``up``) or until Jupyter stops it
(``session``). Both stop every process they started before returning."""
from __future__ import annotations

import os
import signal
import sys
import time

from ..config import DesktopConfig
from ..errors import Repo2DesktopError, RuntimeStartError
from . import allocate
from .session import DesktopSession


class _Stop(BaseException):
    """Raised by our signal handlers; a BaseException so no `except Exception` swallows it."""


def _raise_stop(signum, frame):
    raise _Stop()


def _install_signal_handlers() -> None:
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGHUP, _raise_stop)


def run_up(config: DesktopConfig, port: int = 0, timeout: float = 60.0) -> int:
    if config.vnc.auth == "none":
        raise Repo2DesktopError(
            f"{config.source}: vnc.auth 'none' is only safe behind Jupyter's authenticated proxy; "
            "`up` serves noVNC on a TCP port that other local users can reach")
    port = port or allocate.free_port()
    if not allocate.port_is_free(port):
        raise Repo2DesktopError(f"port {port} is already in use on 127.0.0.1")
    desktop = DesktopSession(config, listen=f"tcp:{port}")
    _install_signal_handlers()
    try:
        session = desktop.prepare()
        desktop.start()
        print(f"Starting display :{session.display} ({config.vnc.server}, {config.window_manager}) "
              f"from {config.source} ...", flush=True)
        took = desktop.wait_ready(timeout)
        print(f"Desktop ready in {took:.1f} s (RFB handshake through websockify).")
        print(f"  noVNC: http://127.0.0.1:{port}/#&password={desktop.password}")
        print(f"  logs:  {session.log_dir}")
        print("Press Ctrl-C to stop.", flush=True)
        while True:
            failure = desktop.poll_once()
            if failure is not None:
                raise failure
            time.sleep(1.0)
    except _Stop:
        print("\nStopping the desktop ...", file=sys.stderr)
        return 0
    except RuntimeStartError as e:
        print(f"repo2desktop: {e}", file=sys.stderr)
        return 1
    finally:
        desktop.stop()


def _answers(unix_socket: str) -> bool:
    import socket as _socket

    with _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(unix_socket)
            return True
        except OSError:
            return False


def _attach(unix_socket: str, timeout: float = 60.0) -> bool:
    """Wait for an eagerly started session on UNIX_SOCKET, then while it runs; False if none."""
    _install_signal_handlers()
    deadline = time.monotonic() + timeout
    try:
        while not _answers(unix_socket):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        while _answers(unix_socket):
            time.sleep(2.0)
    except _Stop:
        pass
    return True


def run_session(config: DesktopConfig, unix_socket: str, exit_with_parent: bool = False,
                xauthority: str = "", attach: bool = False) -> int:
    """The process jupyter-server-proxy starts: websockify on a private unix socket.

    A failure is printed to stderr (Jupyter's log) *and* kept on the starting page, which
    websockify goes on serving, so the browser shows the failing program and its log.
    """
    if attach and _attach(unix_socket, timeout=20.0):
        return 0
    parent = os.getppid()
    desktop = DesktopSession(config, listen=f"unix:{unix_socket}", xauthority=xauthority)
    _install_signal_handlers()
    reported = False
    try:
        session = desktop.prepare()
        try:
            desktop.start()
        except RuntimeStartError as failure:
            # Nothing of the desktop runs, but the browser must still learn why.
            print(f"repo2desktop: {failure}", file=sys.stderr, flush=True)
            _serve_status_page(session.web_dir, unix_socket)
            return 1
        print(f"repo2desktop: starting display :{session.display} ({config.vnc.server}); "
              f"logs in {session.log_dir}", file=sys.stderr, flush=True)
        while True:
            was_ready = desktop.ready
            failure = desktop.poll_once()
            if failure is not None and not reported:
                print(f"repo2desktop: {failure}", file=sys.stderr, flush=True)
                reported = True
            if desktop.ready and not was_ready:
                print(f"repo2desktop: display :{session.display} is ready", file=sys.stderr, flush=True)
            if exit_with_parent and os.getppid() != parent:
                return 0
            if failure is not None and desktop.process.poll() is not None:
                return 1
            time.sleep(0.5)
    except _Stop:
        return 0
    finally:
        desktop.stop()


def _serve_status_page(web_dir: str, unix_socket: str) -> None:
    """Serve the starting page (now showing the failure) on the socket until stopped."""
    import functools
    import http.server
    import socketserver

    class UnixHTTPServer(socketserver.ThreadingUnixStreamServer):
        daemon_threads = True

    class Handler(http.server.SimpleHTTPRequestHandler):
        def address_string(self):  # a unix socket has no client address
            return "jupyter-server-proxy"

        def log_message(self, format, *args):
            pass

    if os.path.exists(unix_socket):
        os.unlink(unix_socket)
    with UnixHTTPServer(unix_socket, functools.partial(Handler, directory=web_dir)) as server:
        os.chmod(unix_socket, 0o600)
        server.serve_forever()
