"""What each event adds to the dashboard's counts, and how small counts read: no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from services.notify.dashboard import (
    PEOPLE_ADMITTED,
    SIGNUPS_CONFIRMED,
    VOLUNTEER_MINUTES,
    WISHES_MET,
    Increment,
    increments,
    shown,
    whole_months,
)


def event(kind: str, created_at: str = "2026-03-01T17:30:00+00:00", **payload: Any) -> dict[str, Any]:
    return {"type": kind, "created_at": created_at, "payload": {"community_id": "c1", **payload}}


def test_a_confirmed_sign_up_counts_once_on_its_beijing_day_under_its_activity() -> None:
    # 17:30 UTC is half past one the next morning in Beijing
    assert increments(event("signup.confirmed", activity_title="义诊", resident_id="r1")) == [
        Increment("c1", date(2026, 3, 2), SIGNUPS_CONFIRMED, "义诊", 1)
    ]
    assert increments(event("waitlist.promoted", activity_title="义诊"))[0].figure == SIGNUPS_CONFIRMED


def test_the_door_counts_the_people_let_in_this_time_not_the_partys_running_total() -> None:
    scan = event("ticket.checked_in", activity_title="剪纸", people=1, admitted=2, party_size=3)
    assert increments(scan) == [Increment("c1", date(2026, 3, 2), PEOPLE_ADMITTED, "剪纸", 1)]


def test_an_undone_check_out_takes_its_minutes_back() -> None:
    out = increments(event("volunteer.checked_out", minutes_credited=90, role="引导员"))
    undone = increments(event("volunteer.check_out_undone", minutes_taken_back=90))
    assert [i.value for i in out + undone] == [90, -90]
    assert {i.figure for i in out + undone} == {VOLUNTEER_MINUTES}


def test_wishes_count_under_their_category_and_other_events_count_nothing() -> None:
    assert increments(event("wish.met", category="REPAIR"))[0] == Increment(
        "c1", date(2026, 3, 2), WISHES_MET, "REPAIR", 1
    )
    assert increments(event("signup.cancelled", activity_title="义诊")) == []
    no_community = {"type": "signup.confirmed", "created_at": "2026-03-01T00:00:00+00:00", "payload": {}}
    assert increments(no_community) == []


def test_head_counts_under_five_read_less_than_five_but_minutes_are_shown_as_they_are() -> None:
    assert [shown(SIGNUPS_CONFIRMED, n) for n in (0, 1, 4, 5, 12)] == ["0", "<5", "<5", "5", "12"]
    assert shown(VOLUNTEER_MINUTES, 3) == "3"


def test_a_period_reads_whole_months_from_the_roll_up_and_the_days_around_them_day_by_day() -> None:
    assert whole_months(date(2026, 1, 15), date(2026, 4, 10)) == (date(2026, 2, 1), date(2026, 4, 1))
    assert whole_months(date(2026, 1, 1), date(2026, 12, 31)) == (date(2026, 1, 1), date(2027, 1, 1))
    assert whole_months(date(2026, 1, 31), date(2026, 2, 28)) == (date(2026, 2, 1), date(2026, 3, 1))
    start, end = whole_months(date(2026, 3, 2), date(2026, 3, 30))  # no whole month: all daily
    assert start == end


def test_an_event_without_its_time_counts_on_the_day_it_was_received() -> None:
    undated = event("signup.confirmed", activity_title="义诊")
    del undated["created_at"]
    received = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)  # 3月2日 01:00 in Beijing
    assert increments(undated, received) == [Increment("c1", date(2026, 3, 2), SIGNUPS_CONFIRMED, "义诊", 1)]
    assert increments(undated) == []  # no day to count it on
