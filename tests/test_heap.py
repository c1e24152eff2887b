"""What a process builds while starting is kept out of later cycle collections, and young
objects are collected less often."""

from __future__ import annotations

import gc

from services.common.heap import THRESHOLDS, settle_after_start_up


def test_what_start_up_built_is_frozen_and_its_garbage_collected_first() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle: only the collector frees it

    built = [Node() for _ in range(1000)]
    garbage = [Node() for _ in range(1000)]
    del garbage
    before, defaults = gc.get_freeze_count(), gc.get_threshold()

    settle_after_start_up()

    frozen = gc.get_freeze_count() - before
    assert gc.get_threshold() == THRESHOLDS
    assert 1000 <= frozen  # the survivors (and whatever else lives) ...
    assert not any(isinstance(o, Node) for o in gc.get_objects()) and len(built) == 1000  # ...out of sight
    gc.unfreeze()
    assert sum(isinstance(o, Node) for o in gc.get_objects()) == 1000  # the garbage was collected
    gc.set_threshold(*defaults)
