"""Golden renders: the files whose every line matters, per scenario, compared byte for byte.

Kept golden: supervisord.conf, xinitrc, autostart.sh and the programs' wrapper scripts
(bin/*.sh): each line there starts, orders, escapes or secures something. The other
rendered files (the starting page, the reconnect module, launcher entries, window-manager
settings) are checked by exact strings of what matters in them, in test_render_structure.py;
a golden copy of those would only be rubber-stamped on each change.

The expected files live in tests/unit/golden/<scenario>/<path>. After a deliberate change to
a template, rewrite them with

    python -m pytest tests/unit --update-golden

and review the result with ``git diff tests/unit/golden`` before committing it.
"""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Dict, List

import pytest

GOLDEN = Path(__file__).parent / "golden"
KEPT = ("supervisord.conf", "xinitrc", "autostart.sh")


def is_golden(path: str) -> bool:
    """Is the rendered file PATH (relative to the runtime dir) kept as a golden file?"""
    return path in KEPT or (path.startswith("bin/") and path.endswith(".sh"))


def _read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def _stored(folder: Path) -> Dict[str, str]:
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): _read(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _diff(name: str, expected: str, actual: str) -> str:
    return "".join(difflib.unified_diff(
        expected.splitlines(keepends=True), actual.splitlines(keepends=True),
        fromfile=f"golden/{name}", tofile=f"rendered/{name}"))


def test_golden_render(scenario, update_golden: bool):
    folder = GOLDEN / scenario.name
    actual = {path: f.text for path, f in scenario.files.items() if is_golden(path)}
    stored = _stored(folder)

    if update_golden:
        changed = sorted(p for p in actual if stored.get(p) != actual[p])
        stale = sorted(set(stored) - set(actual))
        for path in changed:
            _write(folder / path, actual[path])
        for path in stale:
            (folder / path).unlink()
        if changed or stale:
            pytest.skip(f"rewrote golden/{scenario.name}: changed {changed}, removed {stale}")
        return

    problems: List[str] = []
    for path in sorted(set(actual) | set(stored)):
        rel = f"{scenario.name}/{path}"
        if not is_golden(path):
            problems.append(f"golden/{rel} is not a kept golden file (see KEPT): remove it")
        elif path not in stored:
            problems.append(f"render() produced {path!r}, which has no golden file golden/{rel}")
        elif path not in actual:
            problems.append(f"golden/{rel} exists but render() no longer produces {path!r}")
        elif stored[path] != actual[path]:
            problems.append(_diff(rel, stored[path], actual[path]))
    if problems:
        pytest.fail("rendered files differ from the golden files "
                    "(rerun with --update-golden if the change is intended):\n\n"
                    + "\n".join(problems), pytrace=False)


def test_no_golden_folder_without_a_scenario(scenario_names):
    folders = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())
    assert folders == scenario_names, "remove golden folders of scenarios that no longer exist"


def test_kept_golden_files_are_rendered_in_every_scenario(scenario):
    """The golden set is not empty by accident (a renamed file would silently leave it)."""
    kept = {path for path in scenario.files if is_golden(path)}
    assert {*KEPT, "bin/x-session.sh"} <= kept, sorted(kept)
