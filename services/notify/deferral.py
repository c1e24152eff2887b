"""Notifications out of the burst: when notify handles an event, and when what it put off. No I/O.

While the activities and volunteers command streams are busy (residents are signing up by the
hundred), notify's work competes with the sign-ups for the same cores. So non-urgent events
(confirmations, wait-list messages, reminders, wishes, …) are put off and handled together once
the burst is over; urgent ones (a session called off or moved, a staff account under attack)
never wait.

What counts as a burst: commands waiting on the streams (``XLEN``: a command leaves its stream
once answered) at or above ``busy_backlog`` (default 10), or arriving at ``busy_rate_per_s``
(default 20/s) or faster. The second is there because on a small machine the queue forms in
front of the gateway, not in the streams: in ``make bench`` on two cores the streams rarely held
10 while 140 sign-ups a second went through. A town's ordinary traffic is a few commands a second.

The bound, and why these numbers (settings in ``services.common.settings``):

- A burst is over once neither has been seen for ``settle_s`` (default 3 s): a dip between two
  batches of sign-ups does not end it. The drain then handles everything put off, oldest first,
  200 to a transaction, so each message is delivered within ``settle_s`` + one tick (``tick_s``,
  1 s) + two looks at the streams (``notify_backlog_cache_s``, 0.5 s each: the rate is over the
  time between looks) + the drain's own time of the burst's end: a few seconds against the 30 s
  promised (``bench/signup_burst.py`` measures it).
- Whatever the streams say, nothing waits longer than ``max_defer_s`` (default 120 s): a burst
  that never ends still delivers, two minutes late at most. It is a cap on each event's wait,
  not on the burst's length, so it does not weaken the bound after the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

Event = dict[str, Any]

# A session called off or moved must reach people before they set out; a staff account whose
# password is being guessed is the community admins' to act on now.
URGENT: frozenset[str] = frozenset({"session.cancelled", "session.rescheduled", "staff.log_in_burst"})
# Notify's own: a reminder falling due (its arq job), put off like an event.
REMINDER_DUE = "notify.reminder_due"
# Everything else notify takes in may wait for the burst to end, and so may reminders.
DEFERRABLE: frozenset[str] = frozenset(
    {
        REMINDER_DUE,
        "signup.confirmed",
        "signup.waitlisted",
        "signup.cancelled",
        "waitlist.promoted",
        "signup.party_reduced",
        "shift.signed_up",
        "shift.withdrawn",
        "volunteer.checked_out",
        "volunteer.check_out_undone",
        "ticket.checked_in",
        "party_member.reviewed",
        "record_correction.decided",
        "certificate.revoked",
        "wish.posted",
        "wish.reviewed",
        "wish.published",
        "wish.claimed",
        "wish.done",
        "wish.met",
        "wish.claim_expired",
        "wish.given_back",
        "wish.visit_planned",
        "concern.changed",
        "council.invited",
        "council.replied",
        "council.task_assigned",
        "council.task_overdue",
        "service_hours.corrected",
        "project.claimed",
        "project.closed",
    }
)


@dataclass(frozen=True)
class Bounds:
    busy_backlog: int  # commands waiting, at or above which the streams are in a burst; <= 0: off
    busy_rate_per_s: float  # or commands arriving this fast; <= 0: off
    settle_s: float  # neither this long: the burst is over
    max_defer_s: float  # no event waits longer, burst or not


@dataclass(frozen=True)
class Backlog:
    """The command streams as last seen: how many commands wait, how many were ever added
    (the streams' counters) and how fast they came since the look before, and since when the
    streams have been calm (None: in a burst now)."""

    commands: int
    added: int
    seen_at: datetime
    quiet_since: datetime | None
    rate_per_s: float = 0.0

    def busy(self, bounds: Bounds) -> bool:
        waiting = 0 < bounds.busy_backlog <= self.commands
        arriving = 0 < bounds.busy_rate_per_s <= self.rate_per_s
        return waiting or arriving


def observed(previous: Backlog | None, commands: int, added: int, at: datetime, bounds: Bounds) -> Backlog:
    """The backlog after seeing ``commands`` waiting and ``added`` ever added at ``at``: the
    rate is over the time since the look before (none on a first look, or when a stream was
    made again and its counter started over); calm since the first look that found it so."""
    rate = 0.0
    if previous is not None and at > previous.seen_at and added >= previous.added:
        rate = (added - previous.added) / (at - previous.seen_at).total_seconds()
    now_seen = Backlog(commands, added, at, None, rate)
    if now_seen.busy(bounds):
        return now_seen
    if previous is not None and previous.quiet_since is not None:
        return replace(now_seen, quiet_since=previous.quiet_since)
    return replace(now_seen, quiet_since=at)


def deferred_now(event_type: str, backlog: Backlog, bounds: Bounds) -> bool:
    """Whether an event coming in now is put off: a non-urgent one, in a burst."""
    return event_type in DEFERRABLE and backlog.busy(bounds)


def split(
    events: Sequence[Event], backlog: Backlog | None, bounds: Bounds
) -> tuple[list[Event], list[Event]]:
    """The events to put off and those to handle at once, each in their order (no backlog
    known: all at once)."""
    later: list[Event] = []
    at_once: list[Event] = []
    for event in events:
        put_off = backlog is not None and deferred_now(event["type"], backlog, bounds)
        (later if put_off else at_once).append(event)
    return later, at_once


def drain_due(backlog: Backlog, oldest_deferred_at: datetime | None, bounds: Bounds) -> bool:
    """Whether what was put off is handled now: the burst has been over for ``settle_s``, or
    the oldest has waited ``max_defer_s``."""
    if oldest_deferred_at is None:
        return False
    if backlog.seen_at - oldest_deferred_at >= timedelta(seconds=bounds.max_defer_s):
        return True
    quiet = backlog.quiet_since
    return quiet is not None and backlog.seen_at - quiet >= timedelta(seconds=bounds.settle_s)


def subject(payload: dict[str, Any]) -> str | None:
    """What an event is about, as far as order between its messages matters: its session or
    shift. An event handled at once takes along those put off about the same subject, so that
    "confirmed" never arrives after "called off"."""
    found = payload.get("session_id") or payload.get("shift_id")
    return str(found) if found else None
