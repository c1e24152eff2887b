"""The sign-up rules on their own, no I/O: who gets a seat, who waits, who is promoted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.activities.domain import (
    Booking,
    Move,
    SessionPlan,
    SignupStatus,
    SignupTerms,
    attendance_refusal,
    cancellation_refusal,
    check_new_capacity,
    check_party_size,
    check_reason,
    check_session,
    first_clash,
    fits_venue,
    overlaps,
    party_with,
    place,
    place_arrivals,
    promotions,
    reschedule_notice,
    seats_held,
    signup_refusal,
    venue_clash,
)
from services.common.errors import Refusal


def test_a_party_is_confirmed_only_while_all_of_it_fits() -> None:
    assert place(capacity=10, taken=6, party_size=4) == SignupStatus.CONFIRMED
    assert place(capacity=10, taken=7, party_size=4) == SignupStatus.WAITLISTED


@pytest.mark.parametrize("size", [0, -1, 11])
def test_party_sizes_outside_one_to_ten_are_refused(size: int) -> None:
    with pytest.raises(Refusal) as refused:
        check_party_size(size)
    assert refused.value.code == "BAD_USER_INPUT"


def test_one_freed_seat_skips_a_waiting_family_and_goes_to_the_single_behind_it() -> None:
    waitlist = [("family-of-3", 3), ("single", 1), ("another-single", 1)]
    assert promotions(capacity=10, taken=9, waitlist=waitlist) == ["single"]


def test_promotion_walks_the_whole_waitlist_in_arrival_order() -> None:
    waitlist = [("a", 2), ("b", 4), ("c", 1), ("d", 3), ("e", 1)]
    # five free: a (2) fits, b (4) does not, c (1) fits, d (3) does not, e (1) fits
    assert promotions(capacity=10, taken=5, waitlist=waitlist) == ["a", "c", "e"]


def test_nobody_is_promoted_when_no_seat_is_free() -> None:
    assert promotions(capacity=4, taken=4, waitlist=[("a", 1)]) == []
    assert promotions(capacity=4, taken=0, waitlist=[]) == []


def test_only_confirmed_parties_hold_seats() -> None:
    assert seats_held(SignupStatus.CONFIRMED, 3) == 3
    assert seats_held(SignupStatus.WAITLISTED, 3) == 0
    assert seats_held(SignupStatus.CANCELLED, 3) == 0


def test_a_cancellation_reason_is_required_and_bounded() -> None:
    assert check_reason("  暴雨预警  ") == "暴雨预警"
    for reason in ("   ", "长" * 501):
        with pytest.raises(Refusal) as refused:
            check_reason(reason)
        assert refused.value.details == {"field": "reason"}


@dataclass
class SessionModel:
    """A session kept in memory, changed only through the domain's decisions."""

    capacity: int
    taken: int = 0
    confirmed: dict[int, int] = field(default_factory=dict)  # sign-up id -> party size
    waitlist: list[tuple[int, int]] = field(default_factory=list)  # arrival order
    next_id: int = 0

    def sign_up(self, party_size: int) -> None:
        signup_id, self.next_id = self.next_id, self.next_id + 1
        if place(self.capacity, self.taken, party_size) == SignupStatus.CONFIRMED:
            self.confirmed[signup_id] = party_size
            self.taken += party_size
        else:
            self.waitlist.append((signup_id, party_size))

    def cancel(self, pick: int) -> None:
        live = sorted([*self.confirmed, *(signup_id for signup_id, _ in self.waitlist)])
        if not live:
            return
        signup_id = live[pick % len(live)]
        if signup_id in self.confirmed:
            self.taken -= self.confirmed.pop(signup_id)
        else:
            self.waitlist = [entry for entry in self.waitlist if entry[0] != signup_id]
        for promoted in promotions(self.capacity, self.taken, self.waitlist):
            party_size = dict(self.waitlist)[promoted]
            self.waitlist.remove((promoted, party_size))
            self.confirmed[promoted] = party_size
            self.taken += party_size


sign_ups = st.tuples(st.just("sign_up"), st.integers(min_value=1, max_value=4))
cancellations = st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=1_000))


