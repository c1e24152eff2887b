"""Residents' tickets: the signed code of a confirmed sign-up, and who may check it in when. No I/O.

A ticket code is ``LT`` + base32(version, key id, sign-up id, MAC) — 47 characters of QR
alphanumeric mode. It names the sign-up only: whether it admits anyone is decided at the
door from the sign-up's current state (still confirmed, this session, not yet used, not too
early), so a cancelled sign-up's screenshot admits nobody and the code never needs to expire.
Every decision takes ``now`` so the rules are tested without waiting.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common.actor import SCANNER, Actor
from services.common.errors import Refusal
from services.common.signed_codes import invalid_code, seal, unseal

PREFIX = "LT"
PURPOSE = "ticket"
# Doors open an hour early: people queue for 义诊 long before it starts.
CHECK_IN_OPENS_BEFORE = timedelta(minutes=60)
# What the printed ticket asks of people: come early enough to queue and sit down.
ARRIVE_BEFORE = timedelta(minutes=15)
SHORT_CODE_DIGITS = 6


def issue(secret: str, signup_id: uuid.UUID) -> str:
    return seal(secret, PURPOSE, PREFIX, signup_id.bytes)


def read(secret: str, code: str) -> uuid.UUID:
    """The sign-up a genuine ticket names; INVALID_CODE for anything else."""
    payload = unseal(secret, PURPOSE, PREFIX, code)
    if len(payload) != 16:
        raise invalid_code()
    return uuid.UUID(bytes=payload)


def may_check_in(actor: Actor, community_id: str) -> bool:
    """Organisers of the session's community, and its scanners, check tickets in."""
    return actor.may_organise(community_id) or (actor.has_role(SCANNER) and community_id in actor.communities)


def short_code(secret: str, signup_id: uuid.UUID) -> str:
    """Six digits printed under the QR: a crumpled ticket is found at the door by them. Not a
    credential (the door finds the sign-up among the session's own, and staff see who it is)."""
    digest = hmac.new(secret.encode(), b"linli:ticket-short:" + signup_id.bytes, hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**SHORT_CODE_DIGITS:0{SHORT_CODE_DIGITS}d}"


def party_names(holder: str, party_size: int, attendee_names: Sequence[str]) -> list[str]:
    """Who a sign-up admits, by name: the holder when they come (a party larger than the members
    named), then the members; people counted but never named are left out."""
    comes = party_size > len(attendee_names)
    return ([holder] if comes and holder else []) + [name for name in attendee_names if name]


@dataclass(frozen=True)
class Ticket:
    """What the door needs to know about the sign-up a ticket names. ``admitted`` is how many of
    the party are in so far; None with ``checked_in_at`` set means all of them."""

    session_id: uuid.UUID
    status: str
    checked_in_at: datetime | None
    party_size: int = 1
    admitted: int | None = None

    @property
    def still_to_come(self) -> int:
        if self.checked_in_at is None:
            return self.party_size
        if self.admitted is None:
            return 0
        return max(self.party_size - self.admitted, 0)


def check_in_refusal(
    ticket: Ticket, scanned_for: uuid.UUID, starts_at: datetime, now: datetime
) -> Refusal | None:
    """Why this ticket may not be checked in for session ``scanned_for`` at ``now``, if it may not."""
    if ticket.session_id != scanned_for:
        return wrong_session()
    if ticket.checked_in_at is not None and ticket.still_to_come == 0:
        return already_checked_in(ticket.checked_in_at)
    if ticket.status != "CONFIRMED":
        return not_confirmed()
    if now < starts_at - CHECK_IN_OPENS_BEFORE:
        return too_early(starts_at - CHECK_IN_OPENS_BEFORE)
    return None


def admission_refusal(
    ticket: Ticket, scanned_for: uuid.UUID, starts_at: datetime, now: datetime, people: int | None
) -> tuple[int, Refusal | None]:
    """How many of the party to let in now (``people``, or all still to come when None), or why not."""
    refusal = check_in_refusal(ticket, scanned_for, starts_at, now)
    if refusal is not None:
        return 0, refusal
    remaining = ticket.still_to_come
    wanted = remaining if people is None else people
    if wanted < 1 or wanted > remaining:
        return 0, too_many_people(remaining)
    return wanted, None


def too_many_people(remaining: int) -> Refusal:
    return Refusal(
        "PARTY_ADMITS_FEWER",
        f"这张票还可入场 {remaining} 人，请重新选择人数",
        f"This ticket admits {remaining} more; choose again",
        {"remaining": remaining},
    )


def wrong_session() -> Refusal:
    return Refusal("WRONG_SESSION", "这张票不是本场次的", "This ticket is for another session")


def already_checked_in(at: datetime) -> Refusal:
    return Refusal(
        "ALREADY_CHECKED_IN",
        "这张票已经签到过了",
        "This ticket has already been checked in",
        {"checkedInAt": at.isoformat()},
    )


def not_confirmed() -> Refusal:
    return Refusal(
        "NOT_CONFIRMED",
        "该报名未确认（候补中或已取消），不能签到",
        "This sign-up is not confirmed (waiting or cancelled)",
    )


def too_early(opens_at: datetime) -> Refusal:
    minutes = int(CHECK_IN_OPENS_BEFORE.total_seconds() // 60)
    return Refusal(
        "TOO_EARLY",
        f"签到将于活动开始前{minutes}分钟开放",
        f"Check-in opens {minutes} minutes before the session starts",
        {"opensAt": opens_at.isoformat()},
    )
