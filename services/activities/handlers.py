"""Activities commands: load, decide with the domain, save and record events in one transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import asyncpg

from services.activities import contracts, domain
from services.activities import repository as repo
from services.common.actor import RESIDENT, Actor
from services.common.clock import now
from services.common.commands import command
from services.common.db import Connection
from services.common.errors import forbidden
from services.common.outbox import record_event

SCHEMA = contracts.SERVICE


def _pool(ctx: dict[str, Any]) -> asyncpg.Pool:
    pool: asyncpg.Pool = ctx["pool"]
    return pool


async def create_festival(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    plan = domain.check_festival(
        domain.FestivalPlan(
            name=args["name"],
            community_ids=tuple(args["community_ids"]),
            starts_on=date.fromisoformat(args["starts_on"]),
            ends_on=date.fromisoformat(args["ends_on"]),
        )
    )
    if not all(actor.may_organise(community) for community in plan.community_ids):
        raise forbidden()
    async with _pool(ctx).acquire() as conn:
        row = await repo.insert_festival(conn, uuid.UUID(args["id"]), plan, actor.user_id)
    return repo.as_dict(row)


async def create_activity(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    title = domain.check_name("title", args["title"])
    community_id = args["community_id"]
    if not actor.may_organise(community_id):
        raise forbidden()
    async with _pool(ctx).acquire() as conn:
        festival = await repo.get_festival(conn, uuid.UUID(args["festival_id"]))
        if festival is None:
            raise domain.unknown_festival()
        if community_id not in festival["community_ids"]:
            raise domain.community_outside_festival()
        row = await repo.insert_activity(
            conn,
            uuid.UUID(args["id"]),
            festival["id"],
            community_id,
            title,
            args.get("category", ""),
            args.get("description", ""),
        )
    return repo.as_dict(row)


async def schedule_session(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    plan = domain.check_session(
        domain.SessionPlan(
            venue=args["venue"],
            starts_at=datetime.fromisoformat(args["starts_at"]),
            ends_at=datetime.fromisoformat(args["ends_at"]),
            capacity=int(args["capacity"]),
        )
    )
    async with _pool(ctx).acquire() as conn:
        activity = await repo.get_activity(conn, uuid.UUID(args["activity_id"]))
        if activity is None:
            raise domain.unknown_activity()
        if not actor.may_organise(activity["community_id"]):
            raise forbidden()
        row = await repo.insert_session(
            conn, uuid.UUID(args["id"]), activity["id"], activity["community_id"], plan
        )
    return repo.as_dict(row)


async def sign_up(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    if not actor.has_role(RESIDENT):
        raise forbidden()
    party_size = domain.check_party_size(int(args.get("party_size", 1)))
    signup_id = uuid.UUID(args["id"])
    session_id = uuid.UUID(args["session_id"])
    try:
        async with _pool(ctx).acquire() as conn, conn.transaction():
            existing = await repo.get_signup(conn, signup_id)
            if existing is not None:  # the same request again: same answer, no second seat
                return repo.as_dict(existing)
            session = await repo.get_session_for_signup(conn, session_id)
            if session is None:
                raise domain.unknown_session()
            if session["status"] == domain.SessionStatus.CANCELLED:
                raise domain.session_cancelled()
            if await repo.has_live_signup(conn, session_id, actor.user_id):
                raise domain.already_signed_up()
            reserved = await repo.reserve_seats(conn, session_id, party_size)
            if not reserved:
                # Bound for the waitlist: first keep cancellations out until we commit, then
                # look again, as one may have freed seats (or called the session off) meanwhile.
                held = await repo.hold_session_for_waitlist(conn, session_id)
                assert held is not None
                if held["status"] == domain.SessionStatus.CANCELLED:
                    raise domain.session_cancelled()
                fits = domain.place(held["capacity"], held["taken"], party_size)
                if fits == domain.SignupStatus.CONFIRMED:
                    reserved = await repo.reserve_seats(conn, session_id, party_size)
            status = domain.SignupStatus.CONFIRMED if reserved else domain.SignupStatus.WAITLISTED
            row = await repo.insert_signup(
                conn, signup_id, session_id, actor.user_id, party_size, status, args["key"]
            )
            event = contracts.SIGNUP_CONFIRMED if reserved else contracts.SIGNUP_WAITLISTED
            await record_event(conn, SCHEMA, event, _signup_event(session, row))
    except asyncpg.UniqueViolationError as exc:
        # A concurrent twin of this request, or another sign-up of the same person, won the
        # race; our transaction (seat included) rolled back.
        async with _pool(ctx).acquire() as conn:
            twin = await repo.get_signup(conn, signup_id)
        if twin is not None:
            return repo.as_dict(twin)
        raise domain.already_signed_up() from exc
    return repo.as_dict(row)


async def cancel_signup(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """A resident withdraws; freed seats go to the waitlist in the same transaction."""
    signup_id = uuid.UUID(args["signup_id"])
    key = args["key"]
    async with _pool(ctx).acquire() as conn, conn.transaction():
        found = await repo.get_signup(conn, signup_id)
        if found is None:
            raise domain.unknown_signup()
        if found["resident_id"] != actor.user_id:
            raise forbidden()
        session = await repo.lock_session(conn, found["session_id"])
        signup = await repo.lock_signup(conn, signup_id)
        assert session is not None and signup is not None
        if signup["status"] == domain.SignupStatus.CANCELLED:
            if signup["cancel_key"] == key:  # this very request again: the same answer
                return repo.as_dict(signup)
            raise domain.already_cancelled()
        [cancelled] = await repo.cancel_signups(conn, [signup_id], key, now())
        taken = session["taken"]
        freed = domain.seats_held(signup["status"], signup["party_size"])
        if freed:
            released = await repo.release_seats(conn, session["id"], freed)
            if released is None:
                raise RuntimeError(f"session {session['id']} holds fewer seats than it sold")
            taken = released
        await _promote_from_waitlist(conn, session, taken)
        await record_event(conn, SCHEMA, contracts.SIGNUP_CANCELLED, _signup_event(session, signup))
    return repo.as_dict(cancelled)


async def _promote_from_waitlist(conn: Connection, session: asyncpg.Record, taken: int) -> None:
    """Confirm the waiting parties that now fit (the domain decides who), reserve their seats
    and tell each of them. The caller holds the session lock, so ``taken`` is current."""
    waitlist = await repo.lock_waitlist(conn, session["id"])
    chosen = set(
        domain.promotions(session["capacity"], taken, [(row["id"], row["party_size"]) for row in waitlist])
    )
    if not chosen:
        return
    promoted = [row for row in waitlist if row["id"] in chosen]
    seats = sum(row["party_size"] for row in promoted)
    if not await repo.reserve_seats(conn, session["id"], seats):
        raise RuntimeError(f"seats of session {session['id']} moved under its lock")
    await repo.confirm_signups(conn, [row["id"] for row in promoted])
    for row in promoted:
        await record_event(conn, SCHEMA, contracts.WAITLIST_PROMOTED, _signup_event(session, row))


async def cancel_session(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """An organiser calls a session off: every live sign-up is cancelled and its resident told."""
    reason = domain.check_reason(args["reason"])
    session_id = uuid.UUID(args["session_id"])
    key = args["key"]
    async with _pool(ctx).acquire() as conn, conn.transaction():
        session = await repo.lock_session(conn, session_id)
        if session is None:
            raise domain.unknown_session()
        if not actor.may_organise(session["community_id"]):
            raise forbidden()
        if session["status"] == domain.SessionStatus.CANCELLED:
            if session["cancel_key"] == key:  # this very request again: the same answer
                return repo.as_dict(session)
            raise domain.already_cancelled()
        live = await repo.lock_live_signups(conn, session_id)
        # No cancel key on the sign-ups: it names the organiser's request, not a resident's.
        await repo.cancel_signups(conn, [row["id"] for row in live], None, now())
        freed = sum(domain.seats_held(row["status"], row["party_size"]) for row in live)
        if freed and await repo.release_seats(conn, session_id, freed) is None:
            raise RuntimeError(f"session {session_id} holds fewer seats than it sold")
        row = await repo.mark_session_cancelled(conn, session_id, reason, key, now())
        for signup in live:
            payload = {**_signup_event(session, signup), "reason": reason}
            await record_event(conn, SCHEMA, contracts.SESSION_CANCELLED, payload)
    return repo.as_dict(row)


def _signup_event(session: asyncpg.Record, signup: asyncpg.Record) -> dict[str, Any]:
    """What every sign-up event tells its consumers."""
    return {
        "signup_id": str(signup["id"]),
        "session_id": str(session["id"]),
        "resident_id": signup["resident_id"],
        "party_size": signup["party_size"],
        "activity_title": session["activity_title"],
        "venue": session["venue"],
        "starts_at": session["starts_at"].isoformat(),
    }


COMMANDS = [
    command(contracts.CREATE_FESTIVAL, create_festival),
    command(contracts.CREATE_ACTIVITY, create_activity),
    command(contracts.SCHEDULE_SESSION, schedule_session),
    command(contracts.SIGN_UP, sign_up),
    command(contracts.CANCEL_SIGNUP, cancel_signup),
    command(contracts.CANCEL_SESSION, cancel_session),
]
