"""Checking residents' tickets in at the door: verify the code, decide with the ticket rules,
mark attendance and record ``ticket.checked_in`` in one transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from services.activities import attendance, contracts, domain, tickets
from services.common.actor import Actor
from services.common.clock import now
from services.common.commands import command
from services.common.errors import forbidden
from services.common.outbox import record_event
from services.common.settings import Settings
from services.common.signed_codes import invalid_code

SCHEMA = contracts.SERVICE


async def check_in_ticket(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """A scanner or organiser of the session's community admits the ticket's party, or part of it
    (``people`` of them; all still to come when absent). The sign-up is named by the ticket's
    ``code`` or, found at the door by name or phone, by its ``signup_id``.

    The admission's id follows from the scan's idempotency key: the same scan run again (a
    worker died before replying) answers as it did, while any other scan of a ticket whose
    whole party is in is refused with ALREADY_CHECKED_IN.
    """
    settings: Settings = ctx["settings"]
    pool: asyncpg.Pool = ctx["pool"]
    if args.get("signup_id"):
        signup_id = uuid.UUID(args["signup_id"])
    else:
        signup_id = tickets.read(settings.secret, args["code"])
    session_id = uuid.UUID(args["session_id"])
    check_in_id = uuid.UUID(args["id"])
    people = args.get("people")
    async with pool.acquire() as conn:
        session = await attendance.session_at_door(conn, session_id)
        if session is None:
            raise domain.unknown_session()
        if not tickets.may_check_in(actor, session["community_id"]):
            raise forbidden()
        async with conn.transaction():
            found = await attendance.lock_ticket(conn, signup_id)
            if found is None:  # signed by us, yet no such sign-up: not a ticket of this system
                raise invalid_code()
            before = await attendance.admission(conn, check_in_id)
            if before is not None:  # this very scan again: the same answer
                return _reply(found, before["admitted_at"], before["people"], before["admitted"])
            if found["check_in_id"] == check_in_id:  # a scan recorded before admissions were kept
                return _reply(found, found["checked_in_at"], found["party_size"], found["party_size"])
            at = now()
            ticket = tickets.Ticket(
                found["session_id"],
                found["status"],
                found["checked_in_at"],
                found["party_size"],
                found["admitted"],
            )
            letting_in, refusal = tickets.admission_refusal(
                ticket, session_id, session["starts_at"], at, None if people is None else int(people)
            )
            if refusal is not None:
                raise refusal
            admitted = await attendance.record_check_in(
                conn, check_in_id, signup_id, actor.user_id, at, letting_in, found["check_in_id"] is None
            )
            await record_event(
                conn,
                SCHEMA,
                contracts.TICKET_CHECKED_IN,
                {
                    "signup_id": str(signup_id),
                    "session_id": str(session_id),
                    "resident_id": found["resident_id"],
                    "party_size": found["party_size"],
                    "people": letting_in,
                    "admitted": admitted,
                    "community_id": session["community_id"],
                    "activity_title": session["activity_title"],
                    "venue": session["venue"],
                    "starts_at": session["starts_at"].isoformat(),
                    "scanned_by": actor.user_id,
                    "checked_in_at": at.isoformat(),
                },
            )
    return _reply(found, at, letting_in, admitted)


def _reply(ticket: asyncpg.Record, at: datetime, people: int, admitted: int) -> dict[str, Any]:
    return {
        "signup_id": str(ticket["id"]),
        "session_id": str(ticket["session_id"]),
        "resident_id": ticket["resident_id"],
        "party_size": ticket["party_size"],
        "people": people,
        "admitted": admitted,
        "checked_in_at": at.isoformat(),
    }


CHECK_IN_TICKET = command(contracts.CHECK_IN_TICKET, check_in_ticket)
