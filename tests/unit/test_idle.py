"""Real idleness (repo2desktop/jupyter/idle.py): the last input is recorded as Jupyter activity
and never moved back; a display that cannot tell records nothing (a real child process asked
about a display that does not exist)."""
from __future__ import annotations

import datetime

from repo2desktop.jupyter import idle

from .aio import run_in_own_loop


def test_last_input_becomes_activity_and_never_moves_back():
    settings = {"last_activity_times": {"other": "kept"}}
    recent = idle.record_input(settings, 2.0)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert 1.5 < (now - recent).total_seconds() < 3.0
    assert settings["last_activity_times"]["repo2desktop-input"] == recent
    idle.record_input(settings, 600.0)  # an older answer (polls can overlap a restart)
    assert settings["last_activity_times"] == {"other": "kept", "repo2desktop-input": recent}


def test_nothing_known_records_nothing():
    settings = {}
    assert idle.record_input(settings, None) is None and settings == {}


def test_a_display_that_is_not_there_tells_nothing():
    assert run_in_own_loop(lambda: idle.ask_idle_seconds(":987")) is None
