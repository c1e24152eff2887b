"""The activities part of the GraphQL API: festivals, activities, sessions and sign-ups."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

import asyncpg
import strawberry

from services.activities import contracts, domain, queries
from services.common import clock
from services.common.actor import PLATFORM_ADMIN, RESIDENT, Actor
from services.common.commands import Reply
from services.common.errors import bad_input, forbidden
from services.common.paging import DEFAULT_LIMIT, after_uuid, checked_limit
from services.common.replies import Row
from services.common.rules import check_count, check_new_span
from services.gateway import commands, loaders
from services.gateway.context import Info
from services.gateway.inputs import (
    check_key,
    parse_id,
)
from services.gateway.names import community_name, community_names_of
from services.gateway.paging import After, Limit
from services.identity import queries as identity_queries
from services.identity.domain import AgeBand

T = TypeVar("T")


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


strawberry.enum(domain.VenueKind, name="VenueKind", description="邻里驿家 station, square or room.")


@strawberry.type
class Venue:
    id: strawberry.ID
    community_id: str
    name: str
    kind: domain.VenueKind
    capacity: int
    address: str = strawberry.field(default="", description="Where it is, as printed on tickets.")

    @strawberry.field(description="The community's name, e.g. 朔方社区.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)

    @classmethod
    def of(cls, venue: contracts.Venue) -> Venue:
        return cls(
            id=strawberry.ID(venue.id),
            community_id=venue.community_id,
            name=venue.name,
            kind=domain.VenueKind(venue.kind),
            capacity=venue.capacity,
            address=venue.address,
        )


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
    venue_id: strawberry.ID | None = strawberry.field(
        default=None, description="The booked venue; none for a session with a free-text venue."
    )
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    max_party_size: int = domain.MAX_PARTY_SIZE
    cancellation_deadline: datetime | None = None
    rescheduled_at: datetime | None = strawberry.field(
        default=None, description="When it last moved; those signed up then may cancel at any time."
    )

    @strawberry.field(description="The community's name, e.g. 朔方社区.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)

    @classmethod
    def of(cls, session: contracts.Session) -> Session:
        return cls(
            id=strawberry.ID(session.id),
            activity_id=strawberry.ID(session.activity_id),
            community_id=session.community_id,
            venue=session.venue,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            capacity=session.capacity,
            seats_taken=session.taken,
            seats_left=session.capacity - session.taken,
            waitlist_length=session.waitlist_length,
            status=SessionStatus(session.status),
            cancel_reason=session.cancel_reason,
            venue_id=strawberry.ID(session.venue_id) if session.venue_id else None,
            registration_opens_at=session.registration_opens_at,
            registration_closes_at=session.registration_closes_at,
            max_party_size=session.max_party_size or domain.MAX_PARTY_SIZE,
            cancellation_deadline=session.cancellation_deadline,
            rescheduled_at=session.rescheduled_at,
        )


@strawberry.type
class Activity:
    id: strawberry.ID
    festival_id: strawberry.ID
    community_id: str
    title: str
    category: str
    description: str
    age_bands: list[AgeBand] = strawberry.field(description="Who it suits; empty means everyone.")
    children_need_adult: bool = False

    @strawberry.field(description="A page of its sessions, earliest first.")
    async def sessions(self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None) -> list[Session]:
        loader = loaders.child_pages(info, queries.sessions_of, "activity_id")
        rows = await loader.load((uuid.UUID(self.id), checked_limit(limit), after_uuid(after)))
        return [Session.of(contracts.Session.of(row)) for row in rows]

    @strawberry.field(description="The community's name, e.g. 朔方社区.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)

    @classmethod
    def of(cls, activity: contracts.Activity) -> Activity:
        return cls(
            id=strawberry.ID(activity.id),
            festival_id=strawberry.ID(activity.festival_id),
            community_id=activity.community_id,
            title=activity.title,
            category=activity.category,
            description=activity.description,
            age_bands=[AgeBand(band) for band in activity.age_bands],
            children_need_adult=activity.children_need_adult,
        )


@strawberry.type
class Festival:
    id: strawberry.ID
    name: str
    community_ids: list[str]
    starts_on: date
    ends_on: date
    published: bool = True
    max_sessions_per_resident: int | None = None

    @strawberry.field(description="A page of its activities, oldest first.")
    async def activities(
        self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[Activity]:
        loader = loaders.child_pages(info, queries.activities_of, "festival_id")
        rows = await loader.load((uuid.UUID(self.id), checked_limit(limit), after_uuid(after)))
        return [Activity.of(contracts.Activity.of(row)) for row in rows]

    @strawberry.field(description="The communities' names, in the order of communityIds.")
    async def community_names(self, info: Info) -> list[str]:
        return await community_names_of(info, self.community_ids)

    @classmethod
    def of(cls, festival: contracts.Festival) -> Festival:
        return cls(
            id=strawberry.ID(festival.id),
            name=festival.name,
            community_ids=festival.community_ids,
            starts_on=festival.starts_on,
            ends_on=festival.ends_on,
            published=festival.published,
            max_sessions_per_resident=festival.max_sessions_per_resident,
        )


@strawberry.type(description="A household member coming along on a sign-up.")
class Attendee:
    id: strawberry.ID
    name: str
    age_band: AgeBand


@strawberry.type
class Signup:
    id: strawberry.ID
    session_id: strawberry.ID
    status: SignupStatus
    party_size: int
    waitlist_position: int | None = None
    attendees: list[Attendee] = strawberry.field(default_factory=list)
    free_cancellation: bool = strawberry.field(
        default=False, description="The session moved: this sign-up may be cancelled past the deadline."
    )

    @strawberry.field
    async def session(self, info: Info) -> Session | None:
        async with info.context.pool.acquire() as conn:
            row = await queries.session(conn, uuid.UUID(self.session_id))
        return Session.of(contracts.Session.of(row)) if row else None

    @classmethod
    def of(cls, signup: contracts.Signup) -> Signup:
        return cls(
            id=strawberry.ID(signup.id),
            session_id=strawberry.ID(signup.session_id),
            status=SignupStatus(signup.status),
            party_size=signup.party_size,
            waitlist_position=signup.waitlist_position,
            attendees=[
                Attendee(id=strawberry.ID(a.id), name=a.name, age_band=AgeBand(a.age_band))
                for a in signup.attendees
            ],
            free_cancellation=signup.free_cancellation,
        )


def _may_see(actor: Actor | None, festival: asyncpg.Record) -> bool:
    """Residents see published festivals; organisers also see their communities' drafts."""
    if festival["published"]:
        return True
    return actor is not None and any(actor.may_organise(c) for c in festival["community_ids"])


