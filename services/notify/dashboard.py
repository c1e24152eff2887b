"""What each event adds to the dashboard's counts, and how small counts are shown. No I/O."""

from __future__ import annotations

from collections.abc import Sequence
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


# --- Lines over time: a period cut into days, weeks or months -----------------------------------

DAY, WEEK, MONTH = "day", "week", "month"
GRAINS = (DAY, WEEK, MONTH)
_DAYS_BY_DAY = 31  # up to a month: a point a day
_DAYS_BY_WEEK = 183  # up to half a year: a point a week (weeks start on Monday); longer: a month


def grain_for(since: date, until: date) -> str:
    """The step of a period's lines: a few dozen points at most, whatever its length."""
    days = (until - since).days + 1
    return DAY if days <= _DAYS_BY_DAY else WEEK if days <= _DAYS_BY_WEEK else MONTH


def bucket_of(day: date, grain: str, since: date) -> date:
    """The first day of the step ``day`` falls in, never before the period's first day."""
    if grain == MONTH:
        start = month_of(day)
    elif grain == WEEK:
        start = day - timedelta(days=day.weekday())
    else:
        start = day
    return max(start, since)


def buckets(since: date, until: date, grain: str) -> list[date]:
    """Each step's first day within ``since``..``until``, in order: the points of a line."""
    starts, day = [], since
    while day <= until:
        starts.append(day)
        if grain == MONTH:
            day = month_of(month_of(day) + timedelta(days=31))
        elif grain == WEEK:
            day = day - timedelta(days=day.weekday()) + timedelta(days=7)
        else:
            day = day + timedelta(days=1)
    return starts


@dataclass(frozen=True)
class Line:
    """One figure's values at each step of the period, of one community (or, with community
    None, of all of the scope's together: summed before small counts are hidden)."""

    figure: str
    community_id: str | None
    values: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.values)


def lines(points: Sequence[tuple[str, str, date, int]], starts: Sequence[date]) -> list[Line]:
    """``points`` (community, figure, step's first day, value) as one line per figure and
    community and one per figure for the whole scope, each with a value (0 when none) at every
    step of ``starts``; in figure, then community order, the scope's line first."""
    at = {start: i for i, start in enumerate(starts)}
    kept: dict[tuple[str, str | None], list[int]] = {}
    for community, figure, start, value in points:
        for key in ((figure, None), (figure, community)):
            values = kept.setdefault(key, [0] * len(starts))
            values[at[start]] += value
    order = sorted(kept, key=lambda k: (k[0], k[1] is not None, k[1] or ""))
    return [Line(figure, community, tuple(kept[(figure, community)])) for figure, community in order]
