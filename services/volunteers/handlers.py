"""Volunteers commands: load, decide with the domain, save and record events in one transaction.

Station codes are verified here, by the service, with the worker's own clock and secret: the
gateway only forwards what was scanned.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
from arq.cron import cron
from arq.worker import func

from services.common import clock
from services.common.actor import RESIDENT, VOLUNTEER, Actor
from services.common.commands import command
from services.common.db import Connection, row_as_dict
from services.common.errors import forbidden
from services.common.ids import new_id
from services.common.outbox import record_event
from services.common.settings import Settings
from services.volunteers import certificates, codes, contracts, domain, profiles, reports
from services.volunteers import repository as repo
from services.volunteers.domain import DEFAULT_POLICY, LedgerKind

SCHEMA = contracts.SERVICE


def _pool(ctx: dict[str, Any]) -> asyncpg.Pool:
    pool: asyncpg.Pool = ctx["pool"]
    return pool


def _settings(ctx: dict[str, Any]) -> Settings:
    settings: Settings = ctx["settings"]
    return settings


async def create_shift(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    plan = domain.check_shift(
        domain.ShiftPlan(
            community_id=args["community_id"],
            venue=args["venue"],
            role=args["role"],
            starts_at=datetime.fromisoformat(args["starts_at"]),
            ends_at=datetime.fromisoformat(args["ends_at"]),
            headcount=int(args["headcount"]),
            required_skill=args.get("required_skill"),
            festival_id=args.get("festival_id"),
            contact_phone=args.get("contact_phone"),
        ),
        now=clock.now(),
    )
    if not actor.may_organise(plan.community_id):
        raise forbidden()
    async with _pool(ctx).acquire() as conn:
        row = await repo.insert_shift(
            conn, uuid.UUID(args["id"]), plan, codes.venue_key(plan.venue), actor.user_id
        )
    return row_as_dict(row)


async def record_skill(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    if not actor.may_organise(args["community_id"]):
        raise forbidden()
    community_id = args["community_id"]
    skill = domain.check_text("skill", args["skill"], 100)
    volunteer_id = domain.check_text("volunteerId", args["volunteer_id"], 64)
    async with _pool(ctx).acquire() as conn, conn.transaction():
        domain.ensure_serves_in(community_id, await reports.communities_of(conn, volunteer_id))
        await repo.insert_skill(conn, volunteer_id, skill, community_id, actor.user_id)
    return {"volunteer_id": volunteer_id, "skill": skill, "community_id": community_id}


async def sign_up_for_shift(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    if not actor.has_role(RESIDENT, VOLUNTEER):
        raise forbidden()
    signup_id = uuid.UUID(args["id"])
    shift_id = uuid.UUID(args["shift_id"])
    try:
        async with _pool(ctx).acquire() as conn, conn.transaction():
            existing = await repo.get_signup(conn, signup_id)
            if existing is not None:  # the same request again: the same answer
                return row_as_dict(existing)
            await repo.lock_volunteer(conn, actor.user_id)
            shift = await repo.get_shift(conn, shift_id)
            if shift is None:
                raise domain.shift_not_found()
            if await repo.is_signed_up(conn, shift_id, actor.user_id):
                raise domain.already_signed_up()
            skill = shift["required_skill"]
            if skill and not await repo.has_skill(conn, actor.user_id, skill, shift["community_id"]):
                raise domain.missing_skill()
            others = await repo.signed_up_spans(conn, actor.user_id)
            domain.ensure_may_sign_up(clock.now(), repo.shift_span(shift), others)
            if not await repo.take_place(conn, shift_id):
                raise domain.shift_full()
            row = await repo.insert_signup(conn, signup_id, shift_id, actor.user_id, args["key"])
            await record_event(
                conn,
                SCHEMA,
                contracts.SHIFT_SIGNED_UP,
                {
                    "signup_id": str(signup_id),
                    "shift_id": str(shift_id),
                    "volunteer_id": actor.user_id,
                    "community_id": shift["community_id"],
                    "venue": shift["venue"],
                    "role": shift["role"],
                    "starts_at": shift["starts_at"].isoformat(),
                    "ends_at": shift["ends_at"].isoformat(),
                },
            )
    except asyncpg.UniqueViolationError as exc:
        # A concurrent twin of this request won the race; our place was rolled back with it.
        async with _pool(ctx).acquire() as conn:
            twin = await repo.get_signup(conn, signup_id)
        if twin is not None:
            return row_as_dict(twin)
        raise domain.already_signed_up() from exc
    return row_as_dict(row)


async def check_out(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """Close the volunteer's open check-in and credit what it adds to their service hours.

    Volunteers check themselves out; staff check out a volunteer by scanning their card.
    """
    shift_id = uuid.UUID(args["shift_id"])
    async with _pool(ctx).acquire() as conn, conn.transaction():
        shift = await repo.get_shift(conn, shift_id)
        if shift is None:
            raise domain.shift_not_found()
        volunteer_id = actor.user_id
        if args.get("card"):
            if not domain.may_scan_cards(actor, shift["community_id"]):
                raise forbidden()
            volunteer_id = codes.read_card(_settings(ctx).secret, args["card"])
        await repo.lock_volunteer(conn, volunteer_id)
        open_check_in = await repo.get_open_check_in(conn, shift_id, volunteer_id, for_update=True)
        if open_check_in is None:
            if await repo.has_closed_check_in(conn, shift_id, volunteer_id):
                raise domain.already_checked_out()
            raise domain.not_checked_in()
        closed = await repo.close_check_in(conn, open_check_in["id"], clock.now())
        credit = await _credit_attendance(conn, shift, closed, recorded_by=actor.user_id)
    return {**row_as_dict(closed), "minutes_credited": credit}


async def undo_check_out(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """An organiser undoes a volunteer's mistaken check-out within the shift: the check-out is
    kept but marked undone, the volunteer is on duty again from the same arrival, and a
    correction takes back what it credited (the ledger is never rewritten)."""
    shift_id = uuid.UUID(args["shift_id"])
    volunteer_id: str = args["volunteer_id"]
    now = clock.now()
    async with _pool(ctx).acquire() as conn, conn.transaction():
        shift = await repo.get_shift(conn, shift_id)
        if shift is None:
            raise domain.shift_not_found()
        if not actor.may_organise(shift["community_id"]):
            raise forbidden()
        domain.ensure_may_undo_check_out(now, repo.shift_span(shift))
        await repo.lock_volunteer(conn, volunteer_id)
        if await repo.get_open_check_in(conn, shift_id, volunteer_id) is not None:
            raise domain.not_checked_out()
        closed = await repo.latest_closed_check_in(conn, shift_id, volunteer_id)
        if closed is None:
            raise domain.not_checked_out()
        reopened = await repo.undo_check_out(conn, closed, new_id(), actor.user_id, now)
        credited = int(closed["minutes_credited"] or 0)
        if credited:
            await repo.insert_ledger_entry(
                conn,
                new_id(),
                volunteer_id,
                shift_id,
                LedgerKind.CORRECTION,
                -credited,
                recorded_by=actor.user_id,
                reason=domain.UNDO_CHECK_OUT_REASON,
            )
        await record_event(
            conn,
            SCHEMA,
            contracts.CHECK_OUT_UNDONE,
            {
                "check_in_id": str(reopened["id"]),
                "undone_check_in_id": str(closed["id"]),
                "shift_id": str(shift_id),
                "volunteer_id": volunteer_id,
                "community_id": shift["community_id"],
                "minutes_taken_back": credited,
                "undone_by": actor.user_id,
                "undone_at": now.isoformat(),
                **await repo.units_of(conn, volunteer_id),
            },
        )
    return row_as_dict(reopened)


async def _credit_attendance(
    conn: Connection, shift: asyncpg.Record, closed: asyncpg.Record, recorded_by: str
) -> int:
    """Credit what a just-closed check-in adds to its volunteer's hours, and say so in the outbox.

    The caller holds the volunteer's lock; ``closed`` is already closed, so it is excluded from
    the earlier attendance by its id."""
    volunteer_id = closed["volunteer_id"]
    earlier = [
        span
        for row in await repo.attendance(conn, volunteer_id)
        if row["id"] != closed["id"]
        and (span := domain.attended(row["checked_in_at"], row["checked_out_at"], _span(row)))
    ]
    new = domain.attended(closed["checked_in_at"], closed["checked_out_at"], repo.shift_span(shift))
    credit = domain.attendance_credit(earlier, new, DEFAULT_POLICY.rounding)
    auto_closed = bool(closed["auto_closed"])
    await repo.insert_ledger_entry(
        conn,
        new_id(),
        volunteer_id,
        shift["id"],
        LedgerKind.ATTENDANCE,
        credit,
        recorded_by=recorded_by,
        check_in_id=closed["id"],
        auto_closed=auto_closed,
    )
    await record_event(
        conn,
        SCHEMA,
        contracts.VOLUNTEER_CHECKED_OUT,
        {
            "check_in_id": str(closed["id"]),
            "shift_id": str(shift["id"]),
            "volunteer_id": volunteer_id,
            "community_id": shift["community_id"],
            "venue": shift["venue"],
            "role": shift["role"],
            "checked_in_at": closed["checked_in_at"].isoformat(),
            "checked_out_at": closed["checked_out_at"].isoformat(),
            "minutes_credited": credit,
            "checked_out_by": recorded_by,
            "auto_closed": auto_closed,
            **await repo.units_of(conn, volunteer_id),
        },
    )
    return credit


def _span(row: asyncpg.Record) -> domain.Span:
    return domain.Span(row["starts_at"], row["ends_at"])


async def correct_service_hours(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """An organiser's correction: a new ledger entry with a reason; nothing is rewritten. Once
    the shift's records are locked (``Settings.volunteer_record_lock_days``) only a volunteer's
    correction request, accepted, changes them."""
    entry_id = uuid.UUID(args["id"])
    shift_id = uuid.UUID(args["shift_id"])
    volunteer_id: str = args["volunteer_id"]
    async with _pool(ctx).acquire() as conn, conn.transaction():
        existing = await repo.get_ledger_entry(conn, entry_id)
        if existing is not None:
            return row_as_dict(existing)
        shift = await repo.get_shift(conn, shift_id)
        if shift is None:
            raise domain.shift_not_found()
        if not actor.may_organise(shift["community_id"]):
            raise forbidden()
        lock_days = _settings(ctx).volunteer_record_lock_days
        if certificates.record_locked(shift["ends_at"], _now(ctx), lock_days):
            raise certificates.record_locked_refusal(lock_days)  # only a volunteer's request now
        if not await repo.is_signed_up(conn, shift_id, volunteer_id):
            raise domain.not_signed_up()
        await repo.lock_volunteer(conn, volunteer_id)
        minutes, reason = domain.check_correction(
            int(args["minutes"]), args["reason"], await repo.credited_total(conn, volunteer_id)
        )
        row = await repo.insert_ledger_entry(
            conn,
            entry_id,
            volunteer_id,
            shift_id,
            LedgerKind.CORRECTION,
            minutes,
            recorded_by=actor.user_id,
            reason=reason,
        )
        await record_event(
            conn,
            SCHEMA,
            contracts.SERVICE_HOURS_CORRECTED,
            {
                "entry_id": str(entry_id),
                "shift_id": str(shift_id),
                "volunteer_id": volunteer_id,
                "minutes": minutes,
                "reason": reason,
                "corrected_by": actor.user_id,
                "community_id": shift["community_id"],  # the dashboard counts it there
                **await repo.units_of(conn, volunteer_id),
            },
        )
    return row_as_dict(row)


# --- forgotten check-outs -------------------------------------------------------------------

SYSTEM = "system"  # who recorded what nobody did: a forgotten check-out closed at shift end
_SWEEP_BATCH = 500


async def _close_at_shift_end(ctx: dict[str, Any], shift_id: uuid.UUID, ends_at: datetime) -> None:
    """Schedule, at its end, the closing of the shift's check-ins nobody closed. One job per
    shift (its id names the shift), so a busy shift does not look like a backlog of jobs to the
    autoscaler. The sweep catches what Redis may lose."""
    redis = ctx.get("redis")
    if redis is None:
        return
    settings = _settings(ctx)
    await redis.enqueue_job(
        contracts.CLOSE_FORGOTTEN_CHECK_INS_OF_SHIFT,
        str(shift_id),
        _job_id=f"{settings.namespace}:close-shift:{shift_id}",
        _queue_name=settings.queue(SCHEMA),
        _defer_until=ends_at,
    )


def _now(ctx: dict[str, Any]) -> datetime:
    at: datetime = ctx.get("clock", clock.now)()
    return at


async def close_forgotten_check_in(ctx: dict[str, Any], check_in_id: str) -> bool:
    """Close one check-in at its shift's end if it is still open then, flag it and credit the
    time up to the shift's end. True if it was closed now."""
    async with _pool(ctx).acquire() as conn, conn.transaction():
        found = await repo.get_check_in(conn, uuid.UUID(check_in_id))
        if found is None or found["checked_out_at"] is not None:
            return False
        await repo.lock_volunteer(conn, found["volunteer_id"])
        open_check_in = await repo.get_check_in(conn, found["id"], for_update=True)
        shift = await repo.get_shift(conn, found["shift_id"])
        assert shift is not None
        if open_check_in is None or open_check_in["checked_out_at"] is not None:
            return False  # checked out in the meantime
        if not domain.forgotten(_now(ctx), repo.shift_span(shift)):
            return False  # too early (a clock ahead of ours): the sweep will come back for it
        closed = await repo.close_check_in(conn, found["id"], shift["ends_at"], auto_closed=True)
        await _credit_attendance(conn, shift, closed, recorded_by=SYSTEM)
    return True


