"""The activities part of the GraphQL API: festivals, activities, sessions and sign-ups."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import Enum
from typing import Any

import asyncpg
import strawberry

from services.activities import contracts, domain, queries
from services.common.actor import RESIDENT
from services.common.errors import Refusal, bad_input, forbidden
from services.gateway.context import Info


def parse_id(field: str, value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise bad_input(field, "编号格式不正确", "Malformed id") from exc


def check_key(key: str) -> str:
    if not 8 <= len(key) <= 128:
        raise bad_input("idempotencyKey", "幂等键须为8到128个字符", "Idempotency keys are 8 to 128 chars")
    return key


def still_processing() -> Refusal:
    return Refusal(
        "STILL_PROCESSING",
        "请求仍在处理中，请稍后使用相同的幂等键重试",
        "Still being processed; retry later with the same idempotency key",
    )


@strawberry.enum
class SignupStatus(Enum):
    CONFIRMED = "CONFIRMED"
    WAITLISTED = "WAITLISTED"
    CANCELLED = "CANCELLED"
    PENDING = "PENDING"


@strawberry.enum
class SessionStatus(Enum):
    SCHEDULED = "SCHEDULED"
    CANCELLED = "CANCELLED"


@strawberry.type
class Session:
    id: strawberry.ID
    activity_id: strawberry.ID
    community_id: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    seats_taken: int
    seats_left: int
    waitlist_length: int
    status: SessionStatus
    cancel_reason: str | None = strawberry.field(
        default=None, description="Why the organisers called the session off."
    )

    @classmethod
    def from_row(cls, row: asyncpg.Record | dict[str, Any]) -> Session:
        return cls(
            id=strawberry.ID(str(row["id"])),
            activity_id=strawberry.ID(str(row["activity_id"])),
            community_id=row["community_id"],
            venue=row["venue"],
            starts_at=_dt(row["starts_at"]),
            ends_at=_dt(row["ends_at"]),
            capacity=row["capacity"],
            seats_taken=row["taken"],
            seats_left=row["capacity"] - row["taken"],
            waitlist_length=row.get("waitlist_length") or 0,
            status=SessionStatus(row["status"]),
            cancel_reason=row.get("cancel_reason"),
        )


@strawberry.type
class Activity:
    id: strawberry.ID
    festival_id: strawberry.ID
    community_id: str
    title: str
    category: str
    description: str

    @strawberry.field
    async def sessions(self, info: Info) -> list[Session]:
        async with info.context.pool.acquire() as conn:
            rows = await queries.sessions_of(conn, uuid.UUID(self.id))
        return [Session.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: asyncpg.Record | dict[str, Any]) -> Activity:
        return cls(
            id=strawberry.ID(str(row["id"])),
            festival_id=strawberry.ID(str(row["festival_id"])),
            community_id=row["community_id"],
            title=row["title"],
            category=row["category"],
            description=row["description"],
        )


@strawberry.type
class Festival:
    id: strawberry.ID
    name: str
    community_ids: list[str]
    starts_on: date
    ends_on: date

    @strawberry.field
    async def activities(self, info: Info) -> list[Activity]:
        async with info.context.pool.acquire() as conn:
            rows = await queries.activities_of(conn, uuid.UUID(self.id))
        return [Activity.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: asyncpg.Record | dict[str, Any]) -> Festival:
        return cls(
            id=strawberry.ID(str(row["id"])),
            name=row["name"],
            community_ids=list(row["community_ids"]),
            starts_on=_date(row["starts_on"]),
            ends_on=_date(row["ends_on"]),
        )


@strawberry.type
class Signup:
    id: strawberry.ID
    session_id: strawberry.ID
    status: SignupStatus
    party_size: int
    waitlist_position: int | None = None

    @strawberry.field
    async def session(self, info: Info) -> Session | None:
        async with info.context.pool.acquire() as conn:
            row = await queries.session(conn, uuid.UUID(self.session_id))
        return Session.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: asyncpg.Record | dict[str, Any]) -> Signup:
        return cls(
            id=strawberry.ID(str(row["id"])),
            session_id=strawberry.ID(str(row["session_id"])),
            status=SignupStatus(row["status"]),
            party_size=row["party_size"],
            waitlist_position=row.get("waitlist_position"),
        )


def _dt(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


@strawberry.input
class CreateFestivalInput:
    name: str
    community_ids: list[str]
    starts_on: date
    ends_on: date
    idempotency_key: str | None = None


@strawberry.input
class CreateActivityInput:
    festival_id: strawberry.ID
    community_id: str
    title: str
    category: str = ""
    description: str = ""
    idempotency_key: str | None = None


@strawberry.input
class ScheduleSessionInput:
    activity_id: strawberry.ID
    venue: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    idempotency_key: str | None = None


@strawberry.input
class SignUpInput:
    session_id: strawberry.ID
    idempotency_key: str
    party_size: int = 1


@strawberry.input
class CancelSignupInput:
    signup_id: strawberry.ID
    idempotency_key: str


@strawberry.input
class CancelSessionInput:
    session_id: strawberry.ID
    reason: str
    idempotency_key: str


@strawberry.type
class ActivitiesQuery:
    @strawberry.field(description="All festivals, earliest first.")
    async def festivals(self, info: Info) -> list[Festival]:
        async with info.context.pool.acquire() as conn:
            rows = await queries.festivals(conn)
        return [Festival.from_row(row) for row in rows]

    @strawberry.field
    async def festival(self, info: Info, id: strawberry.ID) -> Festival | None:
        async with info.context.pool.acquire() as conn:
            row = await queries.festival(conn, parse_id("id", id))
        return Festival.from_row(row) if row else None

    @strawberry.field
    async def session(self, info: Info, id: strawberry.ID) -> Session | None:
        async with info.context.pool.acquire() as conn:
            row = await queries.session(conn, parse_id("id", id))
        return Session.from_row(row) if row else None

    @strawberry.field(description="One of my sign-ups; PENDING while its command is in flight.")
    async def signup(self, info: Info, id: strawberry.ID) -> Signup | None:
        actor = info.context.require_actor()
        async with info.context.pool.acquire() as conn:
            row = await queries.signup(conn, parse_id("id", id))
        if row is None:
            return None
        if row["resident_id"] != actor.user_id:
            raise forbidden()
        return Signup.from_row(row)

    @strawberry.field
    async def my_signups(self, info: Info) -> list[Signup]:
        actor = info.context.require_actor()
        async with info.context.pool.acquire() as conn:
            rows = await queries.signups_of_resident(conn, actor.user_id)
        return [Signup.from_row(row) for row in rows]


async def _create(info: Info, name: str, kind: str, key: str | None, args: dict[str, Any]) -> Any:
    """Send an organiser's create command; its id follows from the key, so retries are safe."""
    actor = info.context.require_actor()
    key = check_key(key) if key else uuid.uuid4().hex
    args = {"id": str(contracts.id_for(kind, actor.user_id, key)), **args}
    reply = await info.context.bus.send(contracts.SERVICE, name, actor, args, key=f"{kind}:{key}")
    if reply is None:
        raise still_processing()
    return reply.unwrap()


