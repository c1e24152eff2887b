"""Scalar rules every input meets, at the gateway's door and again in each service's domain.

- Text is NFC-normalised (a name typed on two phones compares equal) and carries no control
  characters (NUL, terminal escapes, ...): a newline or tab only where a paragraph is allowed.
  Unpaired surrogates are refused too; PostgreSQL could not store them.
- Counts (seats, headcounts) are within ``MAX_COUNT``, the largest venue there is.
- New festivals, sessions and shifts have not ended already and lie within ``HORIZON``.

Pure functions, no I/O: the domain modules use them with the time they are given.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta

from services.common.errors import bad_input

# The most seats, places or people anything may count: venues hold 100,000 at most.
MAX_COUNT = 100_000
# How far ahead anything may be planned.
HORIZON = timedelta(days=731)
# A session or shift already under way may still be recorded (entered late), up to a day after
# it started; a festival already under way, up to a month.
LATE_ENTRY = timedelta(days=1)
FESTIVAL_LATE_ENTRY = timedelta(days=31)

SINGLE_LINE_LIMIT = 200
PARAGRAPH_LIMIT = 2000
_PARAGRAPH_BREAKS = frozenset("\n\t")
# Line and paragraph separators count as line breaks: refused on one line, a newline in a paragraph.
_SEPARATORS = {"\u2028": "\n", "\u2029": "\n", "\r\n": "\n", "\r": "\n"}


def _refused_character(value: str, paragraph: bool) -> str | None:
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs":  # an unpaired surrogate
            return char
        if category == "Cc" and not (paragraph and char in _PARAGRAPH_BREAKS):
            return char
        if char in "\u2028\u2029" and not paragraph:
            return char
    return None


def clean_text(
    field: str, value: str, *, limit: int = SINGLE_LINE_LIMIT, paragraph: bool = False, normalise: bool = True
) -> str:
    """``value`` NFC-normalised (line breaks as ``\\n`` in a paragraph); refused (BAD_USER_INPUT,
    ``field`` named) for a control character or more than ``limit`` characters."""
    value = check_characters(field, value, paragraph=paragraph, normalise=normalise)
    if len(value) > limit:
        raise bad_input(field, f"内容太长（最多{limit}字）", f"Too long ({limit} characters at most)")
    return value


def check_characters(field: str, value: str, *, paragraph: bool = False, normalise: bool = True) -> str:
    """``value`` NFC-normalised, refused for a control character (a line break or tab too,
    unless ``paragraph``); lengths are each field's own rule."""
    if paragraph:
        for separator, newline in _SEPARATORS.items():
            value = value.replace(separator, newline)
    refused = _refused_character(value, paragraph)
    if refused is not None:
        raise bad_input(
            field,
            "内容里有不能使用的特殊字符或换行，请删掉后再试",
            f"Contains a control character or line break that is not allowed (U+{ord(refused):04X})",
        )
    return unicodedata.normalize("NFC", value) if normalise else value


def check_count(
    field: str,
    value: int,
    *,
    minimum: int = 1,
    maximum: int = MAX_COUNT,
    zh: str = "数量",
    en: str = "The number",
) -> int:
    """A count (seats, people) from ``minimum`` to ``maximum``; ``zh``/``en`` name what it counts."""
    if not minimum <= value <= maximum:
        raise bad_input(field, f"{zh}须在{minimum}到{maximum}之间", f"{en} must be {minimum} to {maximum:,}")
    return value


def check_new_span(
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    *,
    start_field: str = "startsAt",
    end_field: str = "endsAt",
) -> None:
    """A new session or shift: ends after it starts, has not ended, started at most a day ago,
    and lies within the planning horizon."""
    if ends_at <= starts_at:
        raise bad_input(end_field, "结束时间须晚于开始时间", "It must end after it starts")
    if ends_at <= now:
        raise bad_input(end_field, "结束时间已经过去", "That end time has already passed")
    if starts_at < now - LATE_ENTRY:
        raise bad_input(start_field, "开始时间已经过去", "That start time has already passed")
    if ends_at > now + HORIZON:
        raise bad_input(end_field, "时间太远（最多提前两年安排）", "Too far ahead (two years at most)")


def check_new_days(starts_on: date, ends_on: date, today: date) -> None:
    """A new festival: ends on or after its first day, not over already, within the horizon."""
    if ends_on < starts_on:
        raise bad_input("endsOn", "结束日期不能早于开始日期", "The end date is before the start date")
    if ends_on < today:
        raise bad_input("endsOn", "结束日期已经过去", "That end date has already passed")
    if starts_on < today - FESTIVAL_LATE_ENTRY:
        raise bad_input("startsOn", "开始日期已经过去", "That start date has already passed")
    if ends_on > today + HORIZON:
        raise bad_input("endsOn", "日期太远（最多提前两年安排）", "Too far ahead (two years at most)")
