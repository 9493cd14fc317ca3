"""The one supervising loop: a desktop started on demand and watched until it is stopped.

Every way a desktop runs goes through a Runner: the Jupyter server's page (jupyter/page.py, a
thread of the server), `repo2desktop up` and the session process behind jupyter-server-proxy
(runtime/foreground.py), and the error page of a broken desktop.yml (a Runner that failed
before it started). The loop, in a thread of its own:

- prepares and starts the session (runtime/session.py: files, display, supervisord);
- reads supervisord's view of every program and classifies failures (a FATAL program, an
  essential one started three times without a desktop, supervisord gone, no answer in time);
- probes until *our* VNC server answers with the session's own password, then calls the
  desktop ready;
- keeps ``status`` (``{"state": "starting"|"ready"|"failed", "programs": {...}}``) for the
  pages, and writes it to session.json where websockify serves the page from files.

supervisord is spawned from the loop's thread with PR_SET_PDEATHSIG, which fires when the
*thread* ends: the thread lives as long as the desktop.
"""
from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import xmlrpc.client
from typing import Callable, Dict, List, Optional

from repo2desktop.config.model import DesktopConfig
from repo2desktop.errors import Repo2DesktopError, RuntimeStartError
from repo2desktop.runtime import probe
from repo2desktop.runtime.session import DesktopSession, log_tail

# Programs without which there is no desktop to show (websockify only where it runs).
ESSENTIAL = ("x-session", "websockify")
ALIVE = ("STARTING", "RUNNING")
START_LIMIT = 60.0  # seconds from the start to an RFB answer before the start counts as failed


def needs_websockify(config: DesktopConfig) -> bool:
    """nbnovnc's overrides (``novnc.directory``, ``vnc.command``, ``websockify.command``) are
    honoured only by websockify serving the session's files; every other desktop is served by
    the Jupyter server's page or `up`'s own server (pageserver.py)."""
    return not (config.novnc.directory is None and config.vnc.command is None
                and config.websockify.command is None)


def _say(text: str) -> None:
    print(f"repo2desktop: {text}", flush=True)


def classify(states: List[dict], pids_seen: Dict[str, set], ready: bool) -> Optional[RuntimeStartError]:
    """The failure supervisord's STATES show, if any (PIDS_SEEN: each program's pids so far,
    updated here)."""
    for info in states:
        if info["pid"]:
            pids_seen.setdefault(info["name"], set()).add(info["pid"])
        starts = len(pids_seen.get(info["name"], ()))
        if not ready and info["name"] in ESSENTIAL and starts > 2:
            # Some failures outlast startsecs (xinit waits for a server that never comes), so
            # supervisord would retry forever: three starts without a desktop is a failure
            # worth telling the user about.
            return RuntimeStartError(info["name"], f"started {starts} times and the desktop never answered",
                                     log_tail(info.get("stdout_logfile", "")))
        # BACKOFF is supervisord retrying (e.g. the X server was killed while starting); only
        # FATAL, after startretries attempts, means the program cannot run.
        if info["statename"] == "FATAL":
            reason = info.get("spawnerr") or "it kept exiting right after it started"
            return RuntimeStartError(info["name"], reason, log_tail(info.get("stdout_logfile", "")))
    return None


