"""邻里议事会 in the GraphQL API: concerns, triage, council meetings and invitations, minutes with
decisions and their cost split, tasks with progress notes, residents' ratings, and a public board
per community that names buildings and partner units, never residents.

Resolvers stay thin: they check what they can at the door, send the volunteers service a command
(as wishes.py does) and read answers through council_repository."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import asyncpg
import strawberry

from services.common import clock
from services.common.actor import Actor
from services.common.errors import bad_input, forbidden
from services.common.masking import mask_phones_in
from services.common.paging import DEFAULT_LIMIT, after_uuid, checked_limit
from services.gateway import commands
from services.gateway.context import Info
from services.gateway.directory import directory
from services.gateway.inputs import check_key, parse_id
from services.gateway.names import community_name
from services.gateway.paging import After, Limit
from services.identity import queries as identity_queries
from services.volunteers import contracts, council
from services.volunteers import council_repository as repo
from services.volunteers.council import ConcernStatus, InviteeRole, Reply, TaskStatus, Triage, Vote

strawberry.enum(ConcernStatus, name="ConcernStatus")
strawberry.enum(Triage, name="ConcernTriage", description="A duplicate, handled directly, or to the council.")
strawberry.enum(InviteeRole, name="InviteeRole")
strawberry.enum(Reply, name="InvitationReply")
strawberry.enum(TaskStatus, name="CouncilTaskStatus")
strawberry.enum(Vote, name="HandVote")


def _words(status: ConcernStatus) -> str:
    return council.words_for(status)[0]


@strawberry.type(description="Who pays what part of a decision's cost, in fen.")
class CostShare:
    party: str
    fen: int


@strawberry.type
class TaskNote:
    note: str
    photo_url: str | None
    created_at: datetime


@strawberry.type(description="A council decision and the work it asks for.")
class CouncilTask:
    id: strawberry.ID
    concern_id: strawberry.ID
    building: str
    decision: str
    owner_name: str = strawberry.field(description="Who carries it out, e.g. 朔方物业.")
    supervisor_name: str | None = strawberry.field(description="The resident who supervises the work.")
    deadline: date
    cost_total_fen: int
    shares: list[CostShare]
    votes_for: int | None
    votes_against: int | None
    votes_abstain: int | None
    status: TaskStatus
    status_words: str
    overdue: bool
    done_note: str | None
    done_at: datetime | None
    notes: list[TaskNote]
    rating_count: int
    average_stars: float | None


@strawberry.type(description="A resident's concern, as the resident and the community's staff see it.")
class Concern:
    id: strawberry.ID
    community_id: str
    building: str
    words: str
    status: ConcernStatus
    status_words: str = strawberry.field(description="The state in words, e.g. 已提交邻里议事会商议.")
    status_words_en: str = strawberry.field(description="The same in English.")
    triage_note: str | None
    duplicate_of: strawberry.ID | None
    raised_for_resident: bool = strawberry.field(description="A grid worker raised it for the resident.")
    created_at: datetime
    updated_at: datetime
    tasks: list[CouncilTask]

    @strawberry.field(description="The community's name, e.g. 朔方社区.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)


@strawberry.type(description="One invitation to a council meeting and its reply.")
class CouncilInvitation:
    id: strawberry.ID
    meeting_id: strawberry.ID
    role: InviteeRole
    role_words: str
    name: str
    reply: Reply | None
    replied_at: datetime | None
    meeting_title: str
    starts_at: datetime
    place: str


@strawberry.type
class CouncilMeeting:
    id: strawberry.ID
    community_id: str
    title: str
    starts_at: datetime
    place: str
    minutes: str | None
    recorded_at: datetime | None
    concerns: list[Concern]
    invitations: list[CouncilInvitation]


@strawberry.type(description="Someone the organiser may invite, from the directory and the partners.")
class CouncilInvitee:
    role: InviteeRole
    role_words: str
    name: str
    person_id: strawberry.ID | None
    partner_id: strawberry.ID | None
    building: str | None


@strawberry.type(description="A decision as the public board shows it: no resident is named.")
class BoardDecision:
    decision: str
    owner_name: str
    deadline: date
    cost_total_fen: int
    shares: list[CostShare]
    votes_for: int | None
    votes_against: int | None
    status_words: str
    progress: list[str]
    rating_count: int
    average_stars: float | None


@strawberry.type
class BoardItem:
    building: str
    words: str
    status_words: str
    status_words_en: str
    raised_on: date
    decisions: list[BoardDecision]


@strawberry.type(description="向邻里晒事: a community's concerns, decisions, progress and ratings.")
class PublicBoard:
    community_id: str
    community_name: str
    items: list[BoardItem]


# --- reading ---------------------------------------------------------------------------------


async def _tasks(conn: Any, rows: list[asyncpg.Record], today: date) -> list[CouncilTask]:
    ids = [row["id"] for row in rows]
    shares = await repo.shares_of(conn, ids)
    notes = await repo.notes_of(conn, ids)
    ratings = await repo.ratings_of(conn, ids)
    tasks = []
    for row in rows:
        stars = [r["stars"] for r in ratings.get(row["id"], [])]
        status = TaskStatus(row["status"])
        tasks.append(
            CouncilTask(
                id=strawberry.ID(str(row["id"])),
                concern_id=strawberry.ID(str(row["concern_id"])),
                building=row["building"],
                decision=row["decision"],
                owner_name=row["owner_name"],
                supervisor_name=row["supervisor_name"],
                deadline=row["deadline"],
                cost_total_fen=row["cost_total_fen"],
                shares=[CostShare(party=s["party"], fen=s["fen"]) for s in shares.get(row["id"], [])],
                votes_for=row["votes_for"],
                votes_against=row["votes_against"],
                votes_abstain=row["votes_abstain"],
                status=status,
                status_words={"OPEN": "待办理", "IN_PROGRESS": "办理中", "DONE": "已办结"}[status.value],
                overdue=council.is_overdue(status, row["deadline"], today),
                done_note=row["done_note"],
                done_at=row["done_at"],
                notes=[
                    TaskNote(note=n["note"], photo_url=n["photo_url"], created_at=n["created_at"])
                    for n in notes.get(row["id"], [])
                ],
                rating_count=len(stars),
                average_stars=round(sum(stars) / len(stars), 1) if stars else None,
            )
        )
    return tasks


async def _concerns(conn: Any, rows: list[asyncpg.Record]) -> list[Concern]:
    today = council.local_day(clock.now())
    tasks = await _tasks(conn, await repo.tasks_of_concerns(conn, [r["id"] for r in rows]), today)
    out = []
    for row in rows:
        status = ConcernStatus(row["status"])
        out.append(
            Concern(
                id=strawberry.ID(str(row["id"])),
                community_id=row["community_id"],
                building=row["building"],
                words=mask_phones_in(row["words"]),
                status=status,
                status_words=_words(status),
                status_words_en=council.words_for(status)[1],
                triage_note=row["triage_note"],
                duplicate_of=strawberry.ID(str(row["duplicate_of"])) if row["duplicate_of"] else None,
                raised_for_resident=row["raised_by"] != row["resident_id"],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
                tasks=[t for t in tasks if t.concern_id == str(row["id"])],
            )
        )
    return out


async def _invitations(conn: Any, rows: list[asyncpg.Record]) -> list[CouncilInvitation]:
    out = []
    for row in rows:
        meeting = await repo.get_meeting(conn, row["meeting_id"])
        assert meeting is not None
        role = InviteeRole(row["role"])
        out.append(
            CouncilInvitation(
                id=strawberry.ID(str(row["id"])),
                meeting_id=strawberry.ID(str(row["meeting_id"])),
                role=role,
                role_words=council.ROLE_WORDS[role][0],
                name=row["name"],
                reply=Reply(row["reply"]) if row["reply"] else None,
                replied_at=row["replied_at"],
                meeting_title=meeting["title"],
                starts_at=meeting["starts_at"],
                place=meeting["place"],
            )
        )
    return out


async def _meeting(conn: Any, row: asyncpg.Record) -> CouncilMeeting:
    concern_ids = await repo.meeting_concern_ids(conn, row["id"])
    concerns = [c for c in [await repo.get_concern(conn, i) for i in concern_ids] if c is not None]
    return CouncilMeeting(
        id=strawberry.ID(str(row["id"])),
        community_id=row["community_id"],
        title=row["title"],
        starts_at=row["starts_at"],
        place=row["place"],
        minutes=row["minutes"],
        recorded_at=row["recorded_at"],
        concerns=await _concerns(conn, concerns),
        invitations=await _invitations(conn, await repo.invitations_of_meeting(conn, row["id"])),
    )


def _staff_of(info: Info, community_id: str) -> Actor:
    actor = info.context.require_actor()
    if not (actor.may_organise(community_id) or actor.acts_for_residents_of(community_id)):
        raise forbidden()
    return actor


def _organiser_of(info: Info, community_id: str) -> Actor:
    actor = info.context.require_actor()
    if not actor.may_organise(community_id):
        raise forbidden()
    return actor


def _public_owner(task: CouncilTask, partner_owned: bool) -> str:
    """Partner units and the property company are named; a person is not."""
    return task.owner_name if partner_owned else "社区工作人员"


# The public board tells what the community's latest concerns came to, not its whole history.
BOARD_CONCERNS = 300


async def board(conn: Any, community_id: str, name: str) -> PublicBoard:
    rows = [
        r
        for r in await repo.concerns_of_community(conn, community_id, BOARD_CONCERNS)
        if r["status"] not in (ConcernStatus.RAISED, ConcernStatus.DUPLICATE)
    ]
    task_rows = await repo.tasks_of_concerns(conn, [r["id"] for r in rows])
    partner_owned = {str(t["id"]) for t in task_rows if t["owner_partner_id"] is not None}
    tasks = await _tasks(conn, task_rows, council.local_day(clock.now()))
    items = []
    for row in rows:
        mine = [t for t in tasks if t.concern_id == str(row["id"])]
        items.append(
            BoardItem(
                building=row["building"],
                words=mask_phones_in(row["words"]),
                status_words=_words(ConcernStatus(row["status"])),
                status_words_en=council.words_for(ConcernStatus(row["status"]))[1],
                raised_on=council.local_day(row["created_at"]),
                decisions=[
                    BoardDecision(
                        decision=t.decision,
                        owner_name=_public_owner(t, t.id in partner_owned),
                        deadline=t.deadline,
                        cost_total_fen=t.cost_total_fen,
                        shares=t.shares,
                        votes_for=t.votes_for,
                        votes_against=t.votes_against,
                        status_words=t.status_words,
                        progress=[n.note for n in t.notes] + ([t.done_note] if t.done_note else []),
                        rating_count=t.rating_count,
                        average_stars=t.average_stars,
                    )
                    for t in mine
                ],
            )
        )
    return PublicBoard(community_id=community_id, community_name=name, items=items)


# --- inputs ------------------------------------------------------------------------------------


@strawberry.input
class RaiseConcernInput:
    community_id: str
    building: str = strawberry.field(description="The building or place, e.g. 3号楼.")
    words: str
    idempotency_key: str
    photo_url: str | None = None
    resident_id: strawberry.ID | None = strawberry.field(
        default=None, description="Grid workers: the resident the concern is for."
    )


@strawberry.input
class TriageConcernInput:
    concern_id: strawberry.ID
    triage: Triage
    note: str | None = strawberry.field(default=None, description="Required when handled directly.")
    duplicate_of: strawberry.ID | None = None


@strawberry.input
class InviteeInput:
    role: InviteeRole
    person_id: strawberry.ID | None = None
    partner_id: strawberry.ID | None = None
    name: str = ""


@strawberry.input
class ConveneCouncilMeetingInput:
    community_id: str
    title: str
    concern_ids: list[strawberry.ID]
    starts_at: datetime
    station_id: strawberry.ID = strawberry.field(description="Where: one of the community's stations.")
    invitees: list[InviteeInput]
    idempotency_key: str


@strawberry.input
class CostShareInput:
    party: str
    fen: int


@strawberry.input
class HandInput:
    household: str = strawberry.field(description="Building and door, e.g. 3号楼2单元301.")
    vote: Vote


@strawberry.input
class DecisionInput:
    concern_id: strawberry.ID
    decision: str
    owner_name: str
    deadline: date
    owner_person_id: strawberry.ID | None = None
    owner_partner_id: strawberry.ID | None = None
    supervisor_id: strawberry.ID | None = None
    supervisor_name: str | None = None
    cost_total_fen: int = 0
    shares: list[CostShareInput] = strawberry.field(default_factory=list)
    hands: list[HandInput] = strawberry.field(default_factory=list)


@strawberry.input
class RecordMinutesInput:
    meeting_id: strawberry.ID
    minutes: str
    decisions: list[DecisionInput]


@strawberry.input
class TaskProgressInput:
    task_id: strawberry.ID
    note: str
    idempotency_key: str
    photo_url: str | None = None


@strawberry.input
class RateTaskInput:
    task_id: strawberry.ID
    stars: int
    comment: str = ""


async def _concern_answer(info: Info, concern_id: str) -> Concern:
    async with info.context.pool.acquire() as conn:
        row = await repo.get_concern(conn, uuid.UUID(concern_id))
        assert row is not None
        return (await _concerns(conn, [row]))[0]


async def _task_answer(info: Info, task_id: str) -> CouncilTask:
    async with info.context.pool.acquire() as conn:
        row = await repo.get_task(conn, uuid.UUID(task_id))
        assert row is not None
        return (await _tasks(conn, [row], council.local_day(clock.now())))[0]


async def _meeting_answer(info: Info, meeting_id: str) -> CouncilMeeting:
    async with info.context.pool.acquire() as conn:
        row = await repo.get_meeting(conn, uuid.UUID(meeting_id))
        assert row is not None
        return await _meeting(conn, row)


@strawberry.type
class CouncilQuery:
    @strawberry.field(
        description="Concerns I raised, or (grid workers) raised for a resident: to follow them."
    )
    async def my_concerns(
        self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[Concern]:
        actor = info.context.require_actor()
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            return await _concerns(conn, await repo.concerns_of_resident(conn, actor.user_id, limit, start))

    @strawberry.field(description="Staff: the community's concerns, newest first.")
    async def community_concerns(
        self, info: Info, community_id: str, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[Concern]:
        _staff_of(info, community_id)
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            return await _concerns(conn, await repo.concerns_of_community(conn, community_id, limit, start))

    @strawberry.field(description="Staff: the community's council meetings, with invitations and replies.")
    async def council_meetings(
        self, info: Info, community_id: str, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[CouncilMeeting]:
        _staff_of(info, community_id)
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            rows = await repo.meetings_of_community(conn, community_id, limit, start)
            return [await _meeting(conn, row) for row in rows]

    @strawberry.field(
        description="Organisers: whom the directory knows to invite (网格员, 楼栋长, partners)."
    )
    async def council_invitees(self, info: Info, community_id: str) -> list[CouncilInvitee]:
        _organiser_of(info, community_id)
        async with info.context.pool.acquire() as conn:
            workers = await identity_queries.grid_workers(conn, community_id)
            leaders = await identity_queries.building_leaders(conn, community_id)
            partners = await repo.partners_of_community(conn, community_id)

        def words(role: InviteeRole) -> str:
            return council.ROLE_WORDS[role][0]

        found = [
            CouncilInvitee(
                role=InviteeRole.GRID_WORKER,
                role_words=words(InviteeRole.GRID_WORKER),
                name=w["display_name"] or w["username"],
                person_id=strawberry.ID(str(w["id"])),
                partner_id=None,
                building=None,
            )
            for w in workers
        ]
        found += [
            CouncilInvitee(
                role=InviteeRole.BUILDING_LEADER,
                role_words=words(InviteeRole.BUILDING_LEADER),
                name=b["name"] or "楼栋长",
                person_id=strawberry.ID(str(b["resident_id"])),
                partner_id=None,
                building=b["building"],
            )
            for b in leaders
        ]
        for p in partners:
            role = InviteeRole.PROPERTY_COMPANY if "物业" in p["name"] else InviteeRole.PARTNER_UNIT
            found.append(
                CouncilInvitee(
                    role=role,
                    role_words=words(role),
                    name=p["name"],
                    person_id=None,
                    partner_id=strawberry.ID(str(p["id"])),
                    building=None,
                )
            )
        return found

    @strawberry.field(description="Invitations to council meetings addressed to me or my partner unit.")
    async def my_council_invitations(
        self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[CouncilInvitation]:
        actor = info.context.require_actor()
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            return await _invitations(conn, await repo.invitations_of(conn, actor.user_id, limit, start))

    @strawberry.field(description="Tasks I (or my partner unit) carry out or supervise.")
    async def my_council_tasks(
        self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[CouncilTask]:
        actor = info.context.require_actor()
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            rows = await repo.tasks_owned_by(conn, actor.user_id, limit, start)
            return await _tasks(conn, rows, council.local_day(clock.now()))

    @strawberry.field(description="Staff: the community's council tasks, by deadline.")
    async def community_council_tasks(
        self, info: Info, community_id: str, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[CouncilTask]:
        _staff_of(info, community_id)
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            rows = await repo.tasks_of_community(conn, community_id, limit, start)
            return await _tasks(conn, rows, council.local_day(clock.now()))

    @strawberry.field(description="向邻里晒事: anyone may read it; it names no resident.")
    async def public_board(self, info: Info, community_id: str) -> PublicBoard:
        name = await community_name(info, community_id)
        async with info.context.pool.acquire() as conn:
            return await board(conn, community_id, name)


@strawberry.type
class CouncilMutation:
    @strawberry.mutation(
        description="Raise a concern: my own, or (grid workers) a resident's of my community."
    )
    async def raise_concern(self, info: Info, input: RaiseConcernInput) -> Concern:
        actor = info.context.require_actor()
        key = check_key(input.idempotency_key)
        args: dict[str, Any] = {
            "community_id": input.community_id,
            "building": input.building,
            "words": input.words,
            "photo_url": input.photo_url,
            "id": str(contracts.id_for("concern", actor.user_id, key)),
        }
        if input.resident_id is not None and str(input.resident_id) != actor.user_id:
            if not actor.acts_for_residents_of(input.community_id):
                raise forbidden()
            resident_id = parse_id("residentId", input.resident_id)
            async with info.context.pool.acquire() as conn:
                resident = await identity_queries.resident(conn, resident_id)
            if resident is None or resident["community_id"] != input.community_id:
                raise forbidden()
            args["resident_id"] = str(resident_id)
        made = await commands.answer(
            info, contracts.SERVICE, council.RAISE_CONCERN, actor, args, key, commands.created_id
        )
        return await _concern_answer(info, made)

    @strawberry.mutation(
        description="Grid workers: a duplicate, handled directly (with a note), or to the council."
    )
    async def triage_concern(self, info: Info, input: TriageConcernInput) -> Concern:
        actor = info.context.require_actor()
        concern_id = parse_id("concernId", input.concern_id)
        args = {
            "concern_id": str(concern_id),
            "triage": input.triage.value,
            "note": input.note,
            "duplicate_of": str(parse_id("duplicateOf", input.duplicate_of)) if input.duplicate_of else None,
        }
        await commands.perform(
            info, contracts.SERVICE, council.TRIAGE_CONCERN, actor, args, commands.derived_key(args)
        )
        return await _concern_answer(info, str(concern_id))

    @strawberry.mutation(description="Organisers: convene a council meeting at a station and invite people.")
    async def convene_council_meeting(self, info: Info, input: ConveneCouncilMeetingInput) -> CouncilMeeting:
        actor = _organiser_of(info, input.community_id)
        key = check_key(input.idempotency_key)
        if input.starts_at.tzinfo is None:
            raise bad_input("startsAt", "时间须包含时区", "Times must include a time zone")
        if not input.invitees:
            raise bad_input("invitees", "请至少邀请一位参加者", "Invite at least one participant")
        station_id = parse_id("stationId", input.station_id)
        async with info.context.pool.acquire() as conn:
            station = await identity_queries.station(conn, station_id)
        if station is None or station["community_id"] != input.community_id:
            raise bad_input("stationId", "请选择本社区的一处驿站", "Choose one of the community's stations")
        invitees = []
        for invitee in input.invitees:
            if (invitee.person_id is None) == (invitee.partner_id is None):
                raise bad_input(
                    "invitees", "每位受邀者须是一个人或一个单位", "Each invitee is a person or a unit"
                )
            invitees.append(
                {
                    "role": invitee.role.value,
                    "person_id": str(invitee.person_id) if invitee.person_id else None,
                    "partner_id": str(parse_id("partnerId", invitee.partner_id))
                    if invitee.partner_id
                    else None,
                    "name": invitee.name or council.ROLE_WORDS[invitee.role][0],
                }
            )
        args = {
            "id": str(contracts.id_for("council-meeting", actor.user_id, key)),
            "community_id": input.community_id,
            "title": input.title,
            "starts_at": input.starts_at.isoformat(),
            "station_id": str(station_id),
            "place": f"{station['name']}（{station['address']}）",
            "concern_ids": [str(parse_id("concernIds", c)) for c in input.concern_ids],
            "invitees": invitees,
        }
        made = await commands.answer(
            info, contracts.SERVICE, council.CONVENE_COUNCIL_MEETING, actor, args, key, commands.created_id
        )
        return await _meeting_answer(info, made)

    @strawberry.mutation(description="Invitees: say whether I (or my unit) will come; the organiser is told.")
    async def reply_to_invitation(
        self, info: Info, invitation_id: strawberry.ID, reply: Reply
    ) -> CouncilInvitation:
        actor = info.context.require_actor()
        parsed = parse_id("invitationId", invitation_id)
        args = {"invitation_id": str(parsed), "reply": reply.value}
        await commands.perform(
            info, contracts.SERVICE, council.REPLY_TO_INVITATION, actor, args, commands.derived_key(args)
        )
        async with info.context.pool.acquire() as conn:
            row = await repo.get_invitation(conn, parsed)
            assert row is not None
            return (await _invitations(conn, [row]))[0]

    @strawberry.mutation(
        description="Organisers: the minutes and each decision (owner, deadline, cost and its split, "
        "an optional show of hands); a split that does not add up is refused and nothing is saved."
    )
    async def record_minutes(self, info: Info, input: RecordMinutesInput) -> CouncilMeeting:
        actor = info.context.require_actor()
        meeting_id = parse_id("meetingId", input.meeting_id)
        if not input.decisions:
            raise bad_input("decisions", "请至少记录一项决定", "Record at least one decision")
        decisions = [
            {
                "concern_id": str(parse_id("concernId", d.concern_id)),
                "decision": d.decision,
                "owner_name": d.owner_name,
                "owner_person_id": str(d.owner_person_id) if d.owner_person_id else None,
                "owner_partner_id": str(parse_id("ownerPartnerId", d.owner_partner_id))
                if d.owner_partner_id
                else None,
                "supervisor_id": str(d.supervisor_id) if d.supervisor_id else None,
                "supervisor_name": d.supervisor_name,
                "deadline": d.deadline.isoformat(),
                "cost_total_fen": d.cost_total_fen,
                "shares": [{"party": s.party, "fen": s.fen} for s in d.shares],
                "hands": [{"household": h.household, "vote": h.vote.value} for h in d.hands],
            }
            for d in input.decisions
        ]
        args = {"meeting_id": str(meeting_id), "minutes": input.minutes, "decisions": decisions}
        await commands.perform(
            info, contracts.SERVICE, council.RECORD_MINUTES, actor, args, commands.derived_key(args)
        )
        return await _meeting_answer(info, str(meeting_id))

    @strawberry.mutation(description="The task's owner or staff: a progress note; the first starts the work.")
    async def note_task_progress(self, info: Info, input: TaskProgressInput) -> CouncilTask:
        actor = info.context.require_actor()
        key = check_key(input.idempotency_key)
        task_id = parse_id("taskId", input.task_id)
        args = {
            "id": str(contracts.id_for("task-note", actor.user_id, key)),
            "task_id": str(task_id),
            "note": input.note,
            "photo_url": input.photo_url,
        }
        await commands.perform(info, contracts.SERVICE, council.NOTE_TASK_PROGRESS, actor, args, key)
        return await _task_answer(info, str(task_id))

    @strawberry.mutation(description="The task's owner or staff: the work is done, with a note.")
    async def complete_task(self, info: Info, task_id: strawberry.ID, note: str) -> CouncilTask:
        actor = info.context.require_actor()
        parsed = parse_id("taskId", task_id)
        args = {"task_id": str(parsed), "note": note}
        await commands.perform(
            info, contracts.SERVICE, council.COMPLETE_TASK, actor, args, commands.derived_key(args)
        )
        return await _task_answer(info, str(parsed))

    @strawberry.mutation(description="Residents of the building: rate finished work, 1 to 5 stars.")
    async def rate_task(self, info: Info, input: RateTaskInput) -> CouncilTask:
        actor = info.context.require_actor()
        task_id = parse_id("taskId", input.task_id)
        try:
            resident_id = uuid.UUID(actor.user_id)
        except ValueError:
            resident_id = None
        resident = None
        if resident_id is not None:
            async with info.context.pool.acquire() as conn:
                resident = await identity_queries.resident(conn, resident_id)
        args = {
            "task_id": str(task_id),
            "stars": input.stars,
            "comment": input.comment,
            "resident_community_id": resident["community_id"] if resident else None,
            "resident_building": resident["building"] if resident else "",
        }
        await commands.perform(
            info, contracts.SERVICE, council.RATE_TASK, actor, args, commands.derived_key(args)
        )
        return await _task_answer(info, str(task_id))

    @strawberry.mutation(description="Organisers: name a building's 楼栋长 (a resident, by mobile number).")
    async def set_building_leader(
        self, info: Info, community_id: str, building: str, phone: str
    ) -> CouncilInvitee:
        actor = info.context.require_actor()
        row = await directory(info).set_building_leader(
            actor, community_id, building, phone, info.context.client_ip
        )
        async with info.context.pool.acquire() as conn:
            resident = await identity_queries.resident(conn, row["resident_id"])
        return CouncilInvitee(
            role=InviteeRole.BUILDING_LEADER,
            role_words=council.ROLE_WORDS[InviteeRole.BUILDING_LEADER][0],
            name=(resident["name"] if resident else "") or "楼栋长",
            person_id=strawberry.ID(str(row["resident_id"])),
            partner_id=None,
            building=row["building"],
        )
