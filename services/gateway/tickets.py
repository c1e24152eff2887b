"""Tickets, rosters and live counts in the GraphQL API: a resident's ticket QR, the door's
check-in, organisers' rosters and no-shows (names and phones masked), and the
``sessionCounts`` subscription (graphql-ws on ``/graphql``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import strawberry
from graphql import GraphQLError

from services.activities import attendance, contracts, domain, queries, signed_tickets, ticket_keys, tickets
from services.common.actor import RESIDENT, Actor
from services.common.clock import now
from services.common.db import Connection
from services.common.errors import Refusal, bad_input, forbidden
from services.common.masking import mask_name, mask_phone
from services.common.paging import DEFAULT_LIMIT, after_uuid, checked_limit
from services.common.replies import as_list
from services.common.signed_codes import render
from services.gateway import commands
from services.gateway.activities import Session, SessionStatus, SignupStatus
from services.gateway.context import Info
from services.gateway.inputs import parse_id
from services.gateway.marks import Secret
from services.gateway.paging import After, Limit
from services.gateway.ticket_sheet import TicketSheet, ticket_sheet
from services.identity import queries as identity_queries

MAX_CODE_LENGTH = 200


@dataclass(frozen=True)
class MaskedPerson:
    """A resident as organisers see them: the name masked (or, with no name on file, the user
    id masked) and the phone masked; no phone when the resident has no profile."""

    label: str
    phone: str | None


async def masked_people(conn: Connection, resident_ids: Iterable[str]) -> dict[str, MaskedPerson]:
    people: dict[str, MaskedPerson] = {}
    for resident_id in dict.fromkeys(resident_ids):
        profile = None
        try:
            profile = await identity_queries.resident(conn, uuid.UUID(resident_id))
        except ValueError:
            pass  # not an identity account id (e.g. a staff account): no profile to show
        name = profile["name"].strip() if profile else ""
        people[resident_id] = MaskedPerson(
            label=mask_name(name) if name else mask_phone(resident_id),
            # a resident without a mobile has their landline or family phone, or none
            phone=mask_phone(number)
            if profile and (number := profile["phone"] or profile["contact_phone"])
            else None,
        )
    return people


@dataclass(frozen=True)
class NamedPerson:
    """A resident as their own community's staff see them on a roster or at the door: the full
    name (or 未填姓名 with none on file) and the phone masked."""

    name: str
    phone: str | None
    phone_tail: str | None = None  # the last four digits, which the door finds people by


NO_NAME = "未填姓名"


async def named_people(conn: Connection, resident_ids: Iterable[str]) -> dict[str, NamedPerson]:
    ids: dict[str, uuid.UUID | None] = {}
    for resident_id in dict.fromkeys(resident_ids):
        try:
            ids[resident_id] = uuid.UUID(resident_id)
        except ValueError:
            ids[resident_id] = None  # not an identity account id (e.g. a staff account)
    profiles = await identity_queries.residents(conn, [i for i in ids.values() if i is not None])
    people: dict[str, NamedPerson] = {}
    for resident_id, key in ids.items():
        profile = profiles.get(key) if key else None
        name = profile["name"].strip() if profile else ""
        phone = profile["phone"] if profile else None  # none for a deleted account
        people[resident_id] = NamedPerson(
            name=name or NO_NAME,
            phone=mask_phone(phone) if phone else None,
            phone_tail=phone[-4:] if phone else None,
        )
    return people


def party_of(person: NamedPerson, party_size: int, attendees: str | list[dict[str, str]] | None) -> list[str]:
    """Who a sign-up brings, by name (see ``tickets.party_names``)."""
    members = [str(a["name"]) for a in as_list(attendees)]
    return tickets.party_names("" if person.name == NO_NAME else person.name, party_size, members)


@strawberry.type
class Ticket:
    """My ticket for a confirmed sign-up: show the QR code at the door."""

    signup_id: strawberry.ID
    session_id: strawberry.ID
    party_size: int
    code: str
    png_data_url: str
    svg: str

    @strawberry.field
    async def session(self, info: Info) -> Session | None:
        async with info.context.pool.acquire() as conn:
            row = await queries.session(conn, uuid.UUID(self.session_id))
        return Session.of(contracts.Session.of(row)) if row else None

    @strawberry.field(description="What the printed ticket says: activity, day, time, venue, names…")
    async def sheet(self, info: Info) -> TicketSheet:
        async with info.context.pool.acquire() as conn:
            row = await queries.signup(conn, uuid.UUID(self.signup_id))
            if row is None:
                raise domain.unknown_signup()
            return await ticket_sheet(conn, info.context.resources.settings.secret, row)


@strawberry.type
class TicketCheckIn:
    """Who the door just let in."""

    signup_id: strawberry.ID
    session_id: strawberry.ID
    party_size: int
    checked_in_at: datetime
    resident: str = strawberry.field(description="Masked name, or masked user id without a profile.")
    people: int = strawberry.field(default=0, description="How many of the party this scan let in.")
    admitted: int = strawberry.field(default=0, description="How many of the party are in so far.")
    party_names: list[str] = strawberry.field(
        default_factory=list, description="Who the ticket admits, by name (the resident first)."
    )


@strawberry.type
class SessionRosterEntry:
    signup_id: strawberry.ID
    resident: str = strawberry.field(
        description="Full name (rosters are for the community's own organisers); 未填姓名 without one."
    )
    phone: str | None = strawberry.field(description="Masked phone; null without a profile.")
    status: SignupStatus
    party_size: int
    checked_in: bool
    checked_in_at: datetime | None
    party_names: list[str] = strawberry.field(
        default_factory=list,
        description="Who comes, by name: the resident if they come, then household.",
    )
    admitted: int = strawberry.field(default=0, description="How many of the party are in so far.")


@strawberry.type
class NoShowCount:
    resident: str = strawberry.field(description="Masked name, or masked user id without a profile.")
    phone: str | None
    no_shows: int = strawberry.field(
        description="Confirmed sign-ups of sessions that have ended without a check-in."
    )
    last_missed_at: datetime


@strawberry.type
class SessionCounts:
    session_id: strawberry.ID
    capacity: int
    seats_taken: int
    seats_left: int
    waitlist_length: int
    status: SessionStatus

    @classmethod
    def of(cls, session_id: Any, capacity: int, taken: int, waiting: int, status: str) -> SessionCounts:
        return cls(
            session_id=strawberry.ID(str(session_id)),
            capacity=capacity,
            seats_taken=taken,
            seats_left=capacity - taken,
            waitlist_length=waiting,
            status=SessionStatus(status),
        )


@strawberry.input
class CheckInTicketInput:
    code: str = strawberry.field(
        description="The text of the ticket's QR code, as scanned.", directives=[Secret()]
    )
    session_id: strawberry.ID = strawberry.field(description="The session the door is admitting to.")
    idempotency_key: str | None = None
    people: int | None = strawberry.field(
        default=None, description="How many of the party come in now; all still to come when omitted."
    )


async def session_roster(
    pool: asyncpg.Pool,
    actor: Actor,
    session_id: uuid.UUID,
    limit: int | None = None,
    after: uuid.UUID | None = None,
) -> tuple[asyncpg.Record, list[SessionRosterEntry]]:
    """The session and a page of its roster, for organisers of its community (all of it for
    the CSV export, when ``limit`` is None)."""
    async with pool.acquire() as conn:
        session = await queries.session(conn, session_id)
        if session is None:
            raise domain.unknown_session()
        if not actor.may_organise(session["community_id"]):
            raise forbidden()
        rows = await attendance.roster(conn, session_id, limit, after)
        people = await named_people(conn, [row["resident_id"] for row in rows])
    return session, [
        SessionRosterEntry(
            signup_id=strawberry.ID(str(row["signup_id"])),
            resident=people[row["resident_id"]].name,
            phone=people[row["resident_id"]].phone,
            status=SignupStatus(row["status"]),
            party_size=row["party_size"],
            checked_in=row["checked_in_at"] is not None,
            checked_in_at=row["checked_in_at"],
            party_names=party_of(people[row["resident_id"]], row["party_size"], row["attendees"]),
            admitted=row["admitted"],
        )
        for row in rows
    ]


def may_see(actor: Actor | None, session: asyncpg.Record) -> bool:
    """A draft festival's sessions are seen only by its communities' organisers, as everywhere
    in the API; ``session`` carries ``published`` and ``festival_communities``."""
    if session["published"]:
        return True
    return actor is not None and any(actor.may_organise(c) for c in session["festival_communities"])


def coded(refusal: Refusal) -> GraphQLError:
    """A refusal as subscriptions report it: the same ``extensions.code`` as queries get."""
    extensions: dict[str, Any] = {"code": refusal.code, "messageZh": refusal.zh, "messageEn": refusal.en}
    return GraphQLError(f"{refusal.zh} / {refusal.en}", extensions=extensions)


@strawberry.type
class TicketsQuery:
    @strawberry.field(description="My ticket (QR code) for one of my confirmed sign-ups.")
    async def ticket(self, info: Info, signup_id: strawberry.ID) -> Ticket:
        actor = info.context.require_role(RESIDENT)
        async with info.context.pool.acquire() as conn:
            row = await queries.signup(conn, parse_id("signupId", signup_id))
            if row is None:
                raise domain.unknown_signup()
            if row["resident_id"] != actor.user_id:
                raise forbidden()
            if row["status"] != domain.SignupStatus.CONFIRMED:
                raise tickets.not_confirmed()
            code = await ticket_keys.ticket_code(conn, info.context.resources.settings.secret, row["id"])
        rendered = render(code)
        return Ticket(
            signup_id=strawberry.ID(str(row["id"])),
            session_id=strawberry.ID(str(row["session_id"])),
            party_size=row["party_size"],
            code=rendered.text,
            png_data_url=rendered.png_data_url,
            svg=rendered.svg,
        )

    @strawberry.field(
        description="Organisers: who is signed up for a session and who has arrived: confirmed in "
        "the order they signed up, then the waitlist; after = the last entry's signupId."
    )
    async def session_roster(
        self, info: Info, session_id: strawberry.ID, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[SessionRosterEntry]:
        actor = info.context.require_actor()
        session = parse_id("sessionId", session_id)
        _, entries = await session_roster(
            info.context.pool, actor, session, checked_limit(limit), after_uuid(after)
        )
        return entries

    @strawberry.field(
        description="Organisers: the residents of the community who most often held seats and never "
        "came (the first limit of them; a count to follow up, not a list to page through: it names "
        "nobody by id)."
    )
    async def no_shows(
        self, info: Info, community_id: str, limit: Limit = DEFAULT_LIMIT
    ) -> list[NoShowCount]:
        actor = info.context.require_actor()
        if not actor.may_organise(community_id):
            raise forbidden()
        limit = checked_limit(limit)
        async with info.context.pool.acquire() as conn:
            rows = await attendance.no_shows(conn, community_id, now(), limit)
            people = await masked_people(conn, [row["resident_id"] for row in rows])
        return [
            NoShowCount(
                resident=people[row["resident_id"]].label,
                phone=people[row["resident_id"]].phone,
                no_shows=row["no_shows"],
                last_missed_at=row["last_missed_at"],
            )
            for row in rows
        ]


@strawberry.type
class TicketsMutation:
    @strawberry.mutation(
        description="Scanners and organisers: admit a ticket's party (or part of it) to a session, once."
    )
    async def check_in_ticket(self, info: Info, input: CheckInTicketInput) -> TicketCheckIn:
        actor = info.context.require_actor()
        code = input.code.strip()
        if not code or len(code) > MAX_CODE_LENGTH:
            raise bad_input("code", "二维码内容无效", "The scanned code is empty or too long")
        session_id = parse_id("sessionId", input.session_id)
        return await send_check_in(info, actor, session_id, input.idempotency_key, input.people, code=code)


async def send_check_in(
    info: Info,
    actor: Actor,
    session_id: uuid.UUID,
    idempotency_key: str | None,
    people: int | None,
    *,
    code: str | None = None,
    signup_id: uuid.UUID | None = None,
) -> TicketCheckIn:
    """Ask the activities worker to let a party (or ``people`` of it) in, by ticket code or sign-up."""
    args: dict[str, Any] = {
        "session_id": str(session_id),
        "people": None if people is None else domain.check_party_size(people, "people"),
    }
    if signup_id is not None:
        args["signup_id"] = str(signup_id)
    else:
        args["code"] = code
    # Without the client's key, a second scan of the same ticket for the same people is the
    # same admission; a party let in part by part has a row per part, so its progress is the state.
    key = commands.command_key(idempotency_key, args, await _admitted_so_far(info, args))
    args["id"] = str(contracts.id_for("ticket-check-in", actor.user_id, key))
    admission = await commands.answer(
        info, contracts.SERVICE, contracts.CHECK_IN_TICKET, actor, args, key, contracts.TicketCheckIn.of
    )
    async with info.context.pool.acquire() as conn:
        masked = await masked_people(conn, [admission.resident_id])
        named = await named_people(conn, [admission.resident_id])
        signup = await queries.signup(conn, uuid.UUID(admission.signup_id))
    person = named[admission.resident_id]
    return TicketCheckIn(
        signup_id=strawberry.ID(admission.signup_id),
        session_id=strawberry.ID(admission.session_id),
        party_size=admission.party_size,
        checked_in_at=admission.checked_in_at,
        resident=masked[admission.resident_id].label,
        people=admission.people,
        admitted=admission.admitted,
        party_names=party_of(person, admission.party_size, signup["attendees"] if signup else None),
    )


async def _admitted_so_far(info: Info, args: dict[str, Any]) -> int:
    """How many of the ticket's party are in already: the state an admission changes."""
    if "signup_id" in args:
        signup_id = uuid.UUID(args["signup_id"])
    elif signed_tickets.version_of(args["code"]) == signed_tickets.VERSION:
        # The sign-up the ticket claims; the worker checks its signature before letting anyone in.
        signup_id = signed_tickets.parse(args["code"])[0].signup_id
    else:
        signup_id = tickets.read(info.context.resources.settings.secret, args["code"])
    async with info.context.pool.acquire() as conn:
        return await queries.admitted(conn, signup_id)


