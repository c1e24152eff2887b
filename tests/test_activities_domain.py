"""The sign-up rules on their own, no I/O: who gets a seat, who waits, who is promoted."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.activities.domain import (
    SignupStatus,
    check_party_size,
    check_reason,
    place,
    place_arrivals,
    promotions,
    seats_held,
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