@settings(max_examples=500)
@given(
    capacity=st.integers(min_value=1, max_value=8),
    steps=st.lists(st.one_of(sign_ups, sign_ups, cancellations), min_size=5, max_size=80),
)
def test_any_mix_of_signups_and_cancellations_keeps_the_seat_rules(
    capacity: int, steps: list[tuple[str, int]]
) -> None:
    session = SessionModel(capacity)
    for action, value in steps:
        if action == "sign_up":
            session.sign_up(value)
        else:
            session.cancel(value)

        assert session.taken == sum(session.confirmed.values())
        assert session.taken <= session.capacity
        arrivals = [signup_id for signup_id, _ in session.waitlist]
        assert arrivals == sorted(arrivals), "the waitlist keeps arrival order"
        free = session.capacity - session.taken
        assert all(party_size > free for _, party_size in session.waitlist), (
            "nobody waits who would fit in the free seats"
        )


def test_parties_arriving_together_are_placed_in_order_and_the_waiting_join_the_queue() -> None:
    placements, taken = place_arrivals(capacity=5, taken=2, waiting=1, party_sizes=[2, 4, 1, 1])

    assert [(p.status, p.waitlist_position) for p in placements] == [
        (SignupStatus.CONFIRMED, None),
        (SignupStatus.WAITLISTED, 2),
        (SignupStatus.CONFIRMED, None),
        (SignupStatus.WAITLISTED, 3),
    ]
    assert taken == 5


# --- venues, windows, limits and moves ---------------------------------------------------------

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_bookings_overlap_only_when_they_share_time_and_back_to_back_is_fine() -> None:
    assert overlaps(T0, T0 + 2 * HOUR, T0 + HOUR, T0 + 3 * HOUR)
    assert overlaps(T0, T0 + 3 * HOUR, T0 + HOUR, T0 + 2 * HOUR)  # one inside the other
    assert not overlaps(T0, T0 + HOUR, T0 + HOUR, T0 + 2 * HOUR)  # one starts as the other ends
    assert not overlaps(T0 + 2 * HOUR, T0 + 3 * HOUR, T0, T0 + HOUR)


def test_the_earliest_clash_is_named_and_a_moving_session_does_not_clash_with_itself() -> None:
    morning = Booking("morning", T0, T0 + 2 * HOUR)
    noon = Booking("noon", T0 + 2 * HOUR, T0 + 4 * HOUR)
    booked = [noon, morning]

    assert first_clash(T0 + HOUR, T0 + 3 * HOUR, booked) == morning
    assert first_clash(T0 + HOUR, T0 + 2 * HOUR, booked, ignoring="morning") is None
    assert first_clash(T0 + 4 * HOUR, T0 + 5 * HOUR, booked) is None
    refusal = venue_clash(morning, "朔方邻里驿家")
    assert refusal.code == "VENUE_CLASH" and refusal.details["sessionId"] == "morning"


@given(
    a=st.tuples(st.integers(0, 48), st.integers(1, 12)),
    b=st.tuples(st.integers(0, 48), st.integers(1, 12)),
)
def test_overlap_is_symmetric_and_agrees_with_shared_minutes(a: tuple[int, int], b: tuple[int, int]) -> None:
    a_start, a_end = T0 + a[0] * HOUR, T0 + (a[0] + a[1]) * HOUR
    b_start, b_end = T0 + b[0] * HOUR, T0 + (b[0] + b[1]) * HOUR
    shared = set(range(a[0], a[0] + a[1])) & set(range(b[0], b[0] + b[1]))
    assert overlaps(a_start, a_end, b_start, b_end) == overlaps(b_start, b_end, a_start, a_end)
    assert overlaps(a_start, a_end, b_start, b_end) == bool(shared)


def test_a_session_may_not_hold_more_than_its_venue() -> None:
    fits_venue(30, 30, "广场")
    with pytest.raises(Refusal) as refused:
        fits_venue(31, 30, "广场")
    assert refused.value.code == "OVER_VENUE_CAPACITY"


def test_capacity_may_not_drop_below_the_seats_already_taken() -> None:
    assert check_new_capacity(8, taken=8) == 8
    with pytest.raises(Refusal) as refused:
        check_new_capacity(7, taken=8)
    assert refused.value.code == "CAPACITY_BELOW_TAKEN"


TERMS = SignupTerms(
    registration_opens_at=T0 - 24 * HOUR,
    registration_closes_at=T0 - HOUR,
    max_party_size=3,
    max_sessions_per_resident=2,
)


def _code(refusal: Refusal | None) -> str | None:
    return refusal.code if refusal else None


def test_the_signup_window_opens_and_closes_on_time() -> None:
    opens, closes = TERMS.registration_opens_at, TERMS.registration_closes_at
    assert opens is not None and closes is not None
    just_before = opens - timedelta(seconds=1)
    assert _code(signup_refusal(TERMS, 1, just_before, 0)) == "REGISTRATION_NOT_OPEN"
    assert _code(signup_refusal(TERMS, 1, opens, 0)) is None
    assert _code(signup_refusal(TERMS, 1, closes - timedelta(seconds=1), 0)) is None
    assert _code(signup_refusal(TERMS, 1, closes, 0)) == "REGISTRATION_CLOSED"