async def close_forgotten_check_ins_of_shift(ctx: dict[str, Any], shift_id: str) -> int:
    """At a shift's end: close its check-ins nobody closed. Returns how many."""
    async with _pool(ctx).acquire() as conn:
        rows = await repo.open_check_ins_of_shift(conn, uuid.UUID(shift_id))
    return sum([await close_forgotten_check_in(ctx, str(row["id"])) for row in rows])


async def close_forgotten_check_ins(ctx: dict[str, Any]) -> int:
    """The sweep: close every check-in still open after its shift ended. Returns how many.

    A check-in schedules its shift's closing job; the sweep, hourly, is for what Redis lost."""
    closed = 0
    while True:
        async with _pool(ctx).acquire() as conn:
            rows = await repo.open_check_ins_of_ended_shifts(conn, _now(ctx), _SWEEP_BATCH)
        done = [await close_forgotten_check_in(ctx, str(row["id"])) for row in rows]
        closed += sum(done)
        if len(rows) < _SWEEP_BATCH or not any(done):
            return closed


CHECK_OUT_SWEEP = cron(
    close_forgotten_check_ins,
    name=contracts.CLOSE_FORGOTTEN_CHECK_INS,
    minute=23,
    max_tries=1,
)
CHECK_OUT_JOBS = [
    func(close_forgotten_check_ins_of_shift, name=contracts.CLOSE_FORGOTTEN_CHECK_INS_OF_SHIFT, max_tries=10),
    func(close_forgotten_check_ins, name=contracts.CLOSE_FORGOTTEN_CHECK_INS, max_tries=3),
]

