"""What is made from the schema table for users: the JSON Schema (`repo2desktop schema`), the
README's key reference (`schema --markdown`) and `init`'s starter."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from repo2desktop import cli
from repo2desktop.config import json_schema, reference, schema
from repo2desktop.image import starter
from repo2desktop.config.loader import parse
from repo2desktop.config.validate import validate
from repo2desktop.errors import ConfigError, Repo2DesktopError
from tests.unit.conftest import SCENARIOS

ROOT = Path(__file__).parents[2]
VALIDATOR = jsonschema.Draft7Validator(json_schema.generate())


def plain(document):
    """ruamel's round-trip document as the plain JSON data an editor checks."""
    return json.loads(json.dumps(document))


def schema_errors(text: str) -> list:
    return sorted(e.message for e in VALIDATOR.iter_errors(plain(parse(text, "desktop.yml"))))


def validate_errors(text: str) -> str:
    try:
        validate(parse(text, "desktop.yml"), "desktop.yml")
    except ConfigError as e:
        return str(e)
    return ""


def test_the_json_schema_is_a_draft_7_schema(capsys):
    jsonschema.Draft7Validator.check_schema(json_schema.generate())
    assert cli.main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == json_schema.text()
    assert json.loads(printed)["properties"]["display"]["properties"]["geometry"] == {
        "type": "string", "pattern": "^(?:([1-9][0-9]{2,4})x([1-9][0-9]{2,4}))$",
        "description": "WIDTHxHEIGHT", "default": "1280x800"}


