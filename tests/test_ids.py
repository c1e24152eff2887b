"""Ids made one after another sort in the order they were made, even within one millisecond."""

from __future__ import annotations

import uuid

from services.common.ids import new_id


def test_ids_of_one_millisecond_sort_in_the_order_they_were_made() -> None:
    made = [new_id() for _ in range(5_000)]  # thousands per millisecond on any machine
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    milliseconds = [made_id.int >> 80 for made_id in made]
    assert len(set(milliseconds)) < len(made), "expected several ids within one millisecond"


def test_ids_stay_well_formed_uuid7() -> None:
    for made_id in (new_id() for _ in range(1_000)):
        assert made_id.version == 7
        assert made_id.variant == uuid.RFC_4122
