"""The door's rules for signed tickets, without I/O: a genuine code names its sign-up; a code
signed with a key the community does not publish, by an expired key, tampered with, or past its
expiry admits nobody."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.activities import signed_tickets
from services.activities.signed_tickets import TicketKey
from services.common.errors import Refusal
from tests.dates import minutes_from_now

COMMUNITY = "lingwu-shuofang"


def community_key(key_id: int = 7, valid_for: timedelta | None = None) -> tuple[bytes, dict[int, TicketKey]]:
    seed = signed_tickets.new_private_key()
    valid_until = minutes_from_now(0) + valid_for if valid_for is not None else None
    key = TicketKey(key_id, COMMUNITY, signed_tickets.public_key_of(seed), valid_until)
    return seed, {key_id: key}


def refusal_code(code: str, keys: dict[int, TicketKey], community: str = COMMUNITY) -> str:
    with pytest.raises(Refusal) as refused:
        signed_tickets.verify(code, keys, community, minutes_from_now(0))
    return refused.value.code


def test_a_genuine_code_names_its_sign_up_and_session_and_fits_a_small_qr() -> None:
    seed, keys = community_key()
    signup, session = uuid.uuid4(), uuid.uuid4()
    code = signed_tickets.issue(seed, 7, signup, session, minutes_from_now(60 * 24))
    ticket = signed_tickets.verify(code, keys, COMMUNITY, minutes_from_now(0))
    assert (ticket.signup_id, ticket.session_id, ticket.key_id) == (signup, session, 7)
    assert signed_tickets.version_of(code) == 2 and len(code) <= 170
    assert code.isalnum() and code == code.upper()  # QR alphanumeric mode


def test_a_code_signed_with_a_foreign_key_is_refused() -> None:
    _, keys = community_key()
    stranger = signed_tickets.new_private_key()  # same key id, not the community's key
    forged = signed_tickets.issue(stranger, 7, uuid.uuid4(), uuid.uuid4(), minutes_from_now(600))
    assert refusal_code(forged, keys) == "INVALID_CODE"
    unknown_id = signed_tickets.issue(stranger, 8, uuid.uuid4(), uuid.uuid4(), minutes_from_now(600))
    assert refusal_code(unknown_id, keys) == "UNKNOWN_TICKET_KEY"


def test_another_communitys_key_does_not_admit_here() -> None:
    seed, keys = community_key()
    code = signed_tickets.issue(seed, 7, uuid.uuid4(), uuid.uuid4(), minutes_from_now(600))
    assert refusal_code(code, keys, community="lingwu-xiyuan") == "UNKNOWN_TICKET_KEY"


def test_a_ticket_of_an_expired_key_is_refused_and_of_a_rotated_key_still_valid_admitted() -> None:
    seed, expired = community_key(valid_for=timedelta(minutes=-1))
    code = signed_tickets.issue(seed, 7, uuid.uuid4(), uuid.uuid4(), minutes_from_now(600))
    assert refusal_code(code, expired) == "TICKET_KEY_EXPIRED"
    rotated = {7: TicketKey(7, COMMUNITY, expired[7].public_key, minutes_from_now(60))}
    assert signed_tickets.verify(code, rotated, COMMUNITY, minutes_from_now(0)).key_id == 7


def test_an_expired_or_tampered_ticket_is_refused() -> None:
    seed, keys = community_key()
    old = signed_tickets.issue(seed, 7, uuid.uuid4(), uuid.uuid4(), minutes_from_now(-1))
    assert refusal_code(old, keys) == "TICKET_EXPIRED"
    good = signed_tickets.issue(seed, 7, uuid.uuid4(), uuid.uuid4(), minutes_from_now(600))
    flipped = good[:20] + ("A" if good[20] != "A" else "B") + good[21:]
    assert refusal_code(flipped, keys) == "INVALID_CODE"


def test_the_private_key_is_stored_wrapped_under_the_secret() -> None:
    seed = signed_tickets.new_private_key()
    stored = signed_tickets.wrap("a" * 40, 3, seed)
    assert seed not in stored
    assert signed_tickets.unwrap("a" * 40, 3, stored) == seed
    with pytest.raises(RuntimeError):
        signed_tickets.unwrap("b" * 40, 3, stored)
