"""Ticket codes and the door's rules, without I/O: what a scanned ticket proves, and when it admits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.activities import tickets
from services.common.actor import ORGANISER, RESIDENT, SCANNER, Actor
from services.common.errors import Refusal
from services.common.signed_codes import render

SECRET = "s3cret"
QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
STARTS = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # 09:00 in Lingwu
SESSION = uuid.uuid4()


def refused(fn: object, *args: object) -> str:
    with pytest.raises(Refusal) as caught:
        fn(*args)  # type: ignore[operator]
    return caught.value.code


def test_a_ticket_names_its_sign_up_and_fits_qr_alphanumeric_mode() -> None:
    signup_id = uuid.uuid4()
    code = tickets.issue(SECRET, signup_id)
    assert set(code) <= QR_ALPHANUMERIC and code.startswith("LT")
    assert len(code) == 47
    assert tickets.read(SECRET, code) == signup_id
    assert tickets.read(SECRET, f"  {code.lower()} ") == signup_id  # scanners differ in case


def test_a_ticket_signed_with_another_secret_is_invalid() -> None:
    code = tickets.issue("another-secret", uuid.uuid4())
    assert refused(tickets.read, SECRET, code) == "INVALID_CODE"


def test_a_volunteer_card_is_not_a_ticket() -> None:
    from services.volunteers import codes

    card = codes.issue_card(SECRET, "volunteer-1")
    assert refused(tickets.read, SECRET, card) == "INVALID_CODE"
    ticket = tickets.issue(SECRET, uuid.uuid4())
    assert refused(codes.read_card, SECRET, ticket) == "INVALID_CODE"


@given(
    position=st.integers(min_value=2, max_value=46),
    replacement=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
)
def test_changing_any_character_of_a_ticket_makes_it_invalid(position: int, replacement: str) -> None:
    code = tickets.issue(SECRET, uuid.UUID(int=7))
    forged = code[:position] + replacement + code[position + 1 :]
    if forged != code:
        assert refused(tickets.read, SECRET, forged) == "INVALID_CODE"


@given(st.text(max_size=80))
def test_garbage_is_an_invalid_code(garbage: str) -> None:
    assert refused(tickets.read, SECRET, garbage) == "INVALID_CODE"


def test_the_rendered_ticket_is_a_png_and_an_svg() -> None:
    rendered = render(tickets.issue(SECRET, uuid.uuid4()))
    assert rendered.png_data_url.startswith("data:image/png;base64,")
    assert rendered.svg.startswith("<svg")


def ticket(
    status: str = "CONFIRMED", session: uuid.UUID = SESSION, at: datetime | None = None
) -> tickets.Ticket:
    return tickets.Ticket(session, status, at)


def door(t: tickets.Ticket, now: datetime, scanned_for: uuid.UUID = SESSION) -> str | None:
    refusal = tickets.check_in_refusal(t, scanned_for, STARTS, now)
    return refusal.code if refusal else None


def test_the_door_opens_an_hour_before_the_start() -> None:
    assert door(ticket(), STARTS - timedelta(minutes=61)) == "TOO_EARLY"
    assert door(ticket(), STARTS - timedelta(minutes=60)) is None
    assert door(ticket(), STARTS + timedelta(minutes=30)) is None  # late comers still get in


def test_too_early_says_when_the_door_opens() -> None:
    refusal = tickets.check_in_refusal(ticket(), SESSION, STARTS, STARTS - timedelta(hours=3))
    assert refusal is not None
    assert refusal.details["opensAt"] == (STARTS - timedelta(hours=1)).isoformat()


def test_each_refusal_at_the_door_has_its_name() -> None:
    inside = STARTS
    assert door(ticket(), inside, scanned_for=uuid.uuid4()) == "WRONG_SESSION"
    assert door(ticket(at=inside), inside) == "ALREADY_CHECKED_IN"
    assert door(ticket("WAITLISTED"), inside) == "NOT_CONFIRMED"
    assert door(ticket("CANCELLED"), inside) == "NOT_CONFIRMED"


def test_a_used_ticket_is_refused_as_used_however_early_it_is_scanned_again() -> None:
    assert door(ticket(at=STARTS), STARTS - timedelta(hours=5)) == "ALREADY_CHECKED_IN"


def test_a_ticket_for_another_session_is_refused_as_such_even_if_used() -> None:
    assert door(ticket(at=STARTS), STARTS, scanned_for=uuid.uuid4()) == "WRONG_SESSION"


def test_scanners_and_organisers_of_the_community_check_tickets_in() -> None:
    def actor(roles: set[str], communities: set[str]) -> Actor:
        return Actor("someone", frozenset(roles), frozenset(communities))

    assert tickets.may_check_in(actor({SCANNER}, {"a"}), "a")
    assert tickets.may_check_in(actor({ORGANISER}, {"a"}), "a")
    assert not tickets.may_check_in(actor({SCANNER}, {"b"}), "a")
    assert not tickets.may_check_in(actor({RESIDENT}, {"a"}), "a")