GOOD = {
    "repository": (ROOT / "desktop.yml").read_text(),
    "binder": (ROOT / "binder" / "desktop.yml").read_text(),
    **{f"fixture-{p.parent.name}": p.read_text()
       for p in sorted((ROOT / "tests" / "image" / "fixtures").glob("*/desktop.yml"))
       if p.parent.name != "broken"},
    **{f"scenario-{name}": spec.text for name, spec in SCENARIOS.items()},
    "readme-reference": reference.yaml_text(),
    "starter": starter.starter_desktop(),
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_what_validate_accepts_the_json_schema_accepts(name):
    assert validate_errors(GOOD[name]) == ""
    assert schema_errors(GOOD[name]) == []


def _document(path: str, value) -> dict:
    """A desktop.yml with PATH (a row of the table, not in a list or named entry) set to VALUE."""
    document: dict = {"version": 1}
    *parents, key = path.split(".")
    node = document
    for part in parents:
        node = node.setdefault(part, {})
    node[key] = value
    return document


LEAVES = [row for row in schema.TABLE if "[]" not in row.path and "<name>" not in row.path
          and row.kind not in ("section", "items", "named")]


@pytest.mark.parametrize("row", LEAVES, ids=[row.path for row in LEAVES])
def test_every_rows_default_example_and_null_agree(row):
    """Each row's default, its example and (where allowed) null: validate and the JSON Schema
    take the same view (a new row needs nothing more than its line in the table)."""
    values = [row.written_default, row.example] + ([None] if row.nullable else [])
    for value in values:
        if value is None and not row.nullable:
            continue
        document = _document(row.path, value)
        text = json.dumps(document)  # JSON is YAML: read through the same loader
        assert validate_errors(text) == "", (row.path, value)
        assert list(VALIDATOR.iter_errors(document)) == [], (row.path, value)
    if not row.nullable and row.kind not in ("strings", "env"):
        assert validate_errors(json.dumps(_document(row.path, None))) != ""
        assert list(VALIDATOR.iter_errors(_document(row.path, None))), row.path


BAD = {
    "broken-fixture": (ROOT / "tests" / "image" / "fixtures" / "broken" / "desktop.yml").read_text(),
    "no-version": "display: {depth: 24}\n",
    "version-2": "version: 2\n",
    "unknown-top-key": "version: 1\ncolour: red\n",
    "unknown-nested-key": "version: 1\ndisplay: {colour: red}\n",
    "geometry": "version: 1\ndisplay: {geometry: 1280x}\n",
    "depth": "version: 1\ndisplay: {depth: 12}\n",
    "display-zero": "version: 1\ndisplay: {number: 0}\n",
    "display-word": "version: 1\ndisplay: {number: first}\n",
    "choice": "version: 1\nwindow_manager: openbx\n",
    "boolean": "version: 1\nqt: yes please\n",
    "heartbeat-range": "version: 1\nwebsockify: {heartbeat: 3601}\n",
    "blank-title": "version: 1\nnovnc: {title: '  '}\n",
    "long-title": "version: 1\nlauncher: {title: " + "x" * 101 + "}\n",
    "autostart-not-a-list": "version: 1\nautostart: xterm\n",
    "env-name": "version: 1\nenvironment: {1BAD: x}\n",
    "env-value": "version: 1\nenvironment: {A: [1]}\n",
    "program-name": "version: 1\nprograms: {'bad name': {command: x}}\n",
    "program-reserved": "version: 1\nprograms: {websockify: {command: x}}\n",
    "program-without-command": "version: 1\nprograms: {p: {autorestart: true}}\n",
    "home-without-target": "version: 1\nhome: [{source: a}]\n",
    "launcher-unknown-key": "version: 1\nlaunchers: [{name: a, command: b, colour: red}]\n",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_what_the_json_schema_refuses_validate_refuses(name):
    assert validate_errors(BAD[name]) != ""
    assert schema_errors(BAD[name]) != []


def test_the_json_schema_refuses_what_the_table_refuses():
    """One refusal per kind of row, each found by the schema alone (not a side effect)."""
    base = plain(parse(GOOD["readme-reference"], "desktop.yml"))
    for path, value in [("display.number", 1000), ("display.depth", 30), ("vnc.server", "x"),
                        ("vnc.unsafe_args", "no"), ("novnc.title", ""), ("wallpaper", "x" * 1025),
                        ("start", None), ("version", "1")]:
        document = copy.deepcopy(base)
        node = document
        *parents, key = path.split(".")
        for part in parents:
            node = node[part]
        node[key] = value
        assert list(VALIDATOR.iter_errors(document)), path


def test_the_readme_reference_is_generated_from_the_table(capsys):
    readme = (ROOT / "README.md").read_text()
    assert cli.main(["schema", "--markdown"]) == 0
    block = capsys.readouterr().out
    assert block in readme, "README.md's key reference is stale: run `make readme-keys`"
    assert reference.splice(readme) == readme
    assert "  geometry: 1280x800          # up to 8192x8192; WIDTHxHEIGHT\n" in block
    assert "                              #   overridden by --geometry and c.NBNoVNC.geometry\n" in block


@pytest.mark.parametrize("value, text", [
    ("1280x800", "1280x800"), ("0x800", '"0x800"'), ("96", '"96"'), ("-dpi", '"-dpi"'),
    ("on", '"on"'), ("1:20", '"1:20"'), ("C.UTF-8", "C.UTF-8"), ("a: b", '"a: b"'),
    (None, "null"), (True, "true"), (24, "24")])
def test_values_are_written_as_yaml_reads_them(value, text):
    assert reference.scalar(value) == text
    assert parse(f"k: {reference.scalar(value)}\n", "x")["k"] == value


def test_the_starter_is_the_tables_and_up_accepts_it(tmp_path, monkeypatch):
    from repo2desktop.runtime import foreground

    text = starter.starter_desktop()
    assert text.splitlines()[0] == "# yaml-language-server: $schema=desktop.schema.json"
    assert "try it with `repo2desktop up`" in text
    config = validate(parse(text, "desktop.yml"), "desktop.yml")
    assert (config.vnc.server, config.vnc.auth, config.novnc.resize) == ("tigervnc", "password", "remote")
    assert "  server: tigervnc            # tightvnc | tigervnc; tigervnc: a private unix socket" in text

    class Started(Exception):
        pass

    def session(*args, **kwargs):
        raise Started()  # `up` went past its checks to start the desktop: no more here

    monkeypatch.setattr(foreground, "DesktopSession", session)
    with pytest.raises(Started):
        foreground.run_up(config)
    # What the starter said before: `up` refuses it.
    with_auth_none = text.replace("  server: tigervnc", "  server: tigervnc\n  auth: none")
    with pytest.raises(Repo2DesktopError, match="vnc.auth 'none' is only safe behind Jupyter"):
        foreground.run_up(validate(parse(with_auth_none, "desktop.yml"), "desktop.yml"))


def test_init_writes_the_json_schema_beside_the_starter(tmp_path):
    written = starter.init(str(tmp_path), report=lambda line: None)
    assert sorted(Path(p).relative_to(tmp_path).as_posix() for p in written) == [
        "binder/apt.txt", "binder/desktop.schema.json", "binder/desktop.yml", "binder/postBuild",
        "binder/requirements.txt"]
    assert (tmp_path / "binder" / "desktop.schema.json").read_text() == json_schema.text()
    assert (tmp_path / "binder" / "desktop.yml").read_text() == starter.starter_desktop()
    reported = []
    starter.init(str(tmp_path), report=reported.append)
    assert (f"repo2desktop init: skipped {tmp_path}/binder/desktop.schema.json (exists); renew it with: "
            "repo2desktop schema > binder/desktop.schema.json") in reported
