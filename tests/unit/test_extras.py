"""Which Jupyter events start a `start: lazy` desktop (repo2desktop/jupyter/extras.py), and
that a real jupyter_events EventLogger calls the start for them and only for them."""
from __future__ import annotations

import asyncio

import pytest
from jupyter_events import EventLogger
from jupyter_server import DEFAULT_EVENTS_SCHEMA_PATH

from .aio import run_in_own_loop
from repo2desktop.jupyter.extras import CONTENTS, KERNEL_ACTIONS, start_with_notebooks, wants_desktop


@pytest.mark.parametrize("schema_id, data, wanted", [
    (KERNEL_ACTIONS, {"action": "start", "status": "success", "kernel_name": "python3", "msg": ""}, True),
    (KERNEL_ACTIONS, {"action": "start", "status": "error", "kernel_name": "python3", "msg": "no"}, False),
    (KERNEL_ACTIONS, {"action": "interrupt", "status": "success", "kernel_name": "python3", "msg": ""}, False),
    (CONTENTS, {"action": "get", "path": "work/analysis.ipynb"}, True),
    (CONTENTS, {"action": "get", "path": "work"}, False),  # browsing folders starts nothing
    (CONTENTS, {"action": "get", "path": "data.csv"}, False),
    (CONTENTS, {"action": "save", "path": "analysis.ipynb"}, False),
    ("https://events.jupyter.org/jupyter_server/gateway_client/v1", {"action": "get"}, False),
])
def test_events_that_mean_a_notebook_is_at_work(schema_id, data, wanted):
    assert wants_desktop(schema_id, data) is wanted


def test_a_real_event_logger_starts_it():
    logger = EventLogger()
    for name in ("kernel_actions", "contents_service"):
        logger.register_event_schema(DEFAULT_EVENTS_SCHEMA_PATH / name / "v1.yaml")
    started = []

    async def run():
        start_with_notebooks(logger, lambda: started.append(1))
        logger.emit(schema_id=CONTENTS, data={"action": "get", "path": "notes"})
        await asyncio.sleep(0.05)
        assert started == []
        logger.emit(schema_id=CONTENTS, data={"action": "get", "path": "notes/plot.ipynb"})
        logger.emit(schema_id=KERNEL_ACTIONS, data={"action": "start", "status": "success",
                                                    "kernel_name": "python3", "kernel_id": "k1", "msg": "started"})
        await asyncio.sleep(0.05)

    run_in_own_loop(run)
    assert started == [1, 1]
