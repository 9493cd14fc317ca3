"""`make bench` keeps working: one quick round of every system, side by side.

Runs scripts/bench.py --quick (ours default and TigerVNC + xfce4, JRDP 3.0.1 and Selkies 2.1
from PyPI in their own venvs, real Jupyter servers, real Chromium) and checks what it writes,
never how fast anything was: timings are the benchmark's business, not a test's.
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
SYSTEMS = ("ours-default", "ours-xfce4", "jrdp", "selkies")


@pytest.fixture(scope="module")
def quick_bench(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    # The peers' venvs are kept under build/bench/ between runs (made once, reused).
    venvs = REPO / "build" / "bench"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench.py"), "--quick", "--out", str(out),
                           "--venvs", str(venvs)],
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
    for key in ("ours-default", "ours-xfce4"):
        assert runs[key]["leftovers"] == 0, runs[key]
        # The bundled viewer: one page, one module, the websocket (no noVNC file tree).
        assert not any("/app/" in u or "/core/" in u for u in runs[key]["urls"]), runs[key]["urls"]
        assert any(u.endswith("/desktop.js") for u in runs[key]["urls"]), runs[key]["urls"]


def test_table_targets_and_chart_are_written(quick_bench):
    out, stdout = quick_bench
    table = (out / "bench.md").read_text()
    assert table in stdout
    for label in ("ours, default (TightVNC + openbox)", "JRDP 3.0.1", "Selkies 2.1", "host, cold: goto → READY",
                  "idle PSS", "| target (issue 11) | measured |", "(n=1)"):
        assert label in table, label
    assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
