"""Residents' tickets: the signed code of a confirmed sign-up, and who may check it in when. No I/O.

A ticket code is ``LT`` + base32(version, key id, sign-up id, MAC) — 47 characters of QR
alphanumeric mode. It names the sign-up only: whether it admits anyone is decided at the
door from the sign-up's current state (still confirmed, this session, not yet used, not too
early), so a cancelled sign-up's screenshot admits nobody and the code never needs to expire.
Every decision takes ``now`` so the rules are tested without waiting.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common.actor import SCANNER, Actor
from services.common.errors import Refusal
from services.common.signed_codes import invalid_code, seal, unseal

PREFIX = "LT"
PURPOSE = "ticket"
# Doors open an hour early: people queue for 义诊 long before it starts.
CHECK_IN_OPENS_BEFORE = timedelta(minutes=60)


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


@dataclass(frozen=True)
class Ticket:
    """What the door needs to know about the sign-up a ticket names."""

    session_id: uuid.UUID
    status: str
    checked_in_at: datetime | None


def check_in_refusal(
    ticket: Ticket, scanned_for: uuid.UUID, starts_at: datetime, now: datetime
) -> Refusal | None:
    """Why this ticket may not be checked in for session ``scanned_for`` at ``now``, if it may not."""
    if ticket.session_id != scanned_for:
        return wrong_session()
    if ticket.checked_in_at is not None:
        return already_checked_in(ticket.checked_in_at)
    if ticket.status != "CONFIRMED":
        return not_confirmed()
    if now < starts_at - CHECK_IN_OPENS_BEFORE:
        return too_early(starts_at - CHECK_IN_OPENS_BEFORE)
    return None


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