class Runner:
    """One desktop: ``ensure_started`` starts it (once), ``status`` says how it is, ``wait``
    waits for it (in an event loop), ``stop`` ends it and every process it started."""

    def __init__(self, config: DesktopConfig, session: Optional[DesktopSession],
                 timeout: float = START_LIMIT, vnc_link: str = "", say: Callable[[str], None] = _say):
        self.config = config
        self.session = session
        self.timeout = timeout
        # A fixed path known before the desktop starts (the Jupyter server's private folder),
        # made a link to the VNC server's socket once the session has its runtime folder.
        self._vnc_link = vnc_link
        self._say = say
        self.status: Dict = {"state": "starting", "programs": {}}
        self.failure: Optional[RuntimeStartError] = None
        self.ready = False
        self._pids_seen: Dict[str, set] = {}
        self._lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None
        self._stopping = threading.Event()
        self._stopped = threading.Lock()
        self._prepared = False  # something of the session may exist: stop() must clean up

    @classmethod
    def failed(cls, config: DesktopConfig, failure: RuntimeStartError, say: Callable[[str], None] = _say) -> "Runner":
        """A desktop that cannot start at all (desktop.yml is broken): its page shows why."""
        runner = cls(config, None, say=say)
        runner._fail(failure, {})
        return runner

    # -- what the pages and the relay ask ----------------------------------------------
    @property
    def placement(self):
        return self.session.placement if self.session is not None else None

    @property
    def display(self) -> int:
        placement = self.placement
        return placement.display if placement is not None else self.session._display

    @property
    def vnc_socket(self) -> str:
        return self._vnc_link or (self.placement.vnc_socket if self.placement else "")

    @property
    def password(self) -> str:
        return self.session.password if self.session is not None else ""

    def public_status(self, with_password: bool = True) -> Dict:
        """The status for a page; the VNC password only where the page may have it."""
        status = dict(self.status)
        if with_password and status["state"] == "ready" and self.password:
            status["password"] = self.password
        return status

    async def wait(self, seconds: float, with_password: bool = True) -> Dict:
        deadline = time.monotonic() + seconds
        while self.status["state"] == "starting" and time.monotonic() < deadline:
            await asyncio.sleep(0.03)
        return self.public_status(with_password)

    # -- the loop ------------------------------------------------------------------------
    def prepare(self):
        """Reserve the display and write the session's files now (`up` does, to say which
        display before it starts); the loop then starts what is prepared."""
        self._prepared = True
        return self.session.prepare()

    def ensure_started(self) -> None:
        with self._lock:
            if self._thread is None and self.session is not None and not self._stopping.is_set():
                self._thread = threading.Thread(target=self._run, name="repo2desktop", daemon=True)
                self._thread.start()

    def _publish(self, status: Dict) -> None:
        self.status = status
        placement = self.placement
        if placement is not None and placement.listen and os.path.isdir(placement.web_dir):
            # websockify serves the page from files: its session.json says the same.
            self.session.write_status(status["state"], status["programs"], status.get("failed"))

    def _fail(self, failure: RuntimeStartError, programs: Dict[str, str]) -> None:
        if self.status.get("state") != "failed":
            self._say(str(failure))
        self.failure = failure
        self._publish({"state": "failed", "programs": programs,
                       "failed": {"program": failure.program, "reason": failure.reason,
                                  "log_tail": failure.log_tail}})

    def _start(self) -> bool:
        session = self.session
        try:
            if session.placement is None:
                self.prepare()
            if self._vnc_link and self.config.vnc.uses_unix_socket:
                if os.path.lexists(self._vnc_link):
                    os.unlink(self._vnc_link)
                os.symlink(session.placement.vnc_socket, self._vnc_link)
            session.start()
        except RuntimeStartError as failure:
            self._fail(failure, {})
            return False
        except (OSError, Repo2DesktopError) as e:
            self._fail(RuntimeStartError("x-session", str(e)), {})
            return False
        self._say(f"starting display :{session.placement.display} ({self.config.vnc.server}); "
                  f"logs in {session.placement.log_dir}")
        return True

    def _states(self) -> List[dict]:
        try:
            return probe.program_states(self.session.runtime_dir)
        except (OSError, xmlrpc.client.Error):  # supervisord not answering yet
            return []

    def _answers(self) -> bool:
        """*Our* VNC server answers: it accepts the session's own password (or offers no
        authentication on TigerVNC's private socket with vnc.auth none). Through websockify
        where it runs; else the VNC server itself."""
        placement = self.placement
        if placement.listen:
            target, path = placement.listen, "/websockify"
        elif self.config.vnc.uses_unix_socket:
            target, path = f"unix:{placement.vnc_socket}", None
        else:
            target, path = f"tcp:{placement.vnc_port}", None
        try:
            probe.rfb_authenticate(target, self.password, path=path, timeout=0.5)
            return True
        except OSError:
            return False

    def _run(self) -> None:
        if not self._start():
            return
        session = self.session
        began = time.monotonic()
        while not self._stopping.is_set():
            states = self._states()
            programs = {info["name"]: info["statename"] for info in states}
            if session.process.poll() is not None:
                err = (session.process.stderr.read() or b"").decode(errors="replace") if session.process.stderr else ""
                self._fail(RuntimeStartError(
                    "supervisord", f"exited with code {session.process.returncode}",
                    err or log_tail(os.path.join(session.placement.log_dir, "supervisord.log"))), programs)
                return
            failure = classify(states, self._pids_seen, self.ready)
            if failure is not None:
                self._fail(failure, programs)
            elif not self.ready:
                # Probe only until the first answer: afterwards the page reconnects by itself,
                # and each probe would add lines to the VNC server's log.
                wanted = ("x-session", "websockify") if session.placement.listen else ("x-session",)
                if all(programs.get(name) in ALIVE for name in wanted) and self._answers():
                    self.ready = True
                    self._say(f"display :{session.placement.display} is ready "
                              f"{time.monotonic() - began:.2f} s after the start")
                elif time.monotonic() - began > self.timeout:
                    waiting = [name for name in wanted if programs.get(name) != "RUNNING"] or ["x-session"]
                    self._fail(RuntimeStartError(waiting[0], f"no RFB answer within {self.timeout:.0f} s", log_tail(
                        os.path.join(session.placement.log_dir, f"{waiting[0]}.log"))), programs)
            if self.status.get("state") != "failed":
                state = "ready" if self.ready else "starting"
                if self.status != {"state": state, "programs": programs}:
                    self._publish({"state": state, "programs": programs})
            # Quick polls only while starting; then once a second (a failed desktop whose
            # supervisord still runs is watched too, not hammered).
            self._stopping.wait(0.05 if self.status["state"] == "starting" else 1.0)

    @property
    def finished(self) -> bool:
        """The loop has ended (supervisord exited, or the start failed): nothing runs."""
        return self._thread is not None and not self._thread.is_alive()

    def stop(self) -> None:
        """Stop the desktop and every process it started (within about a second)."""
        self._stopping.set()
        if not self._stopped.acquire(blocking=False):
            return  # stopped (or stopping) already
        if self.session is not None and (self._prepared or self._thread is not None):
            self.session.stop(timeout=2.0)
        if self._vnc_link and os.path.lexists(self._vnc_link):
            os.unlink(self._vnc_link)


def say_to_stderr(text: str) -> None:
    print(f"repo2desktop: {text}", file=sys.stderr, flush=True)