def test_without_a_window_or_limit_registration_is_always_open() -> None:
    open_terms = SignupTerms(None, None, 10, None)
    assert signup_refusal(open_terms, 10, T0, festival_signups_held=99) is None


def test_a_party_above_the_sessions_limit_and_a_resident_at_the_festival_limit_are_refused() -> None:
    during = T0 - 2 * HOUR
    assert _code(signup_refusal(TERMS, 3, during, 0)) is None
    assert _code(signup_refusal(TERMS, 4, during, 0)) == "PARTY_TOO_LARGE"
    assert _code(signup_refusal(TERMS, 1, during, 1)) is None
    assert _code(signup_refusal(TERMS, 1, during, 2)) == "FESTIVAL_LIMIT_REACHED"


def test_cancelling_is_free_until_the_deadline_and_always_after_a_move() -> None:
    deadline = T0 - HOUR
    assert cancellation_refusal(None, T0, free_cancel=False) is None
    assert cancellation_refusal(deadline, deadline - timedelta(seconds=1), free_cancel=False) is None
    assert _code(cancellation_refusal(deadline, deadline, free_cancel=False)) == (
        "CANCELLATION_DEADLINE_PASSED"
    )
    assert cancellation_refusal(deadline, T0, free_cancel=True) is None


def test_a_sign_up_whose_party_has_checked_in_cannot_be_cancelled() -> None:
    for deadline, free_cancel in ((None, False), (T0 + HOUR, False), (T0 - HOUR, True)):
        refusal = cancellation_refusal(deadline, T0, free_cancel, checked_in_at=T0 - HOUR)
        assert _code(refusal) == "ALREADY_CHECKED_IN"


def test_a_family_signup_is_the_resident_plus_each_named_member() -> None:
    assert party_with([], None) == 1
    assert party_with([], 3) == 3
    assert party_with(["m1", "m2"], None) == 3
    assert party_with(["m1", "m2"], 3) == 3
    assert party_with(["m1", "m2"], None, include_me=False) == 2
    assert party_with([f"m{n}" for n in range(10)], None, include_me=False) == 10
    for ids, size, me in (
        (["m1", "m2"], 2, True),
        (["m1", "m1"], None, True),
        ([f"m{n}" for n in range(10)], None, True),
        ([], None, False),
    ):
        with pytest.raises(Refusal) as refused:
            party_with(ids, size, me)
        assert refused.value.code == "BAD_USER_INPUT"


def test_named_members_must_suit_the_activity_and_a_child_needs_a_grown_up() -> None:
    kids = ["CHILD"]
    assert attendance_refusal([], False, ["ELDER", "CHILD"], include_me=False) is None
    assert attendance_refusal(["CHILD", "ADULT"], True, ["CHILD"], include_me=True) is None
    assert _code(attendance_refusal(kids, False, ["CHILD", "ELDER"], include_me=True)) == (
        "AGE_BAND_MISMATCH"
    )
    assert _code(attendance_refusal(kids, True, ["CHILD"], include_me=False)) == "CHILD_NEEDS_ADULT"
    assert attendance_refusal(kids, False, ["CHILD"], include_me=False) is None
    assert attendance_refusal(["CHILD", "SENIOR"], True, ["CHILD", "SENIOR"], include_me=False) is None


def test_registration_must_close_after_it_opens() -> None:
    plan = SessionPlan(
        "广场", T0, T0 + HOUR, 10, registration_opens_at=T0 - HOUR, registration_closes_at=T0 - HOUR
    )
    with pytest.raises(Refusal) as refused:
        check_session(plan)
    assert refused.value.details == {"field": "registrationClosesAt"}


def test_a_move_tells_old_and_new_and_a_move_to_the_same_place_and_time_tells_nothing() -> None:
    before = Move(T0, T0 + HOUR, "v1", "朔方邻里驿家")
    after = Move(T0 + 24 * HOUR, T0 + 25 * HOUR, "v2", "西苑广场")
    notice = reschedule_notice(before, after)
    assert notice is not None
    assert (notice["old_venue"], notice["venue"]) == ("朔方邻里驿家", "西苑广场")
    assert notice["old_starts_at"] == T0.isoformat()
    assert reschedule_notice(before, before) is None
