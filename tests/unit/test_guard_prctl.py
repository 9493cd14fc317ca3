"""guard's two prctl requests, on real processes: a child that dies with its parent (CHP,
parec, supervisord) and a process that reaps its descendants' orphans (supervisord)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

from repo2desktop.runtime import guard
from tests.polling import wait_for

# A middle process that starts a sleeper and ends; the sleeper's pid goes to stdout.
MIDDLE = """
import os, subprocess, sys
from repo2desktop.runtime import guard
mode = sys.argv[1]
if mode == "die-with-parent":
    child = subprocess.Popen(["sleep", "30"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             preexec_fn=guard.die_with_parent)
    print(child.pid, flush=True)
    os._exit(0)  # no cleanup: the kernel alone must end the sleeper
guard.reap_orphans()
shell = subprocess.run(["sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $!"], capture_output=True, text=True)
orphan = int(shell.stdout)
with open(f"/proc/{orphan}/stat") as f:
    parent = int(f.read().rsplit(")", 1)[1].split()[1])
os.kill(orphan, 15)
if parent == os.getpid():
    os.waitpid(orphan, 0)
print(orphan, parent, os.getpid(), flush=True)
"""


def _middle(mode: str) -> str:
    return subprocess.run([sys.executable, "-c", MIDDLE, mode], capture_output=True, text=True,
                          check=True, timeout=30).stdout


def test_a_child_asking_to_die_with_its_parent_ends_when_the_parent_does():
    sleeper = int(_middle("die-with-parent"))
    try:
        wait_for(lambda: not guard.is_alive(sleeper), 10, f"sleep (pid {sleeper}) ending with its parent", 0.02)
    finally:
        if guard.is_alive(sleeper):
            os.kill(sleeper, signal.SIGKILL)


def test_a_reaper_adopts_the_orphans_of_its_descendants():
    orphan, parent, reaper = map(int, _middle("reap").split())
    assert parent == reaper, f"the orphan {orphan} went to {parent}, not to the reaper {reaper}"
