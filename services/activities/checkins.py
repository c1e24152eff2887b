"""Checking residents' tickets in at the door: verify the code, decide with the ticket rules,
mark attendance and record ``ticket.checked_in`` in one transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from services.activities import attendance, contracts, domain, signed_tickets, ticket_keys, tickets
from services.common.actor import Actor
from services.common.clock import now
from services.common.commands import command
from services.common.db import Connection
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

    A scan a door device made offline and sends on reconnect (``offline``: its device, its time,
    whether it lacked the lease) is admitted the same way; if the party is already in, it is
    not refused but kept as a conflict, with both records, for the organiser.
    """
    settings: Settings = ctx["settings"]
    pool: asyncpg.Pool = ctx["pool"]
    session_id = uuid.UUID(args["session_id"])
    check_in_id = uuid.UUID(args["id"])
    people = args.get("people")
    offline: dict[str, Any] | None = args.get("offline")
    async with pool.acquire() as conn:
        session = await attendance.session_at_door(conn, session_id)
        if session is None:
            raise domain.unknown_session()
        if not tickets.may_check_in(actor, session["community_id"]):
            raise forbidden()
        signup_id = await _named_signup(conn, settings.secret, args, session["community_id"])
        async with conn.transaction():
            found = await attendance.lock_ticket(conn, signup_id)
            if found is None:  # signed by us, yet no such sign-up: not a ticket of this system
                raise invalid_code()
            before = await attendance.admission(conn, check_in_id)
            if before is not None:  # this very scan again: the same answer
                return _reply(found, before["admitted_at"], before["people"], before["admitted"])
            if found["check_in_id"] == check_in_id:  # a scan recorded before admissions were kept
                return _reply(found, found["checked_in_at"], found["party_size"], found["party_size"])
            if offline and (conflict := await attendance.offline_conflict(conn, check_in_id)) is not None:
                return _conflict_reply(found, conflict)
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
                if offline and refusal.code == tickets.already_checked_in(at).code:
                    conflict = await attendance.record_conflict(
                        conn, check_in_id, session_id, signup_id, actor.user_id, offline, at
                    )
                    return _conflict_reply(found, conflict)
                raise refusal
            admitted = await attendance.record_check_in(
                conn,
                check_in_id,
                signup_id,
                actor.user_id,
                at,
                letting_in,
                found["check_in_id"] is None,
                offline,
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
                    "session_facts": domain.dashboard_facts(session),
                },
            )
    return _reply(found, at, letting_in, admitted)


async def _named_signup(conn: Connection, secret: str, args: dict[str, Any], community_id: str) -> uuid.UUID:
    """The sign-up a scan names: found by name at the door, or by its ticket, signed (version 2,
    by the session's community key) or, issued before signed tickets, sealed with the secret."""
    if args.get("signup_id"):
        return uuid.UUID(args["signup_id"])
    code = args["code"]
    if signed_tickets.version_of(code) != signed_tickets.VERSION:
        return tickets.read(secret, code)
    claimed, _, _ = signed_tickets.parse(code)
    keys = await ticket_keys.keys_by_id(conn, [claimed.key_id])
    return signed_tickets.verify(code, keys, community_id, now()).signup_id


def _conflict_reply(ticket: asyncpg.Record, conflict: asyncpg.Record) -> dict[str, Any]:
    """An offline scan that found the party already in: nobody more was let in."""
    return {
        **_reply(ticket, conflict["first_admitted_at"], 0, ticket["admitted"] or ticket["party_size"]),
        "conflict": True,
    }


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
