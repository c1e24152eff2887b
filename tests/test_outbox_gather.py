"""How long the outbox relay gathers commits before a batch (services/common/outbox.py)."""

from services.common.outbox import GATHER_MIN_S, next_gather


def test_events_one_by_one_are_relayed_after_the_shortest_wait() -> None:
    assert next_gather(GATHER_MIN_S, 0, 0.2) == GATHER_MIN_S
    assert next_gather(GATHER_MIN_S, 1, 0.2) == GATHER_MIN_S
    assert next_gather(0.16, 1, 0.2) == GATHER_MIN_S  # a burst's end: back to the shortest at once


def test_in_a_burst_the_wait_doubles_up_to_its_bound() -> None:
    waits = [GATHER_MIN_S]
    for _ in range(8):
        waits.append(next_gather(waits[-1], 40, 0.2))
    assert waits[:5] == [GATHER_MIN_S, 0.02, 0.04, 0.08, 0.16]
    assert waits[5:] == [0.2, 0.2, 0.2, 0.2]


def test_a_bound_below_the_shortest_wait_keeps_the_shortest() -> None:
    assert next_gather(GATHER_MIN_S, 40, 0.0) == GATHER_MIN_S