# --- profiles, party members, partner organisations ----------------------------------------


async def update_volunteer_profile(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """A volunteer's own profile, in a community they belong to."""
    if not actor.has_role(RESIDENT, VOLUNTEER):
        raise forbidden()
    if args["community_id"] not in actor.communities and not actor.may_organise(args["community_id"]):
        raise forbidden()
    slots = [profiles.check_slot(int(s["weekday"]), s["from"], s["to"]) for s in args.get("slots") or []]
    profile = profiles.check_profile(
        args["community_id"], args.get("display_name"), args.get("availability"), slots
    )
    async with _pool(ctx).acquire() as conn:
        row = await repo.upsert_profile(conn, actor.user_id, profile)
    return row_as_dict(row)


async def register_party_member(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """双报到: a party member reports to the community where they live: themself, or an
    organiser of that community registers a volunteer who already serves there (see
    ``reports.communities_of``). Only the member moves a registration to another community."""
    volunteer_id = domain.check_text("volunteerId", args.get("volunteer_id") or actor.user_id, 64)
    community_id = args["community_id"]
    themself = volunteer_id == actor.user_id
    if themself:
        allowed = community_id in actor.communities or actor.may_organise(community_id)
    else:
        allowed = actor.may_organise(community_id)
    if not allowed:
        raise forbidden()
    member = profiles.check_party_member(
        args["name"],
        args["work_unit"],
        args["party_branch"],
        community_id,
        date.fromisoformat(args["reported_on"]),
        _now(ctx).astimezone(clock.LOCAL_TZ).date(),
    )
    async with _pool(ctx).acquire() as conn, conn.transaction():
        if not themself and community_id not in await reports.communities_of(conn, volunteer_id):
            raise forbidden()
        await repo.lock_volunteer(conn, volunteer_id)
        before = await repo.get_party_member(conn, volunteer_id)
        same = before is not None and (
            before["community_id"] == member.community_id
            and before["work_unit_key"] == profiles.unit_key(member.work_unit)
            and before["party_branch"] == member.party_branch
            and before["name"] == member.name
        )
        status = profiles.status_after_registering(
            themself, profiles.PartyMemberStatus(before["status"]) if before else None, same
        )
        row = await repo.upsert_party_member(
            conn, volunteer_id, member, actor.user_id, may_move=themself, status=status
        )
    if row is None:
        raise profiles.registered_elsewhere()
    return row_as_dict(row)


async def review_party_member(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """The community reviews a member's own 双报到: approves it, or declines it with a reason
    (they may correct it and register again). The member is told either way."""
    volunteer_id = domain.check_text("volunteerId", args["volunteer_id"], 64)
    review = profiles.PartyMemberReview(args["review"])
    status, reason = profiles.review_outcome(review, args.get("reason"))
    async with _pool(ctx).acquire() as conn, conn.transaction():
        found = await repo.get_party_member(conn, volunteer_id)
        if found is None:
            raise profiles.registration_not_found()
        if not actor.may_organise(found["community_id"]):
            raise forbidden()
        if found["status"] == status and found["reviewed_by"] == actor.user_id:
            return row_as_dict(found)  # the same decision again
        row = await repo.review_party_member(conn, volunteer_id, status, reason, actor.user_id, _now(ctx))
        if row is None:
            raise profiles.registration_reviewed(found["status"])
        await record_event(
            conn,
            SCHEMA,
            contracts.PARTY_MEMBER_REVIEWED,
            {
                "volunteer_id": volunteer_id,
                "community_id": row["community_id"],
                "status": status.value,
                "reason": reason,
                "reviewed_by": actor.user_id,
            },
        )
    return row_as_dict(row)


# --- withdrawals -------------------------------------------------------------------------------


async def withdraw_from_shift(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """A volunteer withdraws before the cut-off (``Settings.volunteer_withdraw_cutoff_min``
    before the shift starts): the place is free again and the organiser is told. Later, or
    once checked in, they are refused with the shift's contact phone to call instead."""
    if not actor.has_role(RESIDENT, VOLUNTEER):
        raise forbidden()
    shift_id = uuid.UUID(args["shift_id"])
    reason = (args.get("reason") or "").strip() or None
    if reason is not None:
        reason = domain.check_text("reason", reason, 200)
    closes_before = timedelta(minutes=_settings(ctx).volunteer_withdraw_cutoff_min)
    at = _now(ctx)
    async with _pool(ctx).acquire() as conn, conn.transaction():
        await repo.lock_volunteer(conn, actor.user_id)
        shift = await repo.get_shift(conn, shift_id)
        if shift is None:
            raise domain.shift_not_found()
        signup = await repo.signup_of(conn, shift_id, actor.user_id)
        if signup is None:
            raise domain.not_signed_up()
        if await repo.has_check_in(conn, shift_id, actor.user_id):
            raise domain.already_checked_in()
        domain.ensure_may_withdraw(at, repo.shift_span(shift), closes_before, shift["contact_phone"])
        row = await release_place(conn, shift, signup, reason, at)
    return row_as_dict(row)


async def release_place(
    conn: Connection,
    shift: asyncpg.Record,
    signup: asyncpg.Record,
    reason: str | None,
    at: datetime,
    event_extra: dict[str, Any] | None = None,
) -> asyncpg.Record:
    """Take the volunteer off the shift (the caller holds their lock): the place is free again
    and ``shift.withdrawn`` tells the organiser (with ``event_extra``). Shifts keep no waiting
    list (a full one refuses), so nobody is promoted. The withdrawal is returned."""
    row = await repo.withdraw(conn, new_id(), signup, reason, at)
    await record_event(
        conn,
        SCHEMA,
        contracts.SHIFT_WITHDRAWN,
        {
            "signup_id": str(signup["id"]),
            "shift_id": str(shift["id"]),
            "volunteer_id": signup["volunteer_id"],
            "organiser_id": shift["created_by"],
            "community_id": shift["community_id"],
            "venue": shift["venue"],
            "role": shift["role"],
            "starts_at": shift["starts_at"].isoformat(),
            "ends_at": shift["ends_at"].isoformat(),
            "reason": reason,
            "places_left": shift["headcount"] - shift["taken"] + 1,
            **(event_extra or {}),
        },
    )
    return row


async def create_partner_organisation(
    ctx: dict[str, Any], actor: Actor, args: dict[str, Any]
) -> dict[str, Any]:
    community_id = args["community_id"]
    if not actor.may_organise(community_id):
        raise forbidden()
    name = domain.check_text("name", args["name"], 200)
    async with _pool(ctx).acquire() as conn:
        row = await repo.insert_partner_organisation(
            conn, uuid.UUID(args["id"]), community_id, name, actor.user_id
        )
    if row is None:
        raise profiles.organisation_exists()
    return row_as_dict(row)


async def add_partner_member(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    volunteer_id = domain.check_text("volunteerId", args["volunteer_id"], 64)
    async with _pool(ctx).acquire() as conn:
        organisation = await repo.get_partner_organisation(conn, uuid.UUID(args["organisation_id"]))
        if organisation is None:
            raise profiles.organisation_not_found()
        if not actor.may_organise(organisation["community_id"]):
            raise forbidden()
        if organisation["community_id"] not in await reports.communities_of(conn, volunteer_id):
            raise forbidden()  # only volunteers who serve in the organisation's community
        await repo.insert_partner_member(conn, organisation["id"], volunteer_id, actor.user_id)
    return {"organisation_id": str(organisation["id"]), "volunteer_id": volunteer_id}


COMMANDS = [
    command(contracts.CREATE_SHIFT, create_shift),
    command(contracts.RECORD_SKILL, record_skill),
    command(contracts.SIGN_UP_FOR_SHIFT, sign_up_for_shift),
    command(contracts.CHECK_OUT, check_out),
    command(contracts.UNDO_CHECK_OUT, undo_check_out),
    command(contracts.CORRECT_SERVICE_HOURS, correct_service_hours),
    command(contracts.UPDATE_VOLUNTEER_PROFILE, update_volunteer_profile),
    command(contracts.REGISTER_PARTY_MEMBER, register_party_member),
    command(contracts.CREATE_PARTNER_ORGANISATION, create_partner_organisation),
    command(contracts.ADD_PARTNER_MEMBER, add_partner_member),
    command(contracts.REVIEW_PARTY_MEMBER, review_party_member),
    command(contracts.WITHDRAW_FROM_SHIFT, withdraw_from_shift),
]