@strawberry.input
class CreateFestivalInput:
    name: str
    community_ids: list[str]
    starts_on: date
    ends_on: date
    idempotency_key: str | None = None
    published: bool = strawberry.field(
        default=True, description="False keeps it a draft only its organisers see until published."
    )
    max_sessions_per_resident: int | None = strawberry.field(
        default=None, description="How many of its sessions one resident may sign up for."
    )


@strawberry.input
class CreateVenueInput:
    community_id: str
    name: str
    kind: domain.VenueKind
    capacity: int
    idempotency_key: str | None = None
    address: str = strawberry.field(
        default="", description="e.g. 朔方路12号 社区服务中心一楼; printed on tickets."
    )


@strawberry.input
class CreateActivityInput:
    festival_id: strawberry.ID
    community_id: str
    title: str
    category: str = ""
    description: str = ""
    idempotency_key: str | None = None
    age_bands: list[AgeBand] = strawberry.field(default_factory=list)
    children_need_adult: bool = False


@strawberry.input
class ScheduleSessionInput:
    activity_id: strawberry.ID
    starts_at: datetime
    ends_at: datetime
    capacity: int
    venue_id: strawberry.ID | None = strawberry.field(
        default=None, description="A venue of the activity's community: checked for clashes and size."
    )
    venue: str | None = strawberry.field(
        default=None, description="A free-text place, checked against nothing (when no venueId)."
    )
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    max_party_size: int = domain.MAX_PARTY_SIZE
    cancellation_deadline: datetime | None = None
    idempotency_key: str | None = None


@strawberry.input
class SignUpInput:
    session_id: strawberry.ID
    idempotency_key: str
    party_size: int | None = strawberry.field(
        default=None, description="1 unless attendees are named (then 1 plus their number)."
    )
    attendee_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Household members who come along with me."
    )
    include_me: bool = strawberry.field(
        default=True, description="False when only the household members named attend."
    )


@strawberry.input
class ChangeSessionCapacityInput:
    session_id: strawberry.ID
    capacity: int
    idempotency_key: str


