"""`make bench` keeps working: every step of it once, for our own desktops.

Runs scripts/bench.py --quick: one host round of ours (default and TigerVNC + xfce4, real
Jupyter servers, real Chromium), our default image built and run once in a container, the
rebuild times and the Debian package sizes — the same code paths as the full run, fewer rounds.
The peers (JRDP, Selkies: other projects, from PyPI) run only in `make bench`, where a failure
of theirs is a row in the table, not a red suite. Checks what it writes, never how fast
anything was: timings are the benchmark's business, not a test's.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.jupyter

REPO = Path(__file__).resolve().parents[2]
SYSTEMS = ("ours-default", "ours-xfce4")


@pytest.fixture(scope="module")
def quick_bench(tmp_path_factory, docker_engine):
    out = tmp_path_factory.mktemp("bench")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench.py"), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=900, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc.stdout


def test_every_system_reaches_a_painted_desktop(quick_bench):
    out, _ = quick_bench
    report = json.loads((out / "bench.json").read_text())
    runs = {r["system"]: r for r in report["runs"] if r["where"] == "host"}
    assert set(runs) == set(SYSTEMS), runs.keys()
    for key, run in runs.items():
        assert not run["failed"] and run["cold_s"] is not None, (key, run, list((out / "failed-logs").glob("*")))
        assert run["warm_s"] is not None, (key, run)
        assert run["pss_mib"] > 0 and run["processes"] > 0, (key, run)
    for key in SYSTEMS:
        assert runs[key]["leftovers"] == 0, runs[key]
        # The bundled viewer: one page, one module, the websocket (no noVNC file tree).
        assert not any("/app/" in u or "/core/" in u for u in runs[key]["urls"]), runs[key]["urls"]
        assert any(u.endswith("/desktop.js") for u in runs[key]["urls"]), runs[key]["urls"]


def test_the_container_round_rebuilds_and_package_sizes_ran(quick_bench):
    out, _ = quick_bench
    report = json.loads((out / "bench.json").read_text())
    assert report["stopped"] == [], report["stopped"]
    (run,) = [r for r in report["runs"] if r["where"] == "container"]
    assert run["system"] == "ours-default" and not run["failed"] and run["cold_s"] is not None, run
    assert report["images"]["ours-default"]["over_base_mb"] > 0, report["images"]
    assert set(report["rebuild_s"]) == {"first", "geometry", "package"}, report["rebuild_s"]
    assert set(report["apt_mib"]) == set(SYSTEMS) and all(v > 0 for v in report["apt_mib"].values()), report


def test_table_targets_and_chart_are_written(quick_bench):
    out, stdout = quick_bench
    table = (out / "bench.md").read_text()
    assert table in stdout
    for label in ("ours, default (TightVNC + openbox)", "ours, TigerVNC + xfce4", "host, cold: goto → READY",
                  "in containers, cold: goto → READY", "idle PSS", "desktop's Debian packages over the base",
                  "Ours, rebuild of the default image", "| target (issue 11) | measured |", "(n=1)"):
        assert label in table, label
    assert "JRDP 3.0.1 (" not in table and "Not measured" not in table
    assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
