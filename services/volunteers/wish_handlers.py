"""Wish commands (see wishes.py): load, decide, save and record the event in one transaction.

Handlers read the time from ``ctx["clock"]`` when a test puts one there, else the real clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import asyncpg
from arq.cron import cron

from services.common import clock
from services.common.actor import RESIDENT, VOLUNTEER, Actor
from services.common.commands import command
from services.common.db import Connection, row_as_dict
from services.common.errors import forbidden
from services.common.ids import new_id
from services.common.outbox import record_event
from services.volunteers import profiles, wishes
from services.volunteers import wish_repository as repo
from services.volunteers.wishes import ClaimantKind, Review, WishStatus

SCHEMA = "volunteers"


def _pool(ctx: dict[str, Any]) -> asyncpg.Pool:
    pool: asyncpg.Pool = ctx["pool"]
    return pool


def _now(ctx: dict[str, Any]) -> datetime:
    now: Callable[[], datetime] = ctx.get("clock", clock.now)
    return now()


def _event(wish: asyncpg.Record, **extra: Any) -> dict[str, Any]:
    """What every wish event says: the wish without its description's personal details."""
    return {
        "wish_id": str(wish["id"]),
        "community_id": wish["community_id"],
        "festival_id": wish["festival_id"],
        "category": wish["category"],
        "building": wish["building"],
        "resident_id": wish["resident_id"],
        "posted_by": wish["posted_by"],
        **extra,
    }


async def _wish(conn: Connection, wish_id: uuid.UUID) -> asyncpg.Record:
    wish = await repo.get_wish(conn, wish_id)
    if wish is None:
        raise wishes.unknown_wish()
    return wish


