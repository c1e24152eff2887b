"""Identity rules without I/O: which numbers are phones, how codes are judged, who may appoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common.actor import COMMUNITY_ADMIN, ORGANISER, PLATFORM_ADMIN, Actor
from services.common.errors import Refusal
from services.identity import domain

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("13812345678", "13812345678"),
        (" 138-1234-5678 ", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
    ],
)
def test_a_mainland_mobile_number_is_read_as_eleven_digits(raw: str, phone: str) -> None:
    assert domain.check_phone(raw) == phone


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "138123456789", "phone", "+85213812345"])
def test_anything_else_is_a_bad_phone(raw: str) -> None:
    with pytest.raises(Refusal) as refused:
        domain.check_phone(raw)
    assert refused.value.code == "BAD_PHONE"


def test_codes_are_six_digits_and_their_hash_is_bound_to_secret_and_number() -> None:
    code = domain.new_code()
    assert len(code) == 6 and code.isdigit()
    stored = domain.code_hash("s3cret", "13812345678", code)
    assert stored == domain.code_hash("s3cret", "13812345678", code)
    assert stored != domain.code_hash("s3cret", "13912345678", code)
    assert stored != domain.code_hash("other", "13812345678", code)


def judge(attempts: int, submitted: str = "right", at: datetime = NOW) -> domain.CodeVerdict:
    code = domain.LoginCode("right", NOW + timedelta(minutes=5), attempts)
    return domain.judge_code(code, submitted, at, max_tries=5)


def test_a_code_is_judged_right_wrong_locked_or_expired() -> None:
    assert judge(1) is domain.CodeVerdict.ACCEPTED
    assert judge(5) is domain.CodeVerdict.ACCEPTED  # the last try may still be right
    assert judge(4, "wrong") is domain.CodeVerdict.WRONG
    assert judge(5, "wrong") is domain.CodeVerdict.LOCKED
    assert judge(1, at=NOW + timedelta(minutes=5)) is domain.CodeVerdict.EXPIRED


def test_only_admins_of_a_community_appoint_its_staff() -> None:
    admin = Actor("a", frozenset({COMMUNITY_ADMIN}), frozenset({"shuofang"}))
    organiser = Actor("o", frozenset({ORGANISER}), frozenset({"shuofang"}))
    platform = Actor("p", frozenset({PLATFORM_ADMIN}), frozenset())
    assert domain.may_appoint(admin, "shuofang") and not domain.may_appoint(admin, "xiyuan")
    assert not domain.may_appoint(organiser, "shuofang")
    assert domain.may_appoint(platform, "xiyuan")


@pytest.mark.parametrize("username", ["ab", "with space", "中文名", "x" * 33])
def test_usernames_are_short_plain_ascii(username: str) -> None:
    with pytest.raises(Refusal):
        domain.check_username(username)


def test_a_short_password_is_refused() -> None:
    with pytest.raises(Refusal) as refused:
        domain.check_password("short")
    assert refused.value.details == {"field": "password"}
