"""Is the test suite strong enough? Plant ten known bugs, one at a time, and see which tests catch them.

Each bug is one exact text replacement in one source file (or of every occurrence there), with
a small, fixed selection of tests that should fail because of it (unit and host tiers only, so
the whole check takes minutes, not the full suite). The bugs are planted in a copy of the
working tree, never in the tree itself: the copy is made once, each bug is written into the
copy's file and that file restored before the next one, and the copy is deleted at the end
(also on Ctrl-C or SIGTERM). The tests import the copy (PYTHONPATH, inherited by the commands
they start).

    python scripts/mutation_check.py                # every bug, after a clean run of the selection
    python scripts/mutation_check.py --only B5 B9   # some of them
    make mutation

A bug whose text is no longer in its file (the code moved) is reported as "not applied": update
its row here. Exit status: 0 when every applied bug was caught and the clean run passed.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
# Not copied: history, build output, caches. The viewer's bundle (generated, in
# repo2desktop/viewer/dist) is copied: the desktops the host tests start serve it.
TOP_SKIP = {".git", "build", "dist"}
ANY_SKIP = shutil.ignore_patterns("node_modules", "__pycache__", ".pytest_cache", ".hypothesis", "*.egg-info")


def copy_tree(source: Path, copy: Path) -> None:
    def skip(folder: str, names: List[str]) -> set:
        top = TOP_SKIP & set(names) if Path(folder) == source else set()
        return set(ANY_SKIP(folder, names)) | top
    shutil.copytree(source, copy, ignore=skip, symlinks=True)


@dataclass(frozen=True)
class Bug:
    key: str
    what: str
    path: str  # relative to the repository
    old: str  # once in the file (or, with EVERY, at least once)
    new: str
    tests: Tuple[str, ...]  # pytest arguments: files or node ids
    every: bool = False  # replace every occurrence of OLD (at least one), not exactly one

    @property
    def tier(self) -> str:
        return "+".join(sorted({t.split("/")[1] for t in self.tests}))


BUGS = (
    Bug("B1", "wrong default: display.geometry 1024x768 instead of 1280x800",
        "repo2desktop/config/schema.py",
        'K("display.geometry", "geometry", "WIDTHxHEIGHT", default="1280x800"',
        'K("display.geometry", "geometry", "WIDTHxHEIGHT", default="1024x768"',
        ("tests/unit/test_render_golden.py", "tests/unit/test_schema.py")),
    Bug("B2", "TightVNC's argv without -localhost (VNC port on every interface)",
        "repo2desktop/vncservers/tightvnc.py",
        '"-localhost", "-alwaysshared",', '"-alwaysshared",',
        ("tests/unit/test_render_golden.py", "tests/unit/test_render_structure.py")),
    Bug("B3", "supervisord.conf written readable by everyone (0644)",
        "repo2desktop/render/__init__.py",
        '"supervisord.conf": ("supervisord.conf.j2", 0o600, {}),',
        '"supervisord.conf": ("supervisord.conf.j2", 0o644, {}),',
        ("tests/unit/test_render_structure.py", "tests/unit/test_properties.py")),
    Bug("B4", "window-manager branch: xfce4/mate get no XDG autostart entry (autostart never runs)",
        "repo2desktop/render/__init__.py",
        "    if config.uses_xdg_autostart:\n", "    if False:\n",
        ("tests/unit/test_render_structure.py", "tests/unit/test_properties.py")),
    Bug("B5", "the guard does not end the session's processes when its owner dies",
        "repo2desktop/runtime/guard.py",
        "    if session_id:\n        end_session_processes(session_id)\n",
        "    if session_id:\n        pass\n",
        ("tests/host/test_lifetime.py::test_sigkill_of_up_leaves_nothing",)),
    Bug("B6", "a display reserved without its flocks (our own and the legacy reservation file)",
        "repo2desktop/runtime/allocate.py",
        "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)", "pass", ("tests/unit/test_allocate.py",),
        every=True),
    Bug("B7", "serve's drain takes spares out one by one, not under the lock first (a visitor "
        "can claim one being removed)",
        "repo2desktop/serve/pool.py",
        "            for slot in idle:\n                self._take_out(slot)\n        for slot in idle:\n"
        "            self.remove(slot, \"drained\", taken_out=True)",
        "        for slot in idle:\n            self.remove(slot, \"drained\", taken_out=False)",
        ("tests/unit/test_serve_pool.py",)),
    Bug("B8", "upload's name check lets '/' through (writes outside ~/Desktop)",
        "repo2desktop/jupyter/upload.py",
        'name in (".", "..") or "/" in name or', 'name in (".", "..") or',
        ("tests/unit/test_upload.py",)),
    Bug("B9", "upload's XSRF check skipped",
        "repo2desktop/jupyter/upload.py",
        "    class UploadHandler(JupyterHandler):\n",
        "    class UploadHandler(JupyterHandler):\n        def check_xsrf_cookie(self):\n            return None\n\n",
        ("tests/host/test_using_desktop.py::test_upload_into_desktop_folder",)),
    Bug("B10", "VNC authentication's DES key not bit-mirrored (the right password is refused)",
        "repo2desktop/runtime/vncpasswd.py",
        'return bytes(int(f"{b:08b}"[::-1], 2) for b in raw)', "return bytes(raw)",
        ("tests/unit/test_vncpasswd.py",
         "tests/host/test_up.py::test_the_password_opens_the_desktop_after_start_up")),
)


@dataclass
class Outcome:
    bug: Bug
    status: str  # caught / MISSED / not applied / error
    failed: List[str]
    seconds: float


def run_pytest(copy: Path, args: Sequence[str], report: Path, timeout: float) -> Tuple[int, List[str], str]:
    """Run pytest on ARGS in COPY; (exit code, the failed or erroring test ids, output tail)."""
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               f"--junitxml={report}", *args]
    try:
        result = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, [], f"timed out after {timeout:.0f} s"
    failed = []
    if report.exists():
        for case in ET.parse(report).getroot().iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                name = case.get("name", "")
                name = name if len(name) <= 70 else name[:67] + "...]"  # long parameters cut
                failed.append(f"{case.get('classname', '').rsplit('.', 1)[-1]}::{name}")
        report.unlink()
    tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:])
    return result.returncode, failed, tail


def check_copy_is_imported(copy: Path) -> None:
    out = subprocess.run([sys.executable, "-c", "import repo2desktop; print(repo2desktop.__file__)"],
                         cwd="/", env={**os.environ, "PYTHONPATH": str(copy)},
                         capture_output=True, text=True, check=True).stdout.strip()
    if not out.startswith(str(copy)):
        sys.exit(f"mutation_check: the tests would import {out}, not the copy in {copy}")


def plant(copy: Path, bug: Bug) -> Optional[str]:
    """Write BUG into the copy's file; the original text (None if the bug's text is not
    there, or not once when the bug replaces one occurrence)."""
    path = copy / bug.path
    original = path.read_text(encoding="utf-8")
    found = original.count(bug.old)
    if found == 0 or (found > 1 and not bug.every):
        return None
    path.write_text(original.replace(bug.old, bug.new), encoding="utf-8")
    return original


def table(outcomes: Sequence[Outcome]) -> str:
    rows = [("bug", "tier", "result", "caught by", "what")]
    for o in outcomes:
        shown = ", ".join(o.failed[:3]) + (f" (+{len(o.failed) - 3} more)" if len(o.failed) > 3 else "")
        rows.append((o.bug.key, o.bug.tier, f"{o.status} ({o.seconds:.0f} s)", shown or "-", o.bug.what))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4] for r in rows)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", metavar="KEY", help="only these bugs (B1 ...)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the clean run of the selected tests (faster; a failing test then looks like a catch)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per pytest run")
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="the tree to copy (default: this checkout), e.g. an exported older commit to compare")
    args = parser.parse_args(argv)
    bugs = [b for b in BUGS if not args.only or b.key in args.only]
    if args.only and len(bugs) != len(args.only):
        parser.error(f"unknown bug among {args.only}; known: {[b.key for b in BUGS]}")

    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)  # the copy is removed in `finally` either way
    work = Path(tempfile.mkdtemp(prefix="r2d-mutation-"))
    copy = work / "tree"
    report = work / "report.xml"
    ok = True
    try:
        copy_tree(args.source.resolve(), copy)
        check_copy_is_imported(copy)
        if not args.no_baseline:
            selection = sorted({t for b in bugs for t in b.tests})
            print(f"clean run of the selection ({len(selection)} entries) ...", flush=True)
            code, failed, tail = run_pytest(copy, selection, report, args.timeout * 2)
            if code != 0:
                print(f"the selection fails without any bug planted ({failed}):\n{tail}")
                return 2
        outcomes = []
        for bug in bugs:
            print(f"{bug.key}: {bug.what} ...", flush=True)
            started = time.monotonic()
            original = plant(copy, bug)
            if original is None:
                outcomes.append(Outcome(bug, "not applied", [], 0.0))
                ok = False
                continue
            try:
                code, failed, tail = run_pytest(copy, bug.tests, report, args.timeout)
            finally:
                (copy / bug.path).write_text(original, encoding="utf-8")
            if code == 1 and failed:
                status = "caught"
            elif code == 0:
                status, ok = "MISSED", False
            else:
                status, ok = f"error (exit {code})", False
                print(tail)
            outcomes.append(Outcome(bug, status, failed, time.monotonic() - started))
        print()
        print(table(outcomes))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
