"""Shared helpers for the host tier: real desktops started with `repo2desktop up`."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from repo2desktop.runtime import probe
from tests.polling import wait_for

URL = re.compile(r"noVNC: http://127\.0\.0\.1:(\d+)/#&password=(\S+)")
LOGS = re.compile(r"logs:\s+(\S+)")


class UpProcess:
    """`python -m repo2desktop up` as a user runs it, read through its printed output."""

    def __init__(self, path: str, *extra: str, prefix=(), python: str = sys.executable, **popen):
        """PREFIX: a command that runs `up` (e.g. in another mount namespace); PYTHON and
        POPEN (user=, env=...): to run it as another account."""
        self.proc = subprocess.Popen(
            [*prefix, python, "-m", "repo2desktop", "up", path, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
        self.port = 0
        self.password = ""
        self.runtime_dir = ""
        self.output = []
        self.errors = ""

    def wait_ready(self, timeout: float = 60.0) -> "UpProcess":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                code = self.proc.wait()
                self.errors += self.proc.stderr.read()
                raise AssertionError(f"up exited ({code}): {self.errors}")
            self.output.append(line)
            if m := URL.search(line):
                self.port, self.password = int(m.group(1)), m.group(2)
            if m := LOGS.search(line):
                self.runtime_dir = os.path.dirname(m.group(1))
                return self
        raise AssertionError(f"no URL within {timeout} s: {self.output}")

    @property
    def listen(self) -> str:
        return f"tcp:{self.port}"

    def states(self) -> dict:
        return {i["name"]: i for i in probe.program_states(self.runtime_dir)}

    def stop(self, sig=signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.proc.stdout.closed:
            return self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self.output += self.proc.stdout.readlines()
        self.proc.stdout.close()
        self.errors += self.proc.stderr.read()
        self.proc.stderr.close()
        return code


@pytest.fixture
def write_config(tmp_path):
    def write(text: str, name: str = "desktop.yml") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return write


@pytest.fixture
def start_up():
    started = []

    def start(path: str, *extra: str) -> UpProcess:
        up = UpProcess(path, *extra)
        started.append(up)
        return up.wait_ready()
    yield start
    for up in started:
        try:
            up.stop()
        except subprocess.TimeoutExpired:
            up.proc.kill()


def processes_mentioning(text: str) -> list:
    """PIDs whose command line contains TEXT (a session's private runtime dir)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(name))
        except OSError:
            continue
    return found


def children(pid: int) -> list:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def wait_for_rfb(listen: str, timeout: float) -> float:
    began = time.monotonic()

    def answers() -> bool:
        try:
            return bool(probe.rfb_version(listen, timeout=1.0))
        except OSError:
            return False

    wait_for(answers, timeout, f"an RFB answer through websockify on {listen}", 0.1)
    return time.monotonic() - began
