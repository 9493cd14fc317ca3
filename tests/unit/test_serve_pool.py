"""The pool's drain rule with the engine and proxy replaced by recorders (the serve tier drains
a real pool while visitors spawn: tests/serve/test_pool_integrity.py)."""
from __future__ import annotations

import argparse

from repo2desktop.serve import options
from repo2desktop.serve.pool import CLAIMED, READY, STARTING, Pool, Slot


class Proxy:
    def delete_route(self, path):
        pass


class Engine:
    """Removing a container takes long enough for a visitor to ask for one meanwhile."""

    def __init__(self):
        self.pool = None
        self.removed, self.claimed_during_removal = [], []

    def remove(self, container_id):
        self.claimed_during_removal.append(self.pool.claim())
        self.removed.append(container_id)

    def mark_claimed(self, container_id, user_id):
        pass


def test_a_drain_takes_every_spare_out_before_removing_any():
    p = argparse.ArgumentParser()
    options.add_arguments(p)
    engine = Engine()
    pool = Pool(options.from_args(p.parse_args(["img"]), environ={}), engine, Proxy(),
                log=lambda line: None)
    engine.pool = pool
    slots = [Slot("ready1", "t", container_id="c1", state=READY),
             Slot("ready2", "t", container_id="c2", state=READY),
             Slot("starting", "t", container_id="c3", state=STARTING),
             Slot("visitor", "t", container_id="c4", state=CLAIMED)]
    pool.slots = {s.user_id: s for s in slots}
    pool.ready.extend(["ready1", "ready2"])
    assert pool.drain() == 3
    assert engine.removed == ["c1", "c2", "c3"]
    assert engine.claimed_during_removal == [None, None, None]  # nothing left to hand out
    assert set(pool.slots) == {"visitor"}
