"""Dates for tests that meet the real clock, derived from now, so a test means the same next year.

Anything sent to the services (festivals, sessions, shifts, report periods) or typed into a page
is compared there with the real clock: build it here, never as a literal. Pure domain tests that
pass their own ``now`` may keep fixed dates. ``make test-next-year`` runs the suite a year ahead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from services.common.clock import LOCAL_TZ, now

# The festival of most tests starts a week ahead: nothing has begun, registration is open, and
# both of its days are still ahead whatever the weekday.
FESTIVAL_DAY = 7


def day(days_ahead: int = 0) -> date:
    """The calendar day in Beijing ``days_ahead`` days from today (negative: in the past)."""
    return now().astimezone(LOCAL_TZ).date() + timedelta(days=days_ahead)


def at(days_ahead: int, clock: str = "09:00") -> datetime:
    """That day at ``clock`` ("HH:MM"), Beijing time."""
    return datetime.combine(day(days_ahead), time.fromisoformat(clock), tzinfo=LOCAL_TZ)


def day_iso(days_ahead: int = 0) -> str:
    """ "2026-12-10": a GraphQL ``Date`` or a page's date option."""
    return day(days_ahead).isoformat()


def at_iso(days_ahead: int, clock: str = "09:00") -> str:
    """ "2026-12-10T09:00:00+08:00": a GraphQL ``DateTime``."""
    return at(days_ahead, clock).isoformat()


def at_input(days_ahead: int, clock: str = "09:00") -> str:
    """ "2026-12-10T09:00": what a person types into a ``datetime-local`` field (Beijing time)."""
    return at(days_ahead, clock).isoformat()[:16]


def minutes_from_now(minutes: int) -> datetime:
    """Beijing time, to the minute, ``minutes`` from now."""
    return now().astimezone(LOCAL_TZ).replace(second=0, microsecond=0) + timedelta(minutes=minutes)


def zh_day(days_ahead: int) -> str:
    """ "12月10日", as messages and pages say the day."""
    shown = day(days_ahead)
    return f"{shown.month}月{shown.day}日"


def en_day(days_ahead: int) -> str:
    """ "10 Dec", as English messages say the day."""
    return day(days_ahead).strftime("%d %b")


def utc_stamp(moment: datetime) -> str:
    """ "20261210T010000Z", as iCalendar files write a moment."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
