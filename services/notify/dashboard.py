"""What each event adds to the dashboard's counts, and how small counts are shown. No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from services.common.clock import LOCAL_TZ

SIGNUPS_CONFIRMED = (
    "signups_confirmed"  # sign-ups confirmed (at once or off the waiting list), less cancelled
)
PEOPLE_ADMITTED = "people_admitted"  # people let in at the door
VOLUNTEER_MINUTES = "volunteer_minutes"  # minutes credited, less undone check-outs, with corrections
WISHES_POSTED = "wishes_posted"
WISHES_CLAIMED = "wishes_claimed"
WISHES_MET = "wishes_met"
# hours per unit (minutes, like volunteer_minutes): a party member's work unit (双报到), and each
# partner organisation (共建单位) the volunteer is a member of
PARTY_MEMBER_MINUTES = "party_member_minutes"
PARTNER_MINUTES = "partner_minutes"
WISH_DAYS_TO_MET = "wish_days_to_met"  # a histogram: label = whole days from posted to met, value = wishes
ITEMS_CLAIMED = "items_claimed"  # project items (三张清单) claimed, per partner unit
ITEMS_CLOSED = "items_closed"  # project items closed (销号), per partner unit that carried them out
CONCERNS_RAISED = "concerns_raised"  # 邻里议事会 concerns raised
CONCERNS_RESOLVED = "concerns_resolved"  # handled on the spot, or done after the council decided
# Kept per session (notify.dashboard_sessions) and counted on the session's own day, read at once:
SIGNED_UP_BY_CATEGORY = "signed_up_by_category"  # people in confirmed sign-ups, per activity category
ADMITTED_BY_CATEGORY = "admitted_by_category"
NO_SHOWS_BY_CATEGORY = "no_shows_by_category"
SIGNED_UP_BY_STATION = "signed_up_by_station"  # the same at each 邻里驿家 station (venues of kind STATION)
ADMITTED_BY_STATION = "admitted_by_station"
NO_SHOWS_BY_STATION = "no_shows_by_station"
PEOPLE_BY_AGE_BAND = "people_by_age_band"  # people in confirmed sign-ups, per age band
MEDIAN_DAYS_TO_MET = "wishes_median_days_to_met"  # worked out on reading, from the histogram
FIGURES = (
    SIGNUPS_CONFIRMED,
    PEOPLE_ADMITTED,
    VOLUNTEER_MINUTES,
    WISHES_POSTED,
    WISHES_CLAIMED,
    WISHES_MET,
    SIGNED_UP_BY_CATEGORY,
    ADMITTED_BY_CATEGORY,
    NO_SHOWS_BY_CATEGORY,
    SIGNED_UP_BY_STATION,
    ADMITTED_BY_STATION,
    NO_SHOWS_BY_STATION,
    PEOPLE_BY_AGE_BAND,
    PARTY_MEMBER_MINUTES,
    PARTNER_MINUTES,
    MEDIAN_DAYS_TO_MET,
    ITEMS_CLAIMED,
    ITEMS_CLOSED,
    CONCERNS_RAISED,
    CONCERNS_RESOLVED,
)
# Below this a count could point at a person: it is shown as "<5". Minutes are a sum, a median
# is not a count: neither is a head count.
SMALL = 5
HEAD_COUNTS = frozenset(FIGURES) - {
    VOLUNTEER_MINUTES,
    PARTY_MEMBER_MINUTES,
    PARTNER_MINUTES,
    MEDIAN_DAYS_TO_MET,
}

# Age bands as identity keeps household members' (services/identity/domain.py AgeBand: no birth
# year is kept, so 60-79 cannot be split further); the one who signed up has no age on record.
AGE_BANDS = ("<18", "18-59", "60-79", "80+", "unknown")
_BAND_OF = {"CHILD": 0, "TEEN": 0, "ADULT": 1, "SENIOR": 2, "ELDER": 3}
UNKNOWN_AGE = 4
RESOLVED = frozenset({"HANDLED", "DONE"})  # a concern's states that say it was resolved

# event type -> the figure it adds to and the payload key its label comes from
_COUNTED: dict[str, tuple[str, str]] = {
    "signup.confirmed": (SIGNUPS_CONFIRMED, "activity_title"),
    "waitlist.promoted": (SIGNUPS_CONFIRMED, "activity_title"),
    "wish.posted": (WISHES_POSTED, "category"),
    "wish.claimed": (WISHES_CLAIMED, "category"),
    "wish.met": (WISHES_MET, "category"),
    "project.claimed": (ITEMS_CLAIMED, "partner"),
}
TICKET_CHECKED_IN = "ticket.checked_in"
VOLUNTEER_CHECKED_OUT = "volunteer.checked_out"
CHECK_OUT_UNDONE = "volunteer.check_out_undone"
HOURS_CORRECTED = "service_hours.corrected"  # an organiser's correction entry
CORRECTION_DECIDED = "record_correction.decided"  # a volunteer's request, accepted: a correction entry
SIGNUP_CANCELLED = "signup.cancelled"
SESSION_CANCELLED = "session.cancelled"
PARTY_REDUCED = "signup.party_reduced"
SESSION_RESCHEDULED = "session.rescheduled"
ITEM_CLOSED = "project.closed"
CONCERN_CHANGED = "concern.changed"
_MINUTES = {
    VOLUNTEER_CHECKED_OUT: "minutes_credited",
    CHECK_OUT_UNDONE: "minutes_taken_back",
    HOURS_CORRECTED: "minutes",
    CORRECTION_DECIDED: "minutes_changed",
}
EVENTS = (
    *_COUNTED,
    TICKET_CHECKED_IN,
    *_MINUTES,
    SIGNUP_CANCELLED,
    SESSION_CANCELLED,
    PARTY_REDUCED,
    SESSION_RESCHEDULED,
    ITEM_CLOSED,
    CONCERN_CHANGED,
)


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
    community = payload.get("shift_community_id") or payload.get("community_id")
    created_at = event.get("created_at")
    if not community:
        return []
    if created_at:
        day = local_day(created_at)
    elif received_at is not None:
        day = received_at.astimezone(LOCAL_TZ).date()
    else:
        return []

    def one(figure: str, label: str, value: int) -> Increment:
        return Increment(community, day, figure, label, value)

    if kind in _COUNTED:
        figure, key = _COUNTED[kind]
        counted = [one(figure, str(payload.get(key) or ""), 1)]
        if kind == "wish.met" and payload.get("posted_at") and payload.get("met_at"):
            days = (local_day(payload["met_at"]) - local_day(payload["posted_at"])).days
            counted.append(one(WISH_DAYS_TO_MET, str(days), 1))
        return counted
    if kind in (SIGNUP_CANCELLED, SESSION_CANCELLED) and int(payload.get("seats_freed") or 0) > 0:
        return [one(SIGNUPS_CONFIRMED, str(payload.get("activity_title") or ""), -1)]  # it held seats
    if kind == TICKET_CHECKED_IN:
        return [one(PEOPLE_ADMITTED, payload["activity_title"], int(payload["people"]))]
    if kind in _MINUTES:
        minutes = int(payload.get(_MINUTES[kind]) or 0) * (-1 if kind == CHECK_OUT_UNDONE else 1)
        if not minutes:
            return []
        added = [one(VOLUNTEER_MINUTES, "", minutes)]
        if payload.get("work_unit"):
            added.append(one(PARTY_MEMBER_MINUTES, str(payload["work_unit"]), minutes))
        added += [one(PARTNER_MINUTES, str(p), minutes) for p in payload.get("partners") or ()]
        return added
    if kind == ITEM_CLOSED:
        return [one(ITEMS_CLOSED, str(p), 1) for p in payload.get("partners") or ()]
    if kind == CONCERN_CHANGED:
        if payload.get("status") == "RAISED":
            return [one(CONCERNS_RAISED, "", 1)]
        if payload.get("status") in RESOLVED:
            return [one(CONCERNS_RESOLVED, "", 1)]
    return []


@dataclass(frozen=True)
class SessionFacts:
    """What a session is, for the per-session figures; ``version`` orders the facts of a moved
    session (the newest wins, whatever order events are handled in)."""

    day: date  # the local day it starts
    ends_at: datetime
    category: str
    station: str  # "" unless it is at a 邻里驿家 station
    version: datetime


@dataclass(frozen=True)
class SessionChange:
    """What one event adds to a session's row: seats of confirmed sign-ups, people admitted,
    people per age band (``AGE_BANDS`` order)."""

    session_id: str
    community_id: str
    facts: SessionFacts
    seats: int = 0
    admitted: int = 0
    ages: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)


def ages_of(bands: list[str], people: int) -> tuple[int, int, int, int, int]:
    """People per age band: household members by their band, the rest (the one who signed up,
    or anyone without a band) unknown."""
    counted = [0, 0, 0, 0, 0]
    for band in bands:
        counted[_BAND_OF.get(band, UNKNOWN_AGE)] += 1
    counted[UNKNOWN_AGE] += people - len(bands)
    return (counted[0], counted[1], counted[2], counted[3], counted[4])


def _facts(raw: dict[str, Any]) -> SessionFacts:
    return SessionFacts(
        local_day(raw["starts_at"]),
        datetime.fromisoformat(raw["ends_at"]),
        str(raw.get("category") or ""),
        str(raw.get("station") or ""),
        datetime.fromisoformat(raw["version"]),
    )


def session_changes(event: dict[str, Any]) -> list[SessionChange]:
    """What one event changes of its session's row (none for events without the session's
    facts: those sent before the dashboard kept sessions, which ``linli dashboard-rebuild``
    counts from the tables). A cancellation takes back only seats the sign-up held (a waiting
    one held none); a party made smaller gives back its dropped members' seats."""
    kind, payload = event["type"], event["payload"]
    raw = payload.get("session_facts")
    if not raw or not payload.get("community_id") or not payload.get("session_id"):
        return []
    change = SessionChange(str(payload["session_id"]), payload["community_id"], _facts(raw))
    bands = [str(b) for b in payload.get("attendee_bands") or ()]
    party = int(payload.get("party_size") or 0)
    freed = int(payload.get("seats_freed") or 0)
    if kind in ("signup.confirmed", "waitlist.promoted"):
        return [replace(change, seats=party, ages=ages_of(bands, party))]
    if kind in (SIGNUP_CANCELLED, SESSION_CANCELLED):
        if freed <= 0:
            return [change]
        return [replace(change, seats=-freed, ages=_negated(ages_of(bands, freed)))]
    if kind == PARTY_REDUCED:
        if freed <= 0:
            return [change]
        dropped = [str(b) for b in payload.get("freed_bands") or ()]
        return [replace(change, seats=-freed, ages=_negated(ages_of(dropped, freed)))]
    if kind == TICKET_CHECKED_IN:
        return [replace(change, admitted=int(payload["people"]))]
    if kind == SESSION_RESCHEDULED:
        return [change]
    return []


