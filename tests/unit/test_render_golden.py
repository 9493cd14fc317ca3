"""Golden renders: the files whose every line matters, per scenario, compared byte for byte.

Kept golden: supervisord.conf, xinitrc, autostart.sh and the programs' wrapper scripts
(bin/*.sh): each line there starts, orders, escapes or secures something. The other
rendered files (the starting page, the reconnect module, launcher entries, window-manager
settings) are checked by exact strings of what matters in them, in test_render_structure.py;
a golden copy of those would only be rubber-stamped on each change.

The expected files live in tests/unit/golden/<scenario>/<path>, each content once: where a
scenario renders a file exactly as an earlier scenario (in name order) does, its golden file
is a relative symbolic link to that scenario's, so a change shows in one file and the links
say which scenarios share it. After a deliberate change to a template, rewrite them with

    make update-golden    (python -m pytest tests/unit/test_render_golden.py --update-golden)

which also makes and breaks the links, and review the result with ``git diff tests/unit/golden``
before committing it.
"""
from __future__ import annotations

import difflib
import os
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
    if path.is_symlink():
        path.unlink()  # never write through a link into another scenario's file
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def _link(path: Path, target: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    path.symlink_to(os.path.relpath(target, path.parent))


def _entries(folder: Path) -> List[str]:
    """Every golden entry (file or link, even a broken one) under FOLDER, relative to it."""
    if not folder.is_dir():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_symlink() or p.is_file())


def _diff(name: str, expected: str, actual: str) -> str:
    return "".join(difflib.unified_diff(
        expected.splitlines(keepends=True), actual.splitlines(keepends=True),
        fromfile=f"golden/{name}", tofile=f"rendered/{name}"))


def golden_files(scenario) -> Dict[str, str]:
    return {path: f.text for path, f in scenario.files.items() if is_golden(path)}


def owner(name: str, path: str, text: str, renders: Dict[str, Dict[str, str]]) -> str:
    """The first scenario (in name order) that renders PATH exactly as TEXT: it keeps the file."""
    return next(other for other in sorted(renders) if renders[other].get(path) == text)


def test_golden_render(scenario, update_golden: bool, scenario_names, make_scenario):
    folder = GOLDEN / scenario.name
    actual = golden_files(scenario)

    if update_golden:
        renders = {name: golden_files(make_scenario(name)) for name in scenario_names}
        changed = []
        for path, text in sorted(actual.items()):
            keeper = owner(scenario.name, path, text, renders)
            if keeper == scenario.name:
                if (folder / path).is_symlink() or not (folder / path).is_file() or _read(folder / path) != text:
                    _write(folder / path, text)
                    changed.append(path)
            else:
                target = os.path.relpath(GOLDEN / keeper / path, (folder / path).parent)
                if not (folder / path).is_symlink() or os.readlink(folder / path) != target:
                    _link(folder / path, GOLDEN / keeper / path)
                    changed.append(f"{path} -> {keeper}")
        stale = [p for p in _entries(folder) if p not in actual]
        for path in stale:
            (folder / path).unlink()
        if changed or stale:
            pytest.skip(f"rewrote golden/{scenario.name}: changed {changed}, removed {stale}")
        return

    problems: List[str] = []
    stored = _entries(folder)
    for path in sorted(set(actual) | set(stored)):
        rel = f"{scenario.name}/{path}"
        if not is_golden(path):
            problems.append(f"golden/{rel} is not a kept golden file (see KEPT): remove it")
        elif path not in stored:
            problems.append(f"render() produced {path!r}, which has no golden file golden/{rel}")
        elif path not in actual:
            problems.append(f"golden/{rel} exists but render() no longer produces {path!r}")
        elif not (folder / path).is_file():
            problems.append(f"golden/{rel} is a link to nothing ({os.readlink(folder / path)})")
        elif _read(folder / path) != actual[path]:
            shared = f" (a link to {os.readlink(folder / path)})" if (folder / path).is_symlink() else ""
            problems.append(_diff(rel, _read(folder / path), actual[path]) + shared)
    if problems:
        pytest.fail("rendered files differ from the golden files "
                    "(rerun with --update-golden if the change is intended):\n\n"
                    + "\n".join(problems), pytrace=False)


def test_each_golden_content_is_stored_once(scenario_names):
    """A file two scenarios render alike is one file and a link (update-golden makes them),
    and a link leads straight to a real file of the scenario that keeps it."""
    kept: Dict[tuple, str] = {}
    problems = []
    for name in scenario_names:
        for path in _entries(GOLDEN / name):
            entry = GOLDEN / name / path
            if entry.is_symlink():
                target = Path(os.path.normpath(entry.parent / os.readlink(entry)))
                parts = target.relative_to(GOLDEN).parts if target.is_relative_to(GOLDEN) else ()
                if target.is_symlink() or not target.is_file() or parts[1:] != Path(path).parts \
                        or parts[0] == name:
                    problems.append(f"golden/{name}/{path} links to {os.readlink(entry)}, not to "
                                    f"{path} of another scenario")
                continue
            text = _read(entry)
            if (path, text) in kept:
                problems.append(f"golden/{name}/{path} is a copy of golden/{kept[path, text]}/{path}: "
                                "run make update-golden to share it")
            kept.setdefault((path, text), name)
    assert problems == []


def test_no_golden_folder_without_a_scenario(scenario_names):
    folders = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())
    assert folders == scenario_names, "remove golden folders of scenarios that no longer exist"


def test_kept_golden_files_are_rendered_in_every_scenario(scenario):
    """The golden set is not empty by accident (a renamed file would silently leave it)."""
    kept = {path for path in scenario.files if is_golden(path)}
    assert {*KEPT, "bin/x-session.sh"} <= kept, sorted(kept)
