"""The six digits beside the station's QR: typed by hand, bound to the place and the time step."""

from __future__ import annotations

import pytest

from services.common.errors import Refusal
from services.volunteers import codes

SECRET = "s3cret"
HALL = "朔方社区邻里驿家"
HERE, THERE = "lingwu-shuofang", "lingwu-xiyuan"
T0 = 1_796_432_400.0  # a pure test passes its own clock: the start of a 30-second step


def refused(typed: str, community: str = HERE, venue: str = HALL, now: float = T0) -> str:
    with pytest.raises(Refusal) as caught:
        codes.verify_station_digits(SECRET, typed, community, venue, now)
    return caught.value.code


def test_the_digits_are_six_and_only_digits() -> None:
    digits = codes.station_digits(SECRET, HERE, HALL, T0)
    assert len(digits) == 6 and digits.isdigit()
    assert codes.is_station_digits(digits)
    assert codes.is_station_digits(f"{digits[:3]} {digits[3:]}")  # the station shows them in threes
    assert not codes.is_station_digits("12345")
    assert not codes.is_station_digits("LS1234")


def test_the_digits_are_accepted_for_their_step_and_one_step_of_grace() -> None:
    digits = codes.station_digits(SECRET, HERE, HALL, T0 + 5)
    assert codes.verify_station_digits(SECRET, digits, HERE, HALL, T0 + 29) == codes.step_of(T0)
    grouped = f"{digits[:3]} {digits[3:]}"
    assert codes.verify_station_digits(SECRET, grouped, HERE, HALL, T0 + codes.STEP_S + 29) == codes.step_of(
        T0
    )
    assert refused(digits, now=T0 + 2 * codes.STEP_S) == "WRONG_STATION_DIGITS"


def test_the_digits_rotate_with_the_qr() -> None:
    seen = {codes.station_digits(SECRET, HERE, HALL, T0 + step * codes.STEP_S) for step in range(20)}
    assert len(seen) >= 18  # two equal six-digit draws in twenty are possible, but rare


def test_the_digits_of_one_place_do_not_check_in_at_another() -> None:
    digits = codes.station_digits(SECRET, HERE, HALL, T0)
    assert codes.station_digits(SECRET, THERE, HALL, T0) != digits
    assert refused(digits, community=THERE) == "WRONG_STATION_DIGITS"
    assert refused(digits, venue="西苑广场") == "WRONG_STATION_DIGITS"


def test_the_digits_depend_on_the_secret() -> None:
    assert codes.station_digits("another", HERE, HALL, T0) != codes.station_digits(SECRET, HERE, HALL, T0)


def test_a_lockout_says_how_long_in_whole_minutes() -> None:
    refusal = codes.too_many_wrong_digits(61)
    assert refusal.code == "TOO_MANY_WRONG_DIGITS"
    assert "2分钟" in refusal.zh