@strawberry.type
class TicketsSubscription:
    @strawberry.subscription(
        description="A session's seats left and waitlist length now, then again whenever they change."
    )
    async def session_counts(
        self, info: Info, session_id: strawberry.ID
    ) -> AsyncGenerator[SessionCounts, None]:
        try:
            wanted = parse_id("sessionId", session_id)
        except Refusal as refusal:
            raise coded(refusal) from refusal
        resources = info.context.resources
        channel = contracts.counts_channel(resources.settings.namespace, str(wanted))
        try:
            # Listen before reading, so no change between the read and the first message is lost.
            async with resources.live.listen(channel) as queue:
                async with resources.pool.acquire() as conn:
                    rows = await attendance.seat_counts(conn, [wanted])
                if not rows or not may_see(info.context.actor, rows[0]):
                    raise coded(domain.unknown_session())
                row = rows[0]
                current = SessionCounts.of(
                    row["id"], row["capacity"], row["taken"], row["waitlist_length"], row["status"]
                )
                as_of = row["as_of"]
                yield current
                while True:
                    data = json.loads(await queue.get())
                    read_at = datetime.fromisoformat(data["as_of"])
                    if read_at <= as_of:  # overtaken by what we already sent
                        continue
                    counts = SessionCounts.of(
                        data["session_id"],
                        data["capacity"],
                        data["taken"],
                        data["waitlist_length"],
                        data["status"],
                    )
                    as_of = read_at
                    if counts != current:
                        current = counts
                        yield counts
        except Refusal as refusal:  # too many listeners
            raise coded(refusal) from refusal