@strawberry.input
class MoveSessionInput:
    session_id: strawberry.ID
    idempotency_key: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    venue_id: strawberry.ID | None = None


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
    @strawberry.field(description="Published festivals, earliest first; organisers also see their drafts.")
    async def festivals(
        self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[Festival]:
        actor = info.context.actor
        organises = sorted(actor.communities) if actor and _organiser(actor) else []
        everything = actor is not None and PLATFORM_ADMIN in actor.roles
        async with info.context.pool.acquire() as conn:
            rows = await queries.festivals(
                conn, organises, everything, checked_limit(limit), after_uuid(after)
            )
        return [Festival.of(contracts.Festival.of(row)) for row in rows]

    @strawberry.field
    async def festival(self, info: Info, id: strawberry.ID) -> Festival | None:
        async with info.context.pool.acquire() as conn:
            row = await queries.festival(conn, parse_id("id", id))
        return Festival.of(contracts.Festival.of(row)) if row and _may_see(info.context.actor, row) else None

    @strawberry.field
    async def session(self, info: Info, id: strawberry.ID) -> Session | None:
        session_id = parse_id("id", id)
        async with info.context.pool.acquire() as conn:
            row = await queries.session(conn, session_id)
            festival = await queries.festival_of_session(conn, session_id) if row else None
        if row is None or festival is None or not _may_see(info.context.actor, festival):
            return None
        return Session.of(contracts.Session.of(row))

    @strawberry.field(description="The venues of a community, by name.")
    async def venues(
        self, info: Info, community_id: str, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[Venue]:
        async with info.context.pool.acquire() as conn:
            rows = await queries.venues(conn, community_id, checked_limit(limit), after_uuid(after))
        return [Venue.of(contracts.Venue.of(row)) for row in rows]

    @strawberry.field(description="One of my sign-ups; PENDING while its command is in flight.")
    async def signup(self, info: Info, id: strawberry.ID) -> Signup | None:
        actor = info.context.require_actor()
        async with info.context.pool.acquire() as conn:
            row = await queries.signup(conn, parse_id("id", id))
        if row is None:
            return None
        if row["resident_id"] != actor.user_id:
            raise forbidden()
        return Signup.of(contracts.Signup.of(row))

    @strawberry.field(description="My sign-ups, latest first.")
    async def my_signups(self, info: Info, limit: Limit = DEFAULT_LIMIT, after: After = None) -> list[Signup]:
        actor = info.context.require_actor()
        async with info.context.pool.acquire() as conn:
            rows = await queries.signups_of_resident(
                conn, actor.user_id, checked_limit(limit), after_uuid(after)
            )
        return [Signup.of(contracts.Signup.of(row)) for row in rows]


def _organiser(actor: Actor) -> bool:
    return any(actor.may_organise(c) for c in actor.communities)


async def household_attendees(info: Info, actor: Actor, ids: Sequence[str]) -> list[dict[str, str]]:
    """The named household members of the signing-up resident, from identity's records;
    anyone else named is refused."""
    if not ids:
        return []
    wanted = [parse_id("attendeeIds", i) for i in ids]
    try:
        resident_id = uuid.UUID(actor.user_id)
    except ValueError:
        raise domain.not_household_member() from None
    async with info.context.pool.acquire() as conn:
        members = {row["id"]: row for row in await identity_queries.household_of(conn, resident_id)}
    if any(member_id not in members for member_id in wanted):
        raise domain.not_household_member()
    return [{"id": str(m), "name": members[m]["name"], "age_band": members[m]["age_band"]} for m in wanted]


async def _organiser_command(
    info: Info, session_id: uuid.UUID, name: str, key: str, args: dict[str, Any]
) -> Session:
    """Send a command about an existing session on behalf of one of its community's organisers."""
    actor = info.context.require_actor()
    async with info.context.pool.acquire() as conn:
        row = await queries.session(conn, session_id)
    if row is None:
        raise domain.unknown_session()
    if not actor.may_organise(row["community_id"]):
        raise forbidden()
    key = check_key(key)
    # The worker records the change under this key, so running the command again (after a
    # worker crash) cannot undo a later change.
    args = {"session_id": str(session_id), "change_key": f"{actor.user_id}:{name}:{key}", **args}
    await commands.answer(info, contracts.SERVICE, name, actor, args, key, contracts.Session.of)
    async with info.context.pool.acquire() as conn:  # the read model, waitlist included
        fresh = await queries.session(conn, session_id)
    assert fresh is not None
    return Session.of(contracts.Session.of(fresh))


async def _create(
    info: Info, name: str, kind: str, client_key: str | None, args: dict[str, Any], reply: Callable[[Row], T]
) -> T:
    """Send an organiser's create command; its id follows from the key (the client's, else the
    arguments'), so a retry or a second click names the same thing."""
    actor = info.context.require_actor()
    key = commands.command_key(client_key, name, args)
    args = {"id": str(contracts.id_for(kind, actor.user_id, key)), **args}
    return await commands.answer(info, contracts.SERVICE, name, actor, args, key, reply)


@dataclass(frozen=True)
class SentSignUp:
    """A sign-up command sent, and what came back (None: still in flight)."""

    signup_id: uuid.UUID
    session_id: uuid.UUID
    party_size: int
    reply: Reply | None

    async def answer(self, info: Info) -> Signup:
        if self.reply is None:
            return Signup(
                id=strawberry.ID(str(self.signup_id)),
                session_id=strawberry.ID(str(self.session_id)),
                status=SignupStatus.PENDING,
                party_size=self.party_size,
            )
        signup = contracts.Signup.of(self.reply.unwrap())
        if signup.status == SignupStatus.WAITLISTED.value and signup.waitlist_position is None:
            # A repeated request: its answer was stored without the position, which may have moved.
            async with info.context.pool.acquire() as conn:
                fresh = await queries.signup(conn, self.signup_id)
            if fresh is not None:
                signup = contracts.Signup.of(fresh)
        return Signup.of(signup)


async def send_sign_up(
    info: Info,
    resident: Actor,
    session_id: uuid.UUID,
    key: str,
    attendee_ids: list[str],
    party_size: int,
    include_me: bool,
    on_behalf_of: str | None = None,
) -> SentSignUp:
    """Send the sign-up command for ``resident`` (themself, or by a grid worker on their behalf):
    the sign-up's id follows from the resident and the key, so a retry names the same one."""
    signup_id = contracts.id_for("signup", resident.user_id, key)
    args: dict[str, Any] = {
        "id": str(signup_id),
        "session_id": str(session_id),
        "party_size": party_size,
        "attendees": await household_attendees(info, resident, attendee_ids),
        "include_me": include_me,
        "key": key,
    }
    if on_behalf_of is not None:
        args["on_behalf_of"] = on_behalf_of
    reply = await commands.send(info, contracts.SERVICE, contracts.SIGN_UP, resident, args, key)
    return SentSignUp(signup_id, session_id, party_size, reply)


@strawberry.type
class ActivitiesMutation:
    @strawberry.mutation
    async def create_festival(self, info: Info, input: CreateFestivalInput) -> Festival:
        actor = info.context.require_actor()
        if not input.community_ids or not all(actor.may_organise(c) for c in input.community_ids):
            raise forbidden()
        # The domain's rules, at the door: nothing is sent that the worker would refuse.
        domain.check_festival(
            domain.FestivalPlan(
                input.name,
                tuple(input.community_ids),
                input.starts_on,
                input.ends_on,
                input.max_sessions_per_resident,
            ),
            today=clock.now().astimezone(clock.LOCAL_TZ).date(),
        )
        args = {
            "name": input.name,
            "community_ids": input.community_ids,
            "starts_on": input.starts_on.isoformat(),
            "ends_on": input.ends_on.isoformat(),
            "published": input.published,
            "max_sessions_per_resident": input.max_sessions_per_resident,
        }
        made = await _create(
            info, contracts.CREATE_FESTIVAL, "festival", input.idempotency_key, args, contracts.Festival.of
        )
        return Festival.of(made)

    @strawberry.mutation(description="Show a festival to residents (published) or hide it again.")
    async def set_festival_published(
        self, info: Info, festival_id: strawberry.ID, published: bool
    ) -> Festival:
        actor = info.context.require_actor()
        parsed = parse_id("festivalId", festival_id)
        async with info.context.pool.acquire() as conn:
            row = await queries.festival(conn, parsed)
        if row is None:
            raise domain.unknown_festival()
        if not all(actor.may_organise(c) for c in row["community_ids"]):
            raise forbidden()
        args = {"festival_id": str(parsed), "published": published}
        # Asked twice of the same festival as it stands (its version): done once.
        key = commands.derived_key(args, row["version"])
        answer = await commands.answer(
            info, contracts.SERVICE, contracts.PUBLISH_FESTIVAL, actor, args, key, contracts.Festival.of
        )
        return Festival.of(answer)

    @strawberry.mutation(description="A venue of a community (邻里驿家 station, square or room).")
    async def create_venue(self, info: Info, input: CreateVenueInput) -> Venue:
        actor = info.context.require_actor()
        if not actor.may_organise(input.community_id):
            raise forbidden()
        domain.check_venue(
            domain.VenuePlan(
                input.community_id,
                input.name,
                domain.VenueKind(input.kind.value),
                input.capacity,
                input.address,
            )
        )
        args = {
            "community_id": input.community_id,
            "name": input.name,
            "kind": input.kind.value,
            "capacity": input.capacity,
            "address": input.address,
        }
        made = await _create(
            info, contracts.CREATE_VENUE, "venue", input.idempotency_key, args, contracts.Venue.of
        )
        return Venue.of(made)

    @strawberry.mutation
    async def create_activity(self, info: Info, input: CreateActivityInput) -> Activity:
        actor = info.context.require_actor()
        if not actor.may_organise(input.community_id):
            raise forbidden()
        domain.check_activity(
            domain.ActivityPlan(input.title, input.category, input.description, (), input.children_need_adult)
        )
        args = {
            "festival_id": str(parse_id("festivalId", input.festival_id)),
            "community_id": input.community_id,
            "title": input.title,
            "category": input.category,
            "description": input.description,
            "age_bands": [band.value for band in input.age_bands],
            "children_need_adult": input.children_need_adult,
        }
        made = await _create(
            info, contracts.CREATE_ACTIVITY, "activity", input.idempotency_key, args, contracts.Activity.of
        )
        return Activity.of(made)

    @strawberry.mutation
    async def schedule_session(self, info: Info, input: ScheduleSessionInput) -> Session:
        if (input.venue_id is None) == (input.venue is None):
            raise bad_input("venueId", "请选择场地（或填写地点）", "Give either a venueId or a venue")
        domain.check_times(input.starts_at, input.ends_at)
        check_new_span(input.starts_at, input.ends_at, clock.now())
        check_count("capacity", input.capacity, zh="名额", en="Capacity")
        domain.check_max_party_size(input.max_party_size)
        args = {
            "activity_id": str(parse_id("activityId", input.activity_id)),
            "venue_id": str(parse_id("venueId", input.venue_id)) if input.venue_id else None,
            "venue": input.venue,
            "starts_at": input.starts_at.isoformat(),
            "ends_at": input.ends_at.isoformat(),
            "capacity": input.capacity,
            "registration_opens_at": _iso(input.registration_opens_at),
            "registration_closes_at": _iso(input.registration_closes_at),
            "max_party_size": input.max_party_size,
            "cancellation_deadline": _iso(input.cancellation_deadline),
        }
        made = await _create(
            info, contracts.SCHEDULE_SESSION, "session", input.idempotency_key, args, contracts.Session.of
        )
        return Session.of(made)

    @strawberry.mutation(description="Sign up for a session; retry with the same key is safe.")
    async def sign_up(self, info: Info, input: SignUpInput) -> Signup:
        actor = info.context.require_role(RESIDENT)
        key = check_key(input.idempotency_key)
        session_id = parse_id("sessionId", input.session_id)
        attendee_ids = [str(i) for i in input.attendee_ids]
        party_size = domain.party_with(attendee_ids, input.party_size, input.include_me)
        sent = await send_sign_up(info, actor, session_id, key, attendee_ids, party_size, input.include_me)
        return await sent.answer(info)

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
        answer = await commands.answer(
            info, contracts.SERVICE, contracts.CANCEL_SIGNUP, actor, args, key, contracts.Signup.of
        )
        return Signup.of(answer)

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
        answer = await commands.answer(
            info, contracts.SERVICE, contracts.CANCEL_SESSION, actor, args, key, contracts.Session.of
        )
        return Session.of(answer)

    @strawberry.mutation(description="More places (the waitlist moves up at once) or fewer.")
    async def change_session_capacity(self, info: Info, input: ChangeSessionCapacityInput) -> Session:
        session_id = parse_id("sessionId", input.session_id)
        check_count("capacity", input.capacity, zh="名额", en="Capacity")
        args = {"capacity": input.capacity}
        return await _organiser_command(
            info, session_id, contracts.CHANGE_SESSION_CAPACITY, input.idempotency_key, args
        )

    @strawberry.mutation(description="A new time and/or venue; everyone signed up or waiting is told.")
    async def move_session(self, info: Info, input: MoveSessionInput) -> Session:
        session_id = parse_id("sessionId", input.session_id)
        if input.starts_at is None and input.ends_at is None and input.venue_id is None:
            raise bad_input("startsAt", "请给出新的时间或场地", "Give a new time or venue")
        if input.starts_at is not None and input.ends_at is not None:
            domain.check_times(input.starts_at, input.ends_at)
            check_new_span(input.starts_at, input.ends_at, clock.now())
        args = {
            "starts_at": _iso(input.starts_at),
            "ends_at": _iso(input.ends_at),
            "venue_id": str(parse_id("venueId", input.venue_id)) if input.venue_id else None,
        }
        return await _organiser_command(info, session_id, contracts.MOVE_SESSION, input.idempotency_key, args)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