def _negated(ages: tuple[int, int, int, int, int]) -> tuple[int, int, int, int, int]:
    return (-ages[0], -ages[1], -ages[2], -ages[3], -ages[4])


@dataclass(frozen=True)
class SessionTotals:
    """The per-session counts of one community, category and station over a period."""

    community_id: str
    category: str
    station: str
    signed_up: int
    admitted: int
    no_shows: int
    ages: tuple[int, int, int, int, int]


def session_figures(totals: list[SessionTotals]) -> list[tuple[str, str, str, int]]:
    """The per-session figures as (community, figure, label, value), per category and per
    station, and people per age band."""
    summed: dict[tuple[str, str, str], int] = {}

    def add(community: str, figure: str, label: str, value: int) -> None:
        summed[(community, figure, label)] = summed.get((community, figure, label), 0) + value

    for t in totals:
        add(t.community_id, SIGNED_UP_BY_CATEGORY, t.category, t.signed_up)
        add(t.community_id, ADMITTED_BY_CATEGORY, t.category, t.admitted)
        add(t.community_id, NO_SHOWS_BY_CATEGORY, t.category, t.no_shows)
        if t.station:
            add(t.community_id, SIGNED_UP_BY_STATION, t.station, t.signed_up)
            add(t.community_id, ADMITTED_BY_STATION, t.station, t.admitted)
            add(t.community_id, NO_SHOWS_BY_STATION, t.station, t.no_shows)
        for band, people in zip(AGE_BANDS, t.ages, strict=True):
            add(t.community_id, PEOPLE_BY_AGE_BAND, band, people)
    return sorted((c, f, label, v) for (c, f, label), v in summed.items() if v)


