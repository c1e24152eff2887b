"""邻里议事会 commands (see council.py): load, decide, save and record the events in one
transaction. Handlers read the time from ``ctx["clock"]`` when a test puts one there."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import asyncpg
from arq.cron import cron

from services.common import clock
from services.common.actor import RESIDENT, Actor
from services.common.commands import command
from services.common.db import Connection, row_as_dict
from services.common.errors import forbidden
from services.common.outbox import record_event
from services.volunteers import council
from services.volunteers import council_repository as repo
from services.volunteers.contracts import id_for
from services.volunteers.council import ConcernStatus, Hand, Reply, Share, TaskStatus, Triage, Vote

SCHEMA = "volunteers"


def pool_of(ctx: dict[str, Any]) -> asyncpg.Pool:
    pool: asyncpg.Pool = ctx["pool"]
    return pool


def now_of(ctx: dict[str, Any]) -> datetime:
    now: Callable[[], datetime] = ctx.get("clock", clock.now)
    return now()


def _staff(actor: Actor, community_id: str) -> bool:
    """Organisers and grid workers of the community (a street's staff have it expanded)."""
    return actor.may_organise(community_id) or actor.acts_for_residents_of(community_id)


async def _concern(conn: Connection, concern_id: uuid.UUID, for_update: bool = False) -> asyncpg.Record:
    row = await repo.get_concern(conn, concern_id, for_update)
    if row is None:
        raise council.unknown("concern", "事项")
    return row


async def _changed(conn: Connection, concern: asyncpg.Record) -> None:
    """The resident (and a grid worker who raised it for them) hears the new state in words."""
    zh, en = council.words_for(ConcernStatus(concern["status"]))
    await record_event(
        conn,
        SCHEMA,
        council.CONCERN_CHANGED,
        {
            "concern_id": str(concern["id"]),
            "community_id": concern["community_id"],
            "building": concern["building"],
            "resident_id": concern["resident_id"],
            "raised_by": concern["raised_by"],
            "status": concern["status"],
            "words_zh": zh,
            "words_en": en,
            "note": concern["triage_note"],
        },
    )


async def raise_concern(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """A resident raises a concern about a building or place, or a grid worker raises it for one."""
    community_id = council.check_text("communityId", args["community_id"], 64)
    building = council.check_text("building", args["building"], 40)
    words = council.check_text("words", args["words"], council.MAX_WORDS)
    photo = (args.get("photo_url") or "").strip() or None
    if photo is not None:
        photo = council.check_text("photoUrl", photo, 500)
    resident_id = args.get("resident_id") or actor.user_id
    if resident_id == actor.user_id:
        if not (actor.has_role(RESIDENT) and community_id in actor.communities):
            raise forbidden()
    elif not actor.acts_for_residents_of(community_id):
        raise forbidden()
    async with pool_of(ctx).acquire() as conn, conn.transaction():
        row, made = await repo.insert_concern(
            conn,
            uuid.UUID(args["id"]),
            community_id,
            building,
            words,
            photo,
            resident_id,
            actor.user_id,
            now_of(ctx),
        )
        if made:
            await _changed(conn, row)
    return row_as_dict(row)


async def triage_concern(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """The grid worker (or an organiser) decides: a duplicate, handled directly, or to the council."""
    concern_id = uuid.UUID(args["concern_id"])
    triage = Triage(args["triage"])
    note = (args.get("note") or "").strip() or None
    if triage is Triage.HANDLED:
        note = council.check_text("note", note, council.MAX_NOTE)
    elif note is not None:
        note = council.check_text("note", note, council.MAX_NOTE)
    at = now_of(ctx)
    async with pool_of(ctx).acquire() as conn, conn.transaction():
        concern = await _concern(conn, concern_id, for_update=True)
        if not _staff(actor, concern["community_id"]):
            raise forbidden()
        current = ConcernStatus(concern["status"])
        target = council.triaged(ConcernStatus.RAISED, triage)
        if current is target and concern["triaged_by"] == actor.user_id:
            return row_as_dict(concern)  # the same decision again
        council.move(current, target)
        duplicate_of = None
        if triage is Triage.DUPLICATE:
            duplicate_of = uuid.UUID(args["duplicate_of"]) if args.get("duplicate_of") else None
            original = await repo.get_concern(conn, duplicate_of) if duplicate_of else None
            if (
                original is None
                or original["id"] == concern_id
                or original["community_id"] != concern["community_id"]
            ):
                raise council.unknown("concern", "原事项")
        row = await repo.set_concern_status(
            conn,
            concern_id,
            target,
            at,
            triaged_by=actor.user_id,
            triage_note=note,
            duplicate_of=duplicate_of,
        )
        await _changed(conn, row)
    return row_as_dict(row)


async def convene_council_meeting(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """An organiser convenes a meeting about concerns sent to the council, at a station, and
    invites people by role; every invitee is told once."""
    community_id = args["community_id"]
    if not actor.may_organise(community_id):
        raise forbidden()
    meeting_id = uuid.UUID(args["id"])
    title = council.check_text("title", args["title"], 80)
    starts_at = datetime.fromisoformat(args["starts_at"])
    concern_ids = [uuid.UUID(c) for c in dict.fromkeys(args["concern_ids"])]
    if not concern_ids:
        raise council.unknown("concern", "事项")
    at = now_of(ctx)
    async with pool_of(ctx).acquire() as conn, conn.transaction():
        meeting = await repo.insert_meeting(
            conn,
            meeting_id,
            community_id,
            title,
            starts_at,
            uuid.UUID(args["station_id"]),
            args["place"],
            actor.user_id,
            at,
        )
        if meeting is None:  # the same request again
            again = await repo.get_meeting(conn, meeting_id)
            assert again is not None
            return row_as_dict(again)
        for concern_id in concern_ids:
            concern = await _concern(conn, concern_id)
            if concern["community_id"] != community_id:
                raise forbidden()
            if concern["status"] != ConcernStatus.TO_COUNCIL:
                raise council.wrong_state(ConcernStatus(concern["status"]))
        await repo.link_concerns(conn, meeting_id, concern_ids)
        for i, invitee in enumerate(args["invitees"]):
            partner_id = uuid.UUID(invitee["partner_id"]) if invitee.get("partner_id") else None
            name = invitee.get("name") or ""
            recipients = [invitee["person_id"]] if invitee.get("person_id") else []
            if partner_id is not None:
                found = await repo.partner(conn, partner_id)
                if found is None or found["community_id"] != community_id:
                    raise council.unknown("partner", "共建单位")
                name = found["name"]
                recipients = await repo.partner_member_ids(conn, partner_id)
            invitation = await repo.insert_invitation(
                conn,
                id_for("council-invitation", str(meeting_id), str(i)),
                meeting_id,
                council.InviteeRole(invitee["role"]).value,
                invitee.get("person_id"),
                partner_id,
                council.check_text("name", name, 40),
            )
            await record_event(
                conn,
                SCHEMA,
                council.COUNCIL_INVITED,
                {
                    "invitation_id": str(invitation["id"]),
                    "meeting_id": str(meeting_id),
                    "community_id": community_id,
                    "title": title,
                    "starts_at": starts_at.isoformat(),
                    "place": args["place"],
                    "role": invitation["role"],
                    "role_zh": council.ROLE_WORDS[council.InviteeRole(invitation["role"])][0],
                    "role_en": council.ROLE_WORDS[council.InviteeRole(invitation["role"])][1],
                    "recipients": recipients,
                },
            )
    return row_as_dict(meeting)


async def reply_to_invitation(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """An invitee (or a member of an invited partner unit) says whether they come; the organiser
    hears each reply once — the same reply sent again changes nothing."""
    invitation_id = uuid.UUID(args["invitation_id"])
    reply = Reply(args["reply"])
    async with pool_of(ctx).acquire() as conn, conn.transaction():
        invitation = await repo.get_invitation(conn, invitation_id)
        if invitation is None:
            raise council.unknown("invitation", "邀请")
        if invitation["person_id"] is not None:
            if invitation["person_id"] != actor.user_id:
                raise council.not_invited()
        elif not await repo.is_partner_member(conn, invitation["partner_id"], actor.user_id):
            raise council.not_invited()
        if invitation["reply"] == reply.value:
            return row_as_dict(invitation)
        row = await repo.record_reply(conn, invitation_id, reply.value, actor.user_id, now_of(ctx))
        meeting = await repo.get_meeting(conn, invitation["meeting_id"])
        assert meeting is not None
        await record_event(
            conn,
            SCHEMA,
            council.COUNCIL_REPLIED,
            {
                "invitation_id": str(invitation_id),
                "meeting_id": str(meeting["id"]),
                "community_id": meeting["community_id"],
                "title": meeting["title"],
                "starts_at": meeting["starts_at"].isoformat(),
                "name": invitation["name"],
                "role": invitation["role"],
                "reply": reply.value,
                "organiser_id": meeting["convened_by"],
            },
        )
    return row_as_dict(row)


def _decision(
    raw: dict[str, Any], today: date
) -> tuple[dict[str, Any], council.CostSplit, council.Tally | None]:
    """One decision of the minutes, checked: what, by whom, by when, its cost and the hands."""
    decision = {
        **raw,
        "decision": council.check_text("decision", raw["decision"], council.MAX_NOTE),
        "owner_name": council.check_text("ownerName", raw.get("owner_name"), 40),
        "deadline": council.check_deadline(date.fromisoformat(raw["deadline"]), today),
        "owner_partner_id": uuid.UUID(raw["owner_partner_id"]) if raw.get("owner_partner_id") else None,
    }
    if (decision["owner_partner_id"] is None) == (not raw.get("owner_person_id")):
        raise council.unknown("owner", "承办方")
    split = council.check_cost_split(
        int(raw.get("cost_total_fen") or 0),
        [Share(s["party"], int(s["fen"])) for s in raw.get("shares") or []],
    )
    hands = raw.get("hands")
    tally = council.tally([Hand(h["household"], Vote(h["vote"])) for h in hands]) if hands else None
    return decision, split, tally


async def record_minutes(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """The minutes: the discussion and each decision, which becomes a task with an owner, a
    deadline and a cost split that adds up. Recorded once; nothing is saved if any part is wrong."""
    meeting_id = uuid.UUID(args["meeting_id"])
    minutes = council.check_text("minutes", args["minutes"], 4000)
    at = now_of(ctx)
    checked = [_decision(raw, council.local_day(at)) for raw in args["decisions"]]
    async with pool_of(ctx).acquire() as conn, conn.transaction():
        meeting = await repo.get_meeting(conn, meeting_id, for_update=True)
        if meeting is None:
            raise council.unknown("meeting", "议事会")
        if not actor.may_organise(meeting["community_id"]):
            raise forbidden()
        if meeting["recorded_at"] is not None:
            return row_as_dict(meeting)
        linked = set(await repo.meeting_concern_ids(conn, meeting_id))
        decided: dict[uuid.UUID, asyncpg.Record] = {}
        for i, (decision, split, tally) in enumerate(checked):
            concern_id = uuid.UUID(decision["concern_id"])
            if concern_id not in linked:
                raise council.unknown("concern", "本次议事的事项")
            concern = await _concern(conn, concern_id, for_update=True)
            partner_id = decision["owner_partner_id"]
            owners = [decision["owner_person_id"]] if decision.get("owner_person_id") else []
            if partner_id is not None:
                found = await repo.partner(conn, partner_id)
                if found is None or found["community_id"] != meeting["community_id"]:
                    raise council.unknown("partner", "共建单位")
                owners = await repo.partner_member_ids(conn, partner_id)
            task = await repo.insert_task(
                conn,
                id_for("council-task", str(meeting_id), str(i)),
                meeting,
                concern,
                decision,
                split,
                tally,
                at,
            )
            decided[concern_id] = concern
            await record_event(
                conn,
                SCHEMA,
                council.TASK_ASSIGNED,
                {
                    "task_id": str(task["id"]),
                    "community_id": task["community_id"],
                    "building": task["building"],
                    "decision": task["decision"],
                    "deadline": task["deadline"].isoformat(),
                    "recipients": owners,
                },
            )
        for concern_id, concern in decided.items():
            council.move(ConcernStatus(concern["status"]), ConcernStatus.DECIDED)
            await _changed(conn, await repo.set_concern_status(conn, concern_id, ConcernStatus.DECIDED, at))
        row = await repo.record_minutes(conn, meeting_id, minutes, actor.user_id, at)
    return row_as_dict(row)


async def _task_for_owner(conn: Connection, task_id: uuid.UUID, actor: Actor) -> asyncpg.Record:
    """The task, locked, if the actor carries it out (or its partner's member) or is staff."""
    task = await repo.get_task(conn, task_id, for_update=True)
    if task is None:
        raise council.unknown("task", "任务")
    if task["owner_person_id"] == actor.user_id or _staff(actor, task["community_id"]):
        return task
    if task["owner_partner_id"] is not None and await repo.is_partner_member(
        conn, task["owner_partner_id"], actor.user_id
    ):
        return task
    raise council.not_your_task()


async def note_task_progress(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """A progress note (and a photo link) on a task; the first one starts the work."""
    task_id = uuid.UUID(args["task_id"])
    note = council.check_text("note", args["note"], council.MAX_NOTE)
    photo = (args.get("photo_url") or "").strip() or None
    at = now_of(ctx)
    async with pool_of(ctx).acquire() as conn, conn.transaction():
        task = await _task_for_owner(conn, task_id, actor)
        if task["status"] == TaskStatus.DONE:
            raise council.wrong_state(ConcernStatus.DONE)
        await repo.insert_note(conn, uuid.UUID(args["id"]), task_id, actor.user_id, note, photo, at)
        if task["status"] == TaskStatus.OPEN:
            task = await repo.set_task_status(conn, task_id, TaskStatus.IN_PROGRESS.value)
            concern = await _concern(conn, task["concern_id"], for_update=True)
            if council.may_move(ConcernStatus(concern["status"]), ConcernStatus.IN_PROGRESS):
                await _changed(
                    conn, await repo.set_concern_status(conn, concern["id"], ConcernStatus.IN_PROGRESS, at)
                )
    return row_as_dict(task)


async def complete_task(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """The work is done; once every task of its concern is, the concern is done and the resident
    is asked to rate it."""
    task_id = uuid.UUID(args["task_id"])
    note = council.check_text("note", args["note"], council.MAX_NOTE)
    at = now_of(ctx)
    async with pool_of(ctx).acquire() as conn, conn.transaction():
        task = await _task_for_owner(conn, task_id, actor)
        if task["status"] == TaskStatus.DONE:
            return row_as_dict(task)
        task = await repo.set_task_status(conn, task_id, TaskStatus.DONE.value, done_note=note, done_at=at)
        concern = await _concern(conn, task["concern_id"], for_update=True)
        siblings = await repo.tasks_of_concerns(conn, [concern["id"]])
        if all(t["status"] == TaskStatus.DONE for t in siblings) and council.may_move(
            ConcernStatus(concern["status"]), ConcernStatus.DONE
        ):
            await _changed(conn, await repo.set_concern_status(conn, concern["id"], ConcernStatus.DONE, at))
    return row_as_dict(task)


async def rate_task(ctx: dict[str, Any], actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """A resident of the affected building rates finished work, 1 to 5 stars with a comment.
    The gateway gives the resident's community and building from identity."""
    task_id = uuid.UUID(args["task_id"])
    stars = council.check_stars(int(args["stars"]))
    comment = (args.get("comment") or "").strip()
    if comment:
        comment = council.check_text("comment", comment, council.MAX_COMMENT)
    at = now_of(ctx)
    async with pool_of(ctx).acquire() as conn, conn.transaction():
        task = await repo.get_task(conn, task_id)
        if task is None:
            raise council.unknown("task", "任务")
        if not actor.has_role(RESIDENT) or not council.may_rate(
            args.get("resident_community_id"),
            args.get("resident_building") or "",
            task["community_id"],
            task["building"],
        ):
            raise council.not_of_the_building()
        if task["status"] != TaskStatus.DONE:
            raise council.wrong_state(ConcernStatus.IN_PROGRESS)
        await repo.upsert_rating(conn, task_id, actor.user_id, stars, comment, at)
        concern = await _concern(conn, task["concern_id"], for_update=True)
        if concern["status"] == ConcernStatus.DONE:
            await _changed(conn, await repo.set_concern_status(conn, concern["id"], ConcernStatus.RATED, at))
    return row_as_dict(task)


async def _remind(conn: Connection, task_id: uuid.UUID, today: date) -> bool:
    task = await repo.mark_reminded(conn, task_id, today)
    if task is None:
        return False
    owners = [task["owner_person_id"]] if task["owner_person_id"] else []
    if task["owner_partner_id"] is not None:
        owners = await repo.partner_member_ids(conn, task["owner_partner_id"])
    await record_event(
        conn,
        SCHEMA,
        council.TASK_OVERDUE,
        {
            "task_id": str(task_id),
            "community_id": task["community_id"],
            "building": task["building"],
            "decision": task["decision"],
            "deadline": task["deadline"].isoformat(),
            "reminded_on": today.isoformat(),
            "recipients": owners,
        },
    )
    return True


async def remind_overdue_tasks(ctx: dict[str, Any]) -> int:
    """The hourly sweep (an arq cron job): each overdue task reminds its owner once a local day."""
    today = council.local_day(now_of(ctx))
    reminded = 0
    async with pool_of(ctx).acquire() as conn:
        for task_id in await repo.overdue_tasks(conn, today):
            async with conn.transaction():
                reminded += await _remind(conn, task_id, today)
    return reminded


# Hourly, so a task falling overdue at midnight is reminded in the morning; the day stamp on the
# task (claimed by a conditional update) keeps it to once a day however often the sweep runs.
OVERDUE_TASK_SWEEP = cron(remind_overdue_tasks, name="remind_overdue_tasks", minute=17, max_tries=1)

COUNCIL_COMMANDS = [
    command(council.RAISE_CONCERN, raise_concern),
    command(council.TRIAGE_CONCERN, triage_concern),
    command(council.CONVENE_COUNCIL_MEETING, convene_council_meeting),
    command(council.REPLY_TO_INVITATION, reply_to_invitation),
    command(council.RECORD_MINUTES, record_minutes),
    command(council.NOTE_TASK_PROGRESS, note_task_progress),
    command(council.COMPLETE_TASK, complete_task),
    command(council.RATE_TASK, rate_task),
]
