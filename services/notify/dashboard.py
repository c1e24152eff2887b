"""What each event adds to the dashboard's counts, and how small counts are shown. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from services.common.clock import LOCAL_TZ

SIGNUPS_CONFIRMED = "signups_confirmed"  # sign-ups confirmed (at once or off the waiting list)
PEOPLE_ADMITTED = "people_admitted"  # people let in at the door
VOLUNTEER_MINUTES = "volunteer_minutes"  # minutes credited at check-out, less undone check-outs
WISHES_POSTED = "wishes_posted"
WISHES_CLAIMED = "wishes_claimed"
WISHES_MET = "wishes_met"
FIGURES = (SIGNUPS_CONFIRMED, PEOPLE_ADMITTED, VOLUNTEER_MINUTES, WISHES_POSTED, WISHES_CLAIMED, WISHES_MET)
# Below this a count could point at a person: it is shown as "<5". Minutes are a sum, not a head count.
SMALL = 5
HEAD_COUNTS = frozenset(FIGURES) - {VOLUNTEER_MINUTES}

# event type -> the figure it adds to and the payload key its label comes from
_COUNTED: dict[str, tuple[str, str]] = {
    "signup.confirmed": (SIGNUPS_CONFIRMED, "activity_title"),
    "waitlist.promoted": (SIGNUPS_CONFIRMED, "activity_title"),
    "wish.posted": (WISHES_POSTED, "category"),
    "wish.claimed": (WISHES_CLAIMED, "category"),
    "wish.met": (WISHES_MET, "category"),
}
TICKET_CHECKED_IN = "ticket.checked_in"
VOLUNTEER_CHECKED_OUT = "volunteer.checked_out"
CHECK_OUT_UNDONE = "volunteer.check_out_undone"
EVENTS = (*_COUNTED, TICKET_CHECKED_IN, VOLUNTEER_CHECKED_OUT, CHECK_OUT_UNDONE)


@dataclass(frozen=True)
class Increment:
    community_id: str
    day: date
    figure: str
    label: str
    value: int


def local_day(created_at: str) -> date:
    return datetime.fromisoformat(created_at).astimezone(LOCAL_TZ).date()


def increments(event: dict[str, Any], received_at: datetime | None = None) -> list[Increment]:
    """What one event adds to the counts (nothing for events the dashboard does not count).
    An undone check-out takes its minutes back; the role it was credited under is not in its
    event, so they come off the unlabelled total. The day is the event's own (``created_at``,
    which every relayed event carries), else the day it was received."""
    kind, payload = event["type"], event["payload"]
    community = payload.get("community_id")
    created_at = event.get("created_at")
    if not community:
        return []
    if created_at:
        day = local_day(created_at)
    elif received_at is not None:
        day = received_at.astimezone(LOCAL_TZ).date()
    else:
        return []
    if kind in _COUNTED:
        figure, key = _COUNTED[kind]
        return [Increment(community, day, figure, str(payload.get(key) or ""), 1)]
    if kind == TICKET_CHECKED_IN:
        return [Increment(community, day, PEOPLE_ADMITTED, payload["activity_title"], int(payload["people"]))]
    if kind == VOLUNTEER_CHECKED_OUT:
        return [Increment(community, day, VOLUNTEER_MINUTES, "", int(payload["minutes_credited"]))]
    if kind == CHECK_OUT_UNDONE:
        return [Increment(community, day, VOLUNTEER_MINUTES, "", -int(payload["minutes_taken_back"]))]
    return []


def shown(figure: str, value: int) -> str:
    """A count as the dashboard shows it: head counts under five as "<5"."""
    if figure in HEAD_COUNTS and 0 < value < SMALL:
        return f"<{SMALL}"
    return str(value)


def month_of(day: date) -> date:
    return day.replace(day=1)


def whole_months(since: date, until: date) -> tuple[date, date]:
    """The whole calendar months within ``since``..``until`` (both included), as [start, end):
    read from the monthly roll-up; the days outside them from the daily counts. Empty (start ==
    end) when no whole month fits."""
    start = since if since.day == 1 else month_of(month_of(since) + timedelta(days=31))
    end = month_of(until + timedelta(days=1))
    return (start, end) if start < end else (start, start)
