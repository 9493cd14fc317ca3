"""One desktop's processes: display, runtime directory, supervisord, shutdown.

This is the adapter between the pure render() and the operating system. It writes the
rendered files into a private directory (mode 0700), starts supervisord, writes the status
that runner.py (the supervising loop: readiness, failures) decides into web/session.json
where websockify serves the page from files, and guarantees that
stopping leaves no process behind: every process of the session inherits a marker
variable, and whatever still carries it after supervisord exits is killed. A guard process
(guard.py) does the same clean-up if this process is killed without a chance to do it.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Dict, Optional

from repo2desktop.config import schema
from repo2desktop.config.model import DesktopConfig
from repo2desktop.errors import RuntimeStartError
from repo2desktop.render import VIEWER_PAGES, Placement, render, viewer_page
from repo2desktop.resources import viewer_files
from repo2desktop.runtime import allocate, guard, occupancy, vncpasswd, xauth, xsocket
from repo2desktop.runtime.guard import MARKER, marked_processes as session_processes  # noqa: F401 (API)
from repo2desktop.vncservers import process_names


def _websockify_executable() -> str:
    # The websockify installed beside this package (PyPI 0.13: it can listen on a unix socket).
    candidate = os.path.join(os.path.dirname(sys.executable), "websockify")
    return candidate if os.path.exists(candidate) else (shutil.which("websockify") or "websockify")


def log_tail(path: str, lines: int = 20) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 8192))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class DesktopSession:
    def __init__(self, config: DesktopConfig, listen: Optional[str] = None,
                 display: Optional[int] = None, runtime_root: Optional[str] = None,
                 status_has_password: Optional[bool] = None, xauthority: str = "",
                 display_lock_holder: int = 0):
        self.config = config
        self._listen = listen
        self._display = display
        self._runtime_root = runtime_root
        self.runtime_dir = ""
        self.placement: Optional[Placement] = None
        self.password = ""
        self.process: Optional[subprocess.Popen] = None
        # Only a private unix socket may hand the password to the page; a TCP port cannot.
        self._status_has_password = status_has_password
        self.session_id = os.urandom(8).hex()
        self._xauthority = xauthority
        # The process whose X lock reserves our display (a Jupyter server), until we start X.
        self._display_lock_holder = display_lock_holder
        self._reservation: Optional[allocate.Reservation] = None
        self._held: list = []  # sockets held for the session's life (an abstract X socket name)
        self._guard: Optional[guard.Guard] = None

    # -- preparation ---------------------------------------------------------------
    def prepare(self) -> Placement:
        cfg = self.config
        try:
            # Before anything else: a folder of X sockets that another user controls would
            # hand them the desktop (xsocket.py).
            xsocket.check_socket_folder()
        except xsocket.UnsafeXSocketFolder as e:
            raise RuntimeStartError("x-session", str(e)) from e
        binds_abstract = xsocket.config_server_binds_abstract_name(cfg)
        held = []
        if self._display is not None:
            display = self._display
        elif cfg.display.number is not None:
            display = cfg.display.number
        else:
            try:
                self._reservation = allocate.reserve_display(
                    schema.FIRST_DISPLAY, needs_vnc_port=cfg.vnc.uses_tcp_port, hold_abstract=not binds_abstract)
            except allocate.DisplayUnavailable as e:
                raise RuntimeStartError("x-session", str(e)) from e
            display = self._reservation.number
        if not binds_abstract and not self._reservation and not self._display_lock_holder:
            # A display chosen in desktop.yml: nobody reserved it, so its abstract X socket
            # name is ours to hold (a Jupyter server's guard holds it for the display it gave).
            name = xsocket.hold_abstract_name(display)
            if name is None:
                holder = occupancy.abstract_socket(display) or "held by another process"
                raise RuntimeStartError("x-session", f"display :{display} is {holder} "
                                        "(it would receive your X clients' connections)")
            held.append(name)
        self.runtime_dir = tempfile.mkdtemp(prefix=f"repo2desktop-{os.getuid()}-", dir=self._runtime_root)
        # From here on something exists that must not outlive us, even if we are SIGKILLed.
        reservation = self._reservation
        self._guard = guard.start_guard(
            self.session_id, display, [self.runtime_dir],
            x_lock_pids=[reservation.x_lock_pid] if reservation else [],
            locks=reservation.lock_files if reservation else [],
            held_fds=[*(reservation.held_fds if reservation else []), *[s.fileno() for s in held]])
        self._held = held
        # "": no websockify (the Jupyter server relays the websocket itself, page.py).
        listen = self._listen if self._listen is not None else f"unix:{self.runtime_dir}/websockify.sock"
        password_file = None
        if cfg.vnc.auth == "password":
            self.password = vncpasswd.new_password()
            password_file = os.path.join(self.runtime_dir, "vnc-passwd")
            vncpasswd.write_password_file(password_file, self.password)
        self.placement = Placement(self.runtime_dir, display, listen, password_file,
                                 _websockify_executable(), xauthority=self._xauthority)
        xauth.write_xauthority(self.placement.xauthority_file, display)
        if self._status_has_password is None:
            self._status_has_password = listen.startswith("unix:")
        self._write_files()
        from repo2desktop.runtime.home import install_home_files
        install_home_files(cfg, self.placement, os.path.expanduser("~"))
        return self.placement

    def _write_files(self) -> None:
        assert self.placement is not None
        os.makedirs(self.placement.log_dir, mode=0o700, exist_ok=True)
        os.makedirs(self.placement.web_dir, mode=0o700, exist_ok=True)
        for relative, rendered in render(self.config, self.placement).items():
            path = os.path.join(self.runtime_dir, relative)
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, rendered.mode)
            with os.fdopen(fd, "w") as f:
                f.write(rendered.text)
            os.chmod(path, rendered.mode)
        novnc = self.config.novnc.directory
        if novnc is None:
            try:
                sources = viewer_files()  # the bundled page and its one module
            except RuntimeError as e:
                raise RuntimeStartError("websockify", str(e)) from e
        elif os.path.isdir(novnc):
            sources = {entry: os.path.join(novnc, entry) for entry in os.listdir(novnc)}
        else:
            raise RuntimeStartError("websockify", f"noVNC directory {novnc} does not exist "
                                    "(remove novnc.directory to use the bundled viewer)")
        for entry, source in sources.items():
            target = os.path.join(self.placement.web_dir, entry)
            if os.path.exists(target):
                continue
            if novnc is not None and entry in VIEWER_PAGES:
                # Our copy of noVNC's page keeps reconnecting while the session runs (the
                # bundled viewer reconnects by itself).
                with open(source, encoding="utf-8", errors="replace") as f:
                    page = viewer_page(f.read())
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(page)
            else:
                os.symlink(source, target)
        self.write_status("starting", {})

    def preflight(self) -> None:
        """Fail at once, by name, when a program's executable is missing."""
        import shlex
        from repo2desktop.render import websockify_command, x_session_command

        x_words = shlex.split(x_session_command(self.config, self.placement))
        server = x_words[x_words.index("--") + 1] if "--" in x_words else x_words[0]
        checks = [("x-session", x_words[0]), ("x-session", server),
                  ("websockify", shlex.split(websockify_command(self.config, self.placement))[0]),
                  ("supervisord", shutil.which("supervisord") or "/usr/bin/supervisord")]
        for program, executable in checks:
            if not (shutil.which(executable) or os.access(executable, os.X_OK)):
                raise RuntimeStartError(program, f"{executable} is not installed (not found or not executable)")

    def write_status(self, state: str, programs: Dict[str, str], failed: Optional[dict] = None) -> None:
        status = {"state": state, "programs": programs}
        if failed:
            status["failed"] = failed
        if state == "ready" and self._status_has_password and self.password:
            status["password"] = self.password
        path = os.path.join(self.placement.web_dir, "session.json")
        fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(status, f)
        os.replace(path + ".tmp", path)

    # -- running -------------------------------------------------------------------
    def start(self) -> None:
        if self.placement is None:
            self.prepare()
        self.preflight()  # the runner reports a failure (runner.py)
        env = dict(os.environ)
        env[MARKER] = self.session_id
        env["DISPLAY"] = f":{self.placement.display}"
        supervisord = shutil.which("supervisord") or "/usr/bin/supervisord"
        # The X lock reserving our display (ours, or that of the Jupyter server that gave it
        # to us) is handed over to our X server; what a killed X server left is removed.
        holder = self._display_lock_holder or (self._reservation.x_lock_pid if self._reservation else 0)
        if allocate.hand_over_x_lock(self.placement.display, holder):
            guard.remove_stale_x_socket(self.placement.display)
        else:
            guard.remove_stale_x_files(self.placement.display)
        self.process = subprocess.Popen(
            [supervisord, "--nodaemon", "--configuration",
             os.path.join(self.runtime_dir, "supervisord.conf")],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True,  # a Ctrl-C in the terminal reaches us, not supervisord
            preexec_fn=_supervisord_preexec,
        )

    # -- stopping ------------------------------------------------------------------
    def stop(self, timeout: float = 10.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            # supervisord acts on signals only at its next tick (up to a second later), and
            # a shell in a terminal ignores SIGTERM. The X server is told directly; once it
            # has gone (its clients with it), whatever is left is killed.
            for pid in session_processes(self.session_id):
                if _command_name(pid) in X_SERVER_NAMES:
                    try:
                        os.kill(pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
            deadline = time.monotonic() + timeout
            while self.process.poll() is None and time.monotonic() < deadline:
                if not [pid for pid in session_processes(self.session_id)
                        if _command_name(pid) in X_SERVER_NAMES]:
                    break
                time.sleep(0.02)
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # What supervisord did not stop (it was killed, or a program escaped its group).
        guard.clean_up(self.session_id, self.placement.display if self.placement else None,
                       [self.runtime_dir] if self.runtime_dir else [])
        if self._reservation is not None:
            self._reservation.release()
        for sock in self._held:
            sock.close()
        if self._guard is not None:
            self._guard.finish()


X_SERVER_NAMES = process_names()


def _supervisord_preexec() -> None:
    """In supervisord's child before exec: SIGTERM it if we die (even by SIGKILL), and make
    it the reaper of the desktop's orphans.

    Programs the desktop starts in the background (autostart's `sh -c APP &`, a window
    manager's launch shells) outlive the shell that started them. Without a subreaper they
    are re-parented to PID 1, which in an image is repo2docker's entrypoint: it never reaps
    them, so each one that ends stays a zombie (`[sh] <defunct>`). supervisord reaps every
    child it gets ("reaped unknown pid"); the attribute survives execve.
    """
    guard.die_with_parent()
    guard.reap_orphans()


def _command_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""