@strawberry.type
class ActivitiesMutation:
    @strawberry.mutation
    async def create_festival(self, info: Info, input: CreateFestivalInput) -> Festival:
        actor = info.context.require_actor()
        if not input.community_ids or not all(actor.may_organise(c) for c in input.community_ids):
            raise forbidden()
        args = {
            "name": input.name,
            "community_ids": input.community_ids,
            "starts_on": input.starts_on.isoformat(),
            "ends_on": input.ends_on.isoformat(),
        }
        key = input.idempotency_key
        return Festival.from_row(await _create(info, contracts.CREATE_FESTIVAL, "festival", key, args))

    @strawberry.mutation
    async def create_activity(self, info: Info, input: CreateActivityInput) -> Activity:
        actor = info.context.require_actor()
        if not actor.may_organise(input.community_id):
            raise forbidden()
        args = {
            "festival_id": str(parse_id("festivalId", input.festival_id)),
            "community_id": input.community_id,
            "title": input.title,
            "category": input.category,
            "description": input.description,
        }
        key = input.idempotency_key
        return Activity.from_row(await _create(info, contracts.CREATE_ACTIVITY, "activity", key, args))

    @strawberry.mutation
    async def schedule_session(self, info: Info, input: ScheduleSessionInput) -> Session:
        args = {
            "activity_id": str(parse_id("activityId", input.activity_id)),
            "venue": input.venue,
            "starts_at": input.starts_at.isoformat(),
            "ends_at": input.ends_at.isoformat(),
            "capacity": input.capacity,
        }
        key = input.idempotency_key
        row = await _create(info, contracts.SCHEDULE_SESSION, "session", key, args)
        return Session.from_row(row)

    @strawberry.mutation(description="Sign up for a session; retry with the same key is safe.")
    async def sign_up(self, info: Info, input: SignUpInput) -> Signup:
        actor = info.context.require_role(RESIDENT)
        key = check_key(input.idempotency_key)
        session_id = parse_id("sessionId", input.session_id)
        signup_id = contracts.id_for("signup", actor.user_id, key)
        args = {
            "id": str(signup_id),
            "session_id": str(session_id),
            "party_size": input.party_size,
            "key": key,
        }
        reply = await info.context.bus.send(
            contracts.SERVICE, contracts.SIGN_UP, actor, args, key=f"signup:{actor.user_id}:{key}"
        )
        if reply is None:
            return Signup(
                id=strawberry.ID(str(signup_id)),
                session_id=strawberry.ID(str(session_id)),
                status=SignupStatus.PENDING,
                party_size=input.party_size,
            )
        row = reply.unwrap()
        if row["status"] == SignupStatus.WAITLISTED.value and row.get("waitlist_position") is None:
            # A repeated request: its answer was stored without the position, which may have moved.
            async with info.context.pool.acquire() as conn:
                fresh = await queries.signup(conn, signup_id)
            if fresh is not None:
                return Signup.from_row(fresh)
        return Signup.from_row(row)

    @strawberry.mutation(description="Withdraw my sign-up; freed seats go to the waitlist at once.")
    async def cancel_signup(self, info: Info, input: CancelSignupInput) -> Signup:
        actor = info.context.require_actor()
        key = check_key(input.idempotency_key)
        signup_id = parse_id("signupId", input.signup_id)
        async with info.context.pool.acquire() as conn:
            row = await queries.signup(conn, signup_id)
        if row is None:
            raise domain.unknown_signup()
        if row["resident_id"] != actor.user_id:
            raise forbidden()
        args = {"signup_id": str(signup_id), "key": key}
        reply = await info.context.bus.send(
            contracts.SERVICE,
            contracts.CANCEL_SIGNUP,
            actor,
            args,
            key=f"cancel-signup:{actor.user_id}:{key}",
        )
        if reply is None:
            raise still_processing()
        return Signup.from_row(reply.unwrap())

    @strawberry.mutation(description="Call a session off (organisers of its community).")
    async def cancel_session(self, info: Info, input: CancelSessionInput) -> Session:
        actor = info.context.require_actor()
        key = check_key(input.idempotency_key)
        session_id = parse_id("sessionId", input.session_id)
        reason = domain.check_reason(input.reason)
        async with info.context.pool.acquire() as conn:
            row = await queries.session(conn, session_id)
        if row is None:
            raise domain.unknown_session()
        if not actor.may_organise(row["community_id"]):
            raise forbidden()
        args = {"session_id": str(session_id), "reason": reason, "key": key}
        reply = await info.context.bus.send(
            contracts.SERVICE,
            contracts.CANCEL_SESSION,
            actor,
            args,
            key=f"cancel-session:{actor.user_id}:{key}",
        )
        if reply is None:
            raise still_processing()
        return Session.from_row(reply.unwrap())
