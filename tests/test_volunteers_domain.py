"""The rules of volunteering, without a database: check-in windows and honest service hours."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import Refusal
from services.volunteers import domain
from services.volunteers.domain import Policy, Rounding, RoundingMode, Span

NINE = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # 09:00 in Lingwu
MORNING = Span(NINE, NINE + timedelta(hours=3))


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def code_of(fn: object, *args: object) -> str:
    with pytest.raises(Refusal) as caught:
        fn(*args)  # type: ignore[operator]
    return caught.value.code


# --- the check-in window ------------------------------------------------------------------------


def test_check_in_opens_thirty_minutes_before_the_shift_and_closes_when_it_ends() -> None:
    domain.ensure_may_check_in(NINE - minutes(30), MORNING)
    domain.ensure_may_check_in(NINE + minutes(179), MORNING)
    assert code_of(domain.ensure_may_check_in, NINE - minutes(31), MORNING) == "OUTSIDE_WINDOW"
    assert code_of(domain.ensure_may_check_in, MORNING.end, MORNING) == "OUTSIDE_WINDOW"


def test_the_window_follows_the_policy() -> None:
    early = Policy(check_in_opens_before=minutes(60))
    domain.ensure_may_check_in(NINE - minutes(55), MORNING, early)
    with pytest.raises(Refusal) as caught:
        domain.ensure_may_check_in(NINE - minutes(61), MORNING, early)
    assert "60" in caught.value.en


# --- signing up ------------------------------------------------------------------------------------


def test_a_volunteer_cannot_take_two_shifts_at_once_but_back_to_back_is_fine() -> None:
    afternoon = Span(MORNING.end, MORNING.end + timedelta(hours=2))
    lunch = Span(NINE + timedelta(hours=2), NINE + timedelta(hours=4))
    domain.ensure_may_sign_up(NINE - timedelta(days=1), afternoon, [MORNING])
    assert code_of(domain.ensure_may_sign_up, NINE, lunch, [MORNING]) == "SHIFT_OVERLAP"


def test_nobody_signs_up_for_a_shift_that_is_over() -> None:
    assert code_of(domain.ensure_may_sign_up, MORNING.end, MORNING, []) == "SHIFT_OVER"


def test_a_shift_plan_is_cleaned_and_checked() -> None:
    plan = domain.ShiftPlan("c1", "  朔方  驿家 ", " 引导 ", NINE, NINE + minutes(90), 4)
    assert domain.check_shift(plan).venue == "朔方 驿家"
    backwards = domain.ShiftPlan("c1", "v", "r", NINE, NINE - minutes(1), 4)
    assert code_of(domain.check_shift, backwards) == "BAD_USER_INPUT"
    nobody = domain.ShiftPlan("c1", "v", "r", NINE, NINE + minutes(1), 0)
    assert code_of(domain.check_shift, nobody) == "BAD_USER_INPUT"
    naive = domain.ShiftPlan("c1", "v", "r", NINE.replace(tzinfo=None), NINE.replace(tzinfo=None), 1)
    assert code_of(domain.check_shift, naive) == "BAD_USER_INPUT"


# --- service hours -------------------------------------------------------------------------------


def test_time_before_the_shift_and_after_it_does_not_count() -> None:
    span = domain.attended(NINE - minutes(25), MORNING.end + minutes(40), MORNING)
    assert span == MORNING
    assert domain.credited_minutes([span]) == 180


def test_time_is_rounded_down_to_a_quarter_hour_by_default() -> None:
    span = domain.attended(NINE + minutes(5), NINE + minutes(79), MORNING)
    assert domain.credited_minutes([span]) == 60  # 74 minutes served


def test_rounding_is_configurable() -> None:
    served = [Span(NINE, NINE + minutes(74))]
    assert domain.credited_minutes(served, Rounding(10)) == 70
    assert domain.credited_minutes(served, Rounding(15, RoundingMode.NEAREST)) == 75
    assert domain.credited_minutes(served, Rounding(30, RoundingMode.UP)) == 90
    assert domain.credited_minutes(served, Rounding(1)) == 74


def test_a_check_out_outside_the_shift_counts_nothing() -> None:
    assert domain.attended(NINE - minutes(30), NINE - minutes(1), MORNING) is None
    assert domain.attendance_credit([], None) == 0


def test_overlapping_records_count_once() -> None:
    first = Span(NINE, NINE + minutes(60))
    overlapping = Span(NINE + minutes(30), NINE + minutes(90))
    assert domain.credited_minutes([first, overlapping, first]) == 90


def test_the_ledger_credits_only_what_a_check_out_adds() -> None:
    first = Span(NINE, NINE + minutes(50))
    assert domain.attendance_credit([], first) == 45
    # 50 + 20 minutes served in all: 60 credited in total, so 15 more
    assert domain.attendance_credit([first], Span(NINE + minutes(60), NINE + minutes(80))) == 15
    # a duplicate record of time already credited adds nothing
    assert domain.attendance_credit([first], Span(NINE + minutes(10), NINE + minutes(40))) == 0


def test_a_correction_needs_a_reason_and_cannot_make_the_total_negative() -> None:
    assert domain.check_correction(30, " 忘记签到 ", credited_now=0) == (30, "忘记签到")
    assert domain.check_correction(-45, "重复记录", credited_now=45) == (-45, "重复记录")
    assert code_of(domain.check_correction, 30, "  ", 0) == "BAD_USER_INPUT"
    assert code_of(domain.check_correction, 0, "why", 0) == "BAD_USER_INPUT"
    assert code_of(domain.check_correction, -60, "too much", 45) == "BAD_USER_INPUT"


# --- properties ------------------------------------------------------------------------------------

spans = st.builds(
    lambda start, length: Span(NINE + minutes(start), NINE + minutes(start + length)),
    st.integers(min_value=-600, max_value=600),
    st.integers(min_value=0, max_value=300),
)
roundings = st.builds(Rounding, st.sampled_from([1, 5, 10, 15, 30, 60]), st.sampled_from(list(RoundingMode)))


@given(st.lists(spans, max_size=12), roundings, st.randoms(use_true_random=False))
def test_service_hours_never_double_count_and_the_ledger_adds_up(
    records: list[Span], rounding: Rounding, rng: object
) -> None:
    merged = domain.union(records)
    # the union is disjoint, sorted, and covers exactly the time the records cover
    assert all(a.end < b.start for a, b in itertools.pairwise(merged))
    for record in records:
        if record.length:
            assert any(m.start <= record.start and record.end <= m.end for m in merged)
    served = domain.served(records)
    assert served <= sum((r.length for r in records), timedelta(0))
    assert served >= max((r.length for r in records), default=timedelta(0))
    # the order of records and duplicates of them change nothing
    shuffled = list(records)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    assert domain.served(shuffled + records) == served
    # credited minutes are a whole number of steps within one step of the time served
    credited = domain.credited_minutes(records, rounding)
    assert credited % rounding.step_minutes == 0
    assert abs(timedelta(minutes=credited) - served) < timedelta(minutes=rounding.step_minutes)
    # check-outs in any order: each ledger entry is non-negative and together they are the total
    entries = [domain.attendance_credit(shuffled[:i], shuffled[i], rounding) for i in range(len(shuffled))]
    assert all(entry >= 0 for entry in entries)
    assert sum(entries) == credited