def median_days(histogram: dict[int, int]) -> float | None:
    """The exact median of the days to met counted in ``histogram`` (days -> wishes): the middle
    one, or halfway between the two middle ones. None when no wish was met."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    wanted = [(total - 1) // 2, total // 2]  # 0-based positions of the middle one(s)
    found: list[int] = []
    seen = 0
    for days in sorted(histogram):
        count = histogram[days]
        found += [days for position in wanted if seen <= position < seen + count]
        seen += count
    return (found[0] + found[1]) / 2


def median_words(median: float) -> str:
    return str(int(median)) if median == int(median) else f"{median:.1f}"


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


def shown_rows(
    values: list[tuple[str, str, str, int]],
) -> tuple[list[tuple[str, str, str, int, str]], float | None]:
    """The rows as the dashboard shows them, (community, figure, label, value, as shown), in
    ``FIGURES`` order: the days-to-met histogram turned into each community's median (the
    histogram itself is not shown), with the median over them all."""
    per_community: dict[str, dict[int, int]] = {}
    everywhere: dict[int, int] = {}
    rows: list[tuple[str, str, str, int, str]] = []
    for community, figure, label, value in values:
        if figure != WISH_DAYS_TO_MET:
            rows.append((community, figure, label, value, shown(figure, value)))
            continue
        days = int(label)
        per_community.setdefault(community, {})[days] = per_community.get(community, {}).get(days, 0) + value
        everywhere[days] = everywhere.get(days, 0) + value
    for community, histogram in sorted(per_community.items()):
        median = median_days(histogram)
        if median is not None:
            rows.append((community, MEDIAN_DAYS_TO_MET, "", 0, median_words(median)))
    order = {figure: i for i, figure in enumerate(FIGURES)}
    rows.sort(key=lambda row: (order.get(row[1], len(order)), row[0], row[2]))
    return rows, median_days(everywhere)


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
