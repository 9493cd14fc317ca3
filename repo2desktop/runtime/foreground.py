"""Run one desktop in the foreground until Ctrl-C / SIGTERM (``up``) or until Jupyter stops it
(``session``). Both stop every process they started before returning."""
from __future__ import annotations

import os
import signal
import sys
import time

from repo2desktop.config.model import DesktopConfig
from repo2desktop.errors import Repo2DesktopError, RuntimeStartError
from repo2desktop.runtime import allocate, guard
from repo2desktop.runtime.session import DesktopSession


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


def run_session(config: DesktopConfig, unix_socket: str, exit_with_parent: bool = True,
                xauthority: str = "", attach: bool = False, display_lock_holder: int = 0) -> int:
    """The process jupyter-server-proxy starts: websockify on a private unix socket.

    A failure is printed to stderr (Jupyter's log) *and* kept on the starting page, which
    websockify goes on serving, so the browser shows the failing program and its log.
    The session always ends with its parent (EXIT_WITH_PARENT is kept for old callers).
    """
    _install_signal_handlers()
    try:
        parent = _end_with_parent()
    except _Stop:
        return 0
    if attach and _attach(unix_socket, parent, timeout=20.0):
        return 0
    desktop = DesktopSession(config, listen=f"unix:{unix_socket}", xauthority=xauthority,
                             display_lock_holder=display_lock_holder)
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
            if os.getppid() != parent:
                return 0
            if failure is not None and desktop.process.poll() is not None:
                return 1
            time.sleep(0.5)
    except _Stop:
        return 0
    finally:
        desktop.stop()


def run_config_error(errors: str, unix_socket: str) -> int:
    """desktop.yml is broken: keep the Desktop tile working and show the located errors."""
    import shutil
    import tempfile

    from repo2desktop.render import error_page

    _install_signal_handlers()
    print(f"repo2desktop: {errors}", file=sys.stderr, flush=True)
    web_dir = ""
    try:
        _end_with_parent()
        web_dir = tempfile.mkdtemp(prefix=f"repo2desktop-{os.getuid()}-")
        fd = os.open(os.path.join(web_dir, "index.html"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(error_page(errors))
        _serve_status_page(web_dir, unix_socket)
    except _Stop:
        pass
    finally:
        if web_dir:
            shutil.rmtree(web_dir, ignore_errors=True)
    return 2


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
