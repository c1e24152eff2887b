"""How a batch of events is sorted before notify projects it: which are new, and which sign-up
events can be written in one statement. No I/O."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any

from services.notify.contracts import PARTY_REDUCED, SESSION_RESCHEDULED

# What each activities event says about the sign-up it names.
SIGNUP_STATUS = {
    "signup.confirmed": "CONFIRMED",
    "waitlist.promoted": "CONFIRMED",
    "signup.waitlisted": "WAITLISTED",
    "signup.cancelled": "CANCELLED",
    "session.cancelled": "CANCELLED",
}
Event = dict[str, Any]


def first_of_new(events: Sequence[Event], new_ids: Collection[str]) -> tuple[list[Event], list[Event]]:
    """The events to handle (each new id once, at its first place) and the rest: handled
    before, or repeated within the batch."""
    fresh, seen, repeated = [], set(), []
    for event in events:
        key = str(uuid.UUID(event["id"]))
        if key in new_ids and key not in seen:
            fresh.append(event)
            seen.add(key)
        else:
            repeated.append(event)
    return fresh, repeated


def _touches_signups(event: Event) -> bool:
    return event["type"] in SIGNUP_STATUS or event["type"] in (SESSION_RESCHEDULED, PARTY_REDUCED)


def _signup(event: Event) -> str:
    return str(uuid.UUID(event["payload"]["signup_id"]))


def one_statement_signups(events: Sequence[Event]) -> tuple[list[Event], list[Event]]:
    """The sign-up events that can be projected together in one statement — those of a sign-up
    no other event in the batch touches — and the others, in their order, to project one by
    one: one statement cannot change a row twice, and then order matters."""
    per_signup = Counter(_signup(e) for e in events if _touches_signups(e))
    together, one_by_one = [], []
    for event in events:
        if event["type"] in SIGNUP_STATUS and per_signup[_signup(event)] == 1:
            together.append(event)
        else:
            one_by_one.append(event)
    return together, one_by_one
