"""What each event adds to the dashboard's counts, and how small counts read: no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from services.notify.dashboard import (
    ADMITTED_BY_CATEGORY,
    CONCERNS_RAISED,
    CONCERNS_RESOLVED,
    ITEMS_CLOSED,
    MEDIAN_DAYS_TO_MET,
    NO_SHOWS_BY_STATION,
    PARTNER_MINUTES,
    PARTY_MEMBER_MINUTES,
    PEOPLE_ADMITTED,
    PEOPLE_BY_AGE_BAND,
    SIGNED_UP_BY_CATEGORY,
    SIGNED_UP_BY_STATION,
    SIGNUPS_CONFIRMED,
    VOLUNTEER_MINUTES,
    WISH_DAYS_TO_MET,
    WISHES_MET,
    Increment,
    SessionTotals,
    increments,
    median_days,
    median_words,
    session_changes,
    session_figures,
    shown,
    shown_rows,
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
    assert increments(event("signup.cancelled", activity_title="义诊")) == []  # a waiting one: no seats
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


FACTS = {
    "starts_at": "2026-03-01T17:00:00+00:00",  # 3月2日 01:00 in Beijing: the session's day
    "ends_at": "2026-03-01T19:00:00+00:00",
    "category": "文体",
    "station": "朔方驿家",
    "version": "2026-02-01T00:00:00+00:00",
}


def test_a_cancelled_confirmed_sign_up_comes_off_the_count_but_a_waiting_one_never_counted() -> None:
    held = event("signup.cancelled", activity_title="义诊", seats_freed=2)
    assert increments(held) == [Increment("c1", date(2026, 3, 2), SIGNUPS_CONFIRMED, "义诊", -1)]
    assert increments(event("session.cancelled", activity_title="义诊", seats_freed=0)) == []


def test_a_family_counts_its_members_by_age_band_and_the_one_who_signed_up_as_unknown() -> None:
    family = event(
        "signup.confirmed",
        session_id="s1",
        party_size=3,
        attendee_bands=["CHILD", "ELDER"],
        session_facts=FACTS,
    )
    [change] = session_changes(family)
    assert (change.seats, change.ages, change.facts.day) == (3, (1, 0, 0, 1, 1), date(2026, 3, 2))
    # one of them no longer comes: a seat back, and the child's band
    reduced = event(
        "signup.party_reduced",
        session_id="s1",
        party_size=2,
        seats_freed=1,
        freed_bands=["CHILD"],
        session_facts=FACTS,
    )
    assert [(c.seats, c.ages) for c in session_changes(reduced)] == [(-1, (-1, 0, 0, 0, 0))]
    waiting = event("signup.cancelled", session_id="s1", party_size=2, seats_freed=0, session_facts=FACTS)
    assert [(c.seats, c.ages) for c in session_changes(waiting)] == [(0, (0, 0, 0, 0, 0))]
    door = event("ticket.checked_in", session_id="s1", people=2, activity_title="x", session_facts=FACTS)
    assert [c.admitted for c in session_changes(door)] == [2]
    old = event("signup.confirmed", session_id="s1", party_size=1)  # sent before sessions were kept
    assert session_changes(old) == []


def test_sessions_read_as_figures_per_category_station_and_age_band_without_zeros() -> None:
    totals = [
        SessionTotals("c1", "文体", "朔方驿家", 4, 2, 2, (1, 0, 0, 1, 2)),
        SessionTotals("c1", "文体", "", 3, 3, 0, (0, 0, 0, 0, 3)),
    ]
    figures = {(f, label): v for _, f, label, v in session_figures(totals)}
    assert figures[(SIGNED_UP_BY_CATEGORY, "文体")] == 7
    assert figures[(ADMITTED_BY_CATEGORY, "文体")] == 5
    assert figures[(SIGNED_UP_BY_STATION, "朔方驿家")] == 4  # only what was at the station
    assert figures[(NO_SHOWS_BY_STATION, "朔方驿家")] == 2
    assert figures[(PEOPLE_BY_AGE_BAND, "unknown")] == 5
    assert (PEOPLE_BY_AGE_BAND, "18-59") not in figures


def test_hours_go_to_the_work_unit_and_each_partner_and_corrections_count_too() -> None:
    out = increments(
        event("volunteer.checked_out", minutes_credited=90, work_unit="市供电公司", partners=["朔方物业"])
    )
    assert {(i.figure, i.label, i.value) for i in out} == {
        (VOLUNTEER_MINUTES, "", 90),
        (PARTY_MEMBER_MINUTES, "市供电公司", 90),
        (PARTNER_MINUTES, "朔方物业", 90),
    }
    corrected = increments(event("service_hours.corrected", minutes=-15, work_unit=None, partners=[]))
    assert [(i.figure, i.value) for i in corrected] == [(VOLUNTEER_MINUTES, -15)]
    decided = event("record_correction.decided", minutes_changed=30, shift_community_id="c2", partners=[])
    assert [(i.community_id, i.value) for i in increments(decided)] == [("c2", 30)]


def test_a_met_wish_adds_its_whole_days_to_the_histogram_and_the_median_is_exact() -> None:
    met = event(
        "wish.met",
        category="REPAIR",
        posted_at="2026-02-25T17:00:00+00:00",
        met_at="2026-03-01T17:30:00+00:00",
    )
    # posted 2月26日 01:00, met 3月2日 01:30 in Beijing: four calendar days
    assert Increment("c1", date(2026, 3, 2), WISH_DAYS_TO_MET, "4", 1) in increments(met)
    assert median_days({}) is None
    assert median_days({3: 1}) == 3
    assert median_days({1: 2, 4: 1, 9: 1}) == 2.5  # 1 1 4 9
    assert median_days({1: 2, 4: 1, 9: 2}) == 4  # 1 1 4 9 9
    assert (median_words(2.5), median_words(4.0)) == ("2.5", "4")
    assert shown(MEDIAN_DAYS_TO_MET, 2) == "2"


def test_items_close_per_unit_and_concerns_count_when_raised_and_when_resolved() -> None:
    closed = increments(event("project.closed", partners=["朔方物业", "市供电公司"]))
    assert sorted(i.label for i in closed if i.figure == ITEMS_CLOSED) == ["市供电公司", "朔方物业"]
    states = ["RAISED", "TO_COUNCIL", "DECIDED", "DONE", "RATED", "HANDLED", "DUPLICATE"]
    counted = [i.figure for s in states for i in increments(event("concern.changed", status=s))]
    assert counted == [CONCERNS_RAISED, CONCERNS_RESOLVED, CONCERNS_RESOLVED]


def test_the_histogram_is_shown_only_as_each_communitys_median_and_the_scopes() -> None:
    values = [
        ("c1", WISH_DAYS_TO_MET, "2", 1),
        ("c1", WISH_DAYS_TO_MET, "6", 2),
        ("c2", WISH_DAYS_TO_MET, "1", 1),
        ("c1", WISHES_MET, "REPAIR", 3),
        ("c1", SIGNUPS_CONFIRMED, "义诊", 7),
    ]
    rows, median = shown_rows(values)
    assert rows == [
        ("c1", SIGNUPS_CONFIRMED, "义诊", 7, "7"),
        ("c1", WISHES_MET, "REPAIR", 3, "<5"),
        ("c1", MEDIAN_DAYS_TO_MET, "", 0, "6"),
        ("c2", MEDIAN_DAYS_TO_MET, "", 0, "1"),
    ]
    assert median == 4  # 1 2 6 6
