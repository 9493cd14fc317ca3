"""The BuildKit engine keeps build steps off the host's network unless asked.

The engine's `docker build` command line is checked with a stand-in CLI that records its
arguments (the real build is in tests/image/test_build_network.py).
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
from traitlets.config import Config, LoggingConfigurable

from repo2desktop.image.engine import NETWORK_ENV, BuildKitCLIEngine


@pytest.fixture
def recording_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    calls = tmp_path / "calls.jsonl"
    cli = tmp_path / "docker"
    cli.write_text(f"#!{sys.executable}\nimport json, sys\n"
                   f"open({str(calls)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n")
    cli.chmod(0o755)
    monkeypatch.setenv("REPO2DESKTOP_DOCKER_CLI", str(cli))
    monkeypatch.delenv(NETWORK_ENV, raising=False)
    return calls


def build_argv(calls: Path, config: Config = None) -> list:
    parent = LoggingConfigurable(config=config or Config(), log=logging.getLogger("test-engine"))
    engine = BuildKitCLIEngine(parent=parent)
    list(engine.build(tag="r2d-unit", path="/nonexistent-context"))
    build = [json.loads(line) for line in calls.read_text().splitlines()][-1]
    assert build[0] == "build"
    return build


def test_builds_use_the_engines_default_network(recording_cli):
    argv = build_argv(recording_cli)
    assert not any(a == "--network" or a.startswith("--network=") for a in argv), argv


def test_host_network_only_when_asked_by_environment(recording_cli, monkeypatch, caplog):
    monkeypatch.setenv(NETWORK_ENV, "host")
    with caplog.at_level(logging.WARNING, logger="test-engine"):
        argv = build_argv(recording_cli)
    assert argv[argv.index("--network") + 1] == "host"
    assert f"{NETWORK_ENV}=host" in caplog.text


def test_host_network_only_when_asked_by_config(recording_cli):
    config = Config()
    config.BuildKitCLIEngine.network = "host"
    argv = build_argv(recording_cli, config)
    assert argv[argv.index("--network") + 1] == "host"
