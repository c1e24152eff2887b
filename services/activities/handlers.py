"""Activities commands: load, decide with the domain, save and record events in one transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import asyncpg

from services.activities import contracts, domain
from services.activities import repository as repo
from services.common.actor import RESIDENT, Actor
from services.common.commands import command
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
            if await repo.has_live_signup(conn, session_id, actor.user_id):
                raise domain.already_signed_up()
            reserved = await repo.reserve_seats(conn, session_id, party_size)
            status = domain.SignupStatus.CONFIRMED if reserved else domain.SignupStatus.WAITLISTED
            row = await repo.insert_signup(
                conn, signup_id, session_id, actor.user_id, party_size, status, args["key"]
            )
            event = contracts.SIGNUP_CONFIRMED if reserved else contracts.SIGNUP_WAITLISTED
            await record_event(
                conn,
                SCHEMA,
                event,
                {
                    "signup_id": str(signup_id),
                    "session_id": str(session_id),
                    "resident_id": actor.user_id,
                    "party_size": party_size,
                    "activity_title": session["activity_title"],
                    "venue": session["venue"],
                    "starts_at": session["starts_at"].isoformat(),
                },
            )
    except asyncpg.UniqueViolationError as exc:
        # A concurrent twin of this request, or another sign-up of the same person, won the
        # race; our transaction (seat included) rolled back.
        async with _pool(ctx).acquire() as conn:
            twin = await repo.get_signup(conn, signup_id)
        if twin is not None:
            return repo.as_dict(twin)
        raise domain.already_signed_up() from exc
    return repo.as_dict(row)


COMMANDS = [
    command(contracts.CREATE_FESTIVAL, create_festival),
    command(contracts.CREATE_ACTIVITY, create_activity),
    command(contracts.SCHEDULE_SESSION, schedule_session),
    command(contracts.SIGN_UP, sign_up),
]
