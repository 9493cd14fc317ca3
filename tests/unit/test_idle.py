"""Real idleness (repo2desktop/jupyter/idle.py): the last input is recorded as Jupyter activity
and never moved back; a display that cannot tell records nothing (a real child process asked
about a display that does not exist)."""
from __future__ import annotations

import datetime

import pytest

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


def test_the_poll_interval_comes_from_the_environment_and_a_bad_one_is_named():
    assert idle.poll_seconds({}) == idle.POLL_SECONDS
    assert idle.poll_seconds({"REPO2DESKTOP_IDLE_POLL": "0.5"}) == 0.5
    for bad in ("soon", "0", "-1", "nan"):
        with pytest.raises(ValueError, match=rf"^REPO2DESKTOP_IDLE_POLL='{bad}': not a number of seconds"):
            idle.poll_seconds({"REPO2DESKTOP_IDLE_POLL": bad})


def test_the_same_input_read_again_a_little_later_does_not_move_activity():
    """Each poll computes "now - idle" anew: the same last input lands a few milliseconds apart.
    Within idle.JITTER it is the input already recorded; a later input moves it."""
    settings = {}
    first = idle.record_input(settings, 3.0, idle.JITTER)
    assert idle.record_input(settings, 2.95, idle.JITTER) == first  # 50 ms "later": the same input
    assert settings["last_activity_times"]["repo2desktop-input"] == first
    later = idle.record_input(settings, 0.5, idle.JITTER)
    assert (later - first).total_seconds() > 2