async def post_wish(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """A resident posts their own wish, or a grid worker posts one for a resident of theirs."""
    draft = wishes.check_draft(
        wishes.WishDraft(
            community_id=args["community_id"],
            category=args["category"],
            description=args["description"],
            building=args["building"],
            festival_id=args.get("festival_id"),
        )
    )
    resident_id = args.get("resident_id") or actor.user_id
    if resident_id == actor.user_id:
        if not (actor.has_role(RESIDENT) and draft.community_id in actor.communities):
            raise forbidden()
    elif not wishes.is_grid_worker_of(actor, draft.community_id):
        raise forbidden()
    at = _now(ctx)
    async with _pool(ctx).acquire() as conn, conn.transaction():
        row, made = await repo.insert_wish(conn, uuid.UUID(args["id"]), draft, resident_id, actor.user_id, at)
        if made:
            await record_event(conn, SCHEMA, wishes.WISH_POSTED, _event(row))
    return row_as_dict(row)


async def review_wish(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """An organiser approves a posted wish, declines it with a reason, or merges it into
    another wish asking the same."""
    wish_id = uuid.UUID(args["wish_id"])
    decision = Review(args["review"])
    reason = wishes.check_text("reason", args.get("reason"), 200) if decision is Review.DECLINE else None
    merged_into = uuid.UUID(args["merge_into"]) if decision is Review.MERGE else None
    outcome = wishes.review_outcome(decision)
    async with _pool(ctx).acquire() as conn, conn.transaction():
        wish = await _wish(conn, wish_id)
        if not actor.may_organise(wish["community_id"]):
            raise forbidden()
        if wish["status"] == outcome and wish["reviewed_by"] == actor.user_id:
            return row_as_dict(wish)  # the same decision again
        if merged_into is not None:
            target = await repo.get_wish(conn, merged_into)
            if (
                target is None
                or target["id"] == wish_id
                or target["community_id"] != wish["community_id"]
                or target["status"] in (WishStatus.DECLINED, WishStatus.MERGED, WishStatus.MET)
            ):
                raise wishes.bad_merge()
        row = await repo.review(conn, wish_id, outcome, actor.user_id, reason, merged_into)
        if row is None:
            raise wishes.wrong_state(wish["status"], WishStatus.POSTED)
        if outcome is not WishStatus.APPROVED:
            await record_event(
                conn,
                SCHEMA,
                wishes.WISH_REVIEWED,
                _event(row, outcome=outcome.value, reason=reason, merged_into=args.get("merge_into")),
            )
    return row_as_dict(row)


async def publish_wish(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    wish_id = uuid.UUID(args["wish_id"])
    async with _pool(ctx).acquire() as conn, conn.transaction():
        wish = await _wish(conn, wish_id)
        if not actor.may_organise(wish["community_id"]):
            raise forbidden()
        if wish["published_at"] is not None:
            return row_as_dict(wish)  # published before: the same answer
        row = await repo.publish(conn, wish_id, _now(ctx))
        if row is None:
            raise wishes.wrong_state(wish["status"], WishStatus.APPROVED)
        await record_event(conn, SCHEMA, wishes.WISH_PUBLISHED, _event(row))
    return row_as_dict(row)


async def _expire(conn: Connection, wish_id: uuid.UUID, at: datetime) -> bool:
    """Return a lapsed claim's wish to the wall, telling its former claimant."""
    claim = await repo.expire_claim(conn, wish_id, at)
    if claim is None:
        return False
    wish = await _wish(conn, wish_id)
    await record_event(
        conn,
        SCHEMA,
        wishes.WISH_CLAIM_EXPIRED,
        _event(wish, claimant_id=claim["claimant_id"], claimed_at=claim["claimed_at"].isoformat()),
    )
    return True


async def claim_wish(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """A party member, partner organisation member or volunteer takes a wish off the wall."""
    if not actor.has_role(RESIDENT, VOLUNTEER):
        raise forbidden()
    wish_id = uuid.UUID(args["wish_id"])
    claim_id = uuid.UUID(args["id"])
    kind = ClaimantKind(args["kind"])
    at = _now(ctx)
    planned = args.get("planned_visit_at")
    planned_at = wishes.check_planned_visit(datetime.fromisoformat(planned) if planned else None, at)
    async with _pool(ctx).acquire() as conn, conn.transaction():
        if await repo.get_claim(conn, claim_id) is not None:  # the same request again
            return row_as_dict(await _wish(conn, wish_id))
        wish = await _wish(conn, wish_id)
        if wish["resident_id"] == actor.user_id:
            raise wishes.own_wish()
        work_unit = None
        if kind is ClaimantKind.PARTY_MEMBER:
            registration = await repo.party_registration(conn, actor.user_id)
            work_unit = profiles.approved_work_unit(
                registration["status"] if registration else None,
                registration["work_unit"] if registration else None,
                registration["decline_reason"] if registration else None,
            )
        organisation = wishes.claimed_for(
            kind,
            work_unit,
            await repo.partners_of(conn, actor.user_id, wish["community_id"])
            if kind is ClaimantKind.PARTNER
            else [],
            args.get("organisation"),
        )
        await _expire(conn, wish_id, at)
        row = await repo.take_claim(
            conn, wish_id, claim_id, actor.user_id, wishes.claim_expires_at(at, wishes.DEFAULT_POLICY)
        )
        if row is None:
            current = await _wish(conn, wish_id)
            if current["status"] in (WishStatus.CLAIMED, WishStatus.DONE, WishStatus.MET):
                raise wishes.already_claimed()
            raise wishes.wrong_state(current["status"], WishStatus.PUBLISHED)
        await repo.insert_claim(conn, claim_id, wish_id, actor.user_id, kind, organisation, at, planned_at)
        await record_event(
            conn,
            SCHEMA,
            wishes.WISH_CLAIMED,
            _event(
                row,
                claimant_id=actor.user_id,
                claimant_kind=kind.value,
                organisation=organisation,
                claim_expires_at=row["claim_expires_at"].isoformat(),
                planned_visit_at=planned_at.isoformat() if planned_at else None,
            ),
        )
    return row_as_dict(row)


async def start_wish(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """The claimant has begun: the claim no longer lapses."""
    wish_id = uuid.UUID(args["wish_id"])
    async with _pool(ctx).acquire() as conn:
        row = await repo.start(conn, wish_id, actor.user_id, _now(ctx))
        if row is None:
            wish = await _wish(conn, wish_id)
            if wish["claimant_id"] != actor.user_id:
                raise wishes.not_your_claim()
            raise wishes.wrong_state(wish["status"], WishStatus.CLAIMED)
    return row_as_dict(row)


async def finish_wish(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """The claimant marks the wish done, with a note (and a photo link if they have one)."""
    wish_id = uuid.UUID(args["wish_id"])
    note = wishes.check_text("note", args.get("note"), wishes.MAX_NOTE)
    photo = (args.get("photo_url") or "").strip() or None
    if photo is not None:
        photo = wishes.check_text("photoUrl", photo, 500)
    async with _pool(ctx).acquire() as conn, conn.transaction():
        wish = await repo.get_wish(conn, wish_id, for_update=True)
        if wish is None:
            raise wishes.unknown_wish()
        if wish["claimant_id"] != actor.user_id:
            raise wishes.not_your_claim()
        if wish["status"] == WishStatus.DONE:
            return row_as_dict(wish)
        if wish["status"] != WishStatus.CLAIMED:
            raise wishes.wrong_state(wish["status"], WishStatus.CLAIMED)
        row = await repo.finish(conn, wish_id, note, photo, _now(ctx))
        await record_event(conn, SCHEMA, wishes.WISH_DONE, _event(row, claimant_id=actor.user_id, note=note))
    return row_as_dict(row)


async def confirm_wish(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """The resident (or a grid worker of their community) confirms: the wish is met."""
    wish_id = uuid.UUID(args["wish_id"])
    at = _now(ctx)
    async with _pool(ctx).acquire() as conn, conn.transaction():
        wish = await _wish(conn, wish_id)
        if wish["resident_id"] != actor.user_id and not wishes.is_grid_worker_of(actor, wish["community_id"]):
            raise forbidden()
        if wish["status"] == WishStatus.MET:
            return row_as_dict(wish)
        row = await repo.confirm(conn, wish_id, actor.user_id, at)
        if row is None:
            raise wishes.wrong_state(wish["status"], WishStatus.DONE)
        await repo.end_claim(conn, row["claim_id"], "MET", at)
        claim = await repo.get_claim(conn, row["claim_id"])
        assert claim is not None
        await record_event(
            conn,
            SCHEMA,
            wishes.WISH_MET,
            _event(
                row,
                claimant_id=claim["claimant_id"],
                claimant_kind=claim["claimant_kind"],
                organisation=claim["organisation"],
                confirmed_by=actor.user_id,
                met_at=at.isoformat(),
                posted_at=row["created_at"].isoformat(),  # the dashboard's days to met
            ),
        )
    return row_as_dict(row)


async def _held_by(conn: Connection, wish_id: uuid.UUID, actor: Actor) -> asyncpg.Record:
    """The wish, locked, if the actor's claim holds it now."""
    wish = await repo.get_wish(conn, wish_id, for_update=True)
    if wish is None:
        raise wishes.unknown_wish()
    if wish["claimant_id"] != actor.user_id:
        raise wishes.not_your_claim()
    return wish


async def give_back_wish(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """The claimant cannot do it after all: the wish goes back on the wall for someone else, and
    the resident (and a grid worker who posted it for her) is told why."""
    wish_id = uuid.UUID(args["wish_id"])
    reason = wishes.check_reason(args.get("reason"))
    at = _now(ctx)
    async with _pool(ctx).acquire() as conn, conn.transaction():
        wish = await _held_by(conn, wish_id, actor)
        if not wishes.may_give_back(wish["status"]):
            raise wishes.wrong_state(wish["status"], WishStatus.CLAIMED)
        row = await give_back(conn, wish, reason, at)
        if row is None:
            raise wishes.wrong_state(wish["status"], WishStatus.CLAIMED)
    return row_as_dict(row)


async def give_back(
    conn: Connection, wish: asyncpg.Record, reason: str, at: datetime, **event_extra: Any
) -> asyncpg.Record | None:
    """Put a claimed wish (locked by the caller) back on the wall and tell the resident why;
    the wish, or None if its claim no longer held it."""
    claim_id = wish["claim_id"]
    row = await repo.give_back(conn, wish["id"], claim_id, reason, at)
    if row is not None:
        extra = {"claimant_id": wish["claimant_id"], "claim_id": str(claim_id), "reason": reason}
        await record_event(conn, SCHEMA, wishes.WISH_GIVEN_BACK, _event(row, **extra, **event_extra))
    return row


async def plan_wish_visit(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """The claimant says when they plan to come; the resident sees it (and is told)."""
    wish_id = uuid.UUID(args["wish_id"])
    at = _now(ctx)
    planned = wishes.check_planned_visit(datetime.fromisoformat(args["planned_visit_at"]), at)
    async with _pool(ctx).acquire() as conn, conn.transaction():
        wish = await _held_by(conn, wish_id, actor)
        if wish["status"] != WishStatus.CLAIMED:
            raise wishes.wrong_state(wish["status"], WishStatus.CLAIMED)
        claim = await repo.get_claim(conn, wish["claim_id"])
        assert claim is not None
        if claim["planned_visit_at"] != planned:
            await repo.plan_visit(conn, wish["claim_id"], planned)
            assert planned is not None
            await record_event(
                conn,
                SCHEMA,
                wishes.WISH_VISIT_PLANNED,
                _event(wish, claimant_id=actor.user_id, planned_visit_at=planned.isoformat()),
            )
    return row_as_dict(wish)


async def request_wish_call_back(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """The claimant asks the community to reach the resident for them (her number is not
    theirs to see): recorded for the community's staff, once per claim."""
    wish_id = uuid.UUID(args["wish_id"])
    note = (args.get("note") or "").strip() or None
    if note is not None:
        note = wishes.check_text("note", note, wishes.MAX_REASON)
    async with _pool(ctx).acquire() as conn, conn.transaction():
        wish = await _held_by(conn, wish_id, actor)
        if wish["status"] not in (WishStatus.CLAIMED, WishStatus.DONE):
            raise wishes.wrong_state(wish["status"], WishStatus.CLAIMED)
        row = await repo.insert_call_back(conn, new_id(), wish, actor.user_id, note, _now(ctx))
    return row_as_dict(row)


async def handle_wish_call_back(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """Staff passed the message on (or the resident called back): ticked off, once."""
    call_back_id = uuid.UUID(args["id"])
    async with _pool(ctx).acquire() as conn:
        found = await repo.get_call_back(conn, call_back_id)
        if found is None:
            raise wishes.call_back_not_found()
        community = found["community_id"]
        if not (actor.may_organise(community) or wishes.is_grid_worker_of(actor, community)):
            raise forbidden()
        row = await repo.handle_call_back(conn, call_back_id, actor.user_id, _now(ctx))
    assert row is not None
    return row_as_dict(row)


async def _sweep(ctx: dict[str, Any], community_id: str | None) -> int:
    """Return every wish whose claim lapsed to the wall (one transaction each); how many."""
    at = _now(ctx)
    expired = 0
    async with _pool(ctx).acquire() as conn:
        for wish_id in await repo.lapsed_claim_wishes(conn, at, community_id):
            async with conn.transaction():
                expired += await _expire(conn, wish_id, at)
    return expired


async def expire_wish_claims(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """An organiser's sweep of their community, at once."""
    community_id = args.get("community_id")
    if community_id is None or not actor.may_organise(community_id):
        raise forbidden()
    return {"expired": await _sweep(ctx, community_id)}


async def expire_lapsed_wish_claims(ctx: dict[str, Any]) -> int:
    """The hourly sweep of every community (an arq cron job of the volunteers worker)."""
    return await _sweep(ctx, None)


# Claims lapse in days, so an hourly sweep is soon enough; between sweeps the wall already shows
# a lapsed claim's wish as open and the next claimant takes it over.
WISH_CLAIM_SWEEP = cron(expire_lapsed_wish_claims, name="expire_lapsed_wish_claims", minute=41, max_tries=1)


WISH_COMMANDS = [
    command(wishes.POST_WISH, post_wish),
    command(wishes.REVIEW_WISH, review_wish),
    command(wishes.PUBLISH_WISH, publish_wish),
    command(wishes.CLAIM_WISH, claim_wish),
    command(wishes.START_WISH, start_wish),
    command(wishes.FINISH_WISH, finish_wish),
    command(wishes.CONFIRM_WISH, confirm_wish),
    command(wishes.EXPIRE_WISH_CLAIMS, expire_wish_claims),
    command(wishes.GIVE_BACK_WISH, give_back_wish),
    command(wishes.PLAN_WISH_VISIT, plan_wish_visit),
    command(wishes.REQUEST_WISH_CALL_BACK, request_wish_call_back),
    command(wishes.HANDLE_WISH_CALL_BACK, handle_wish_call_back),
]
