"""People without a smartphone, and parties that shrink, in the GraphQL API.

- A grid worker (or the desk) sees a resident's sign-ups, cancels one they made at the desk, or
  takes one of its party off (``signupsFor``, ``cancelSignupFor``, ``cancelPartyMembersFor``),
  audited in identity's log like the proxy sign-up itself.
- A resident takes one of their own party off (``cancelPartyMembers``): the rest keep the
  sign-up and its ticket, and the freed seats go to the waitlist at once (activities worker).
- The grid workers' "要告知的居民" list (``toTell``, ``markTold``): what residents without a
  mobile of their own must hear of by a call or a visit, fed by notify from the same events
  as everyone's inbox, scoped to the grid worker's communities.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import strawberry

from services.activities import contracts, domain, queries
from services.common.actor import PLATFORM_ADMIN, Actor
from services.common.db import Connection
from services.common.errors import Refusal, forbidden, not_found
from services.common.masking import mask_name
from services.common.paging import DEFAULT_LIMIT, after_uuid, checked_limit
from services.common.replies import as_list
from services.gateway import commands
from services.gateway.activities import Signup, SignupStatus
from services.gateway.context import Info
from services.gateway.identity import identity
from services.gateway.inputs import check_key, parse_id
from services.gateway.paging import After, Limit
from services.identity import domain as identity_domain
from services.identity import queries as identity_queries
from services.notify import contracts as notify_contracts
from services.notify import queries as notify_queries


@strawberry.type(description="One person of a sign-up's party, as a grid worker sees them.")
class ProxyPartyMember:
    id: strawberry.ID | None = strawberry.field(description="The household member; null for the resident.")
    name: str = strawberry.field(description="Masked.")
    me: bool = strawberry.field(description="True for the resident themself.")


@strawberry.type(description="A resident's sign-up as their grid worker sees it, to cancel or shrink.")
class ProxySignup:
    id: strawberry.ID
    status: SignupStatus
    party_size: int
    waitlist_position: int | None
    activity_title: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    session_cancelled: bool
    made_by_proxy: bool = strawberry.field(description="Made at the desk: a grid worker may change it.")
    members: list[ProxyPartyMember]


@strawberry.type(description="Something a resident without a mobile must be told by a call or a visit.")
class ToTellEntry:
    id: strawberry.ID
    kind: str
    title: str
    say: str = strawberry.field(description="What to tell them, in words (Chinese).")
    title_en: str
    say_en: str
    created_at: datetime
    resident: str = strawberry.field(description="Masked name.")
    building: str
    unit: str
    contact: str = strawberry.field(description="Whom to call, with the full number, or 上门告知.")
    contact_en: str
    told: bool
    told_at: datetime | None
    told_by: str | None = strawberry.field(description="The grid worker who ticked it off, by name.")


@strawberry.input
class CancelPartyMembersInput:
    signup_id: strawberry.ID
    idempotency_key: str
    attendee_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="The household members who no longer come."
    )
    me: bool = strawberry.field(default=False, description="True: the resident themself no longer comes.")


@strawberry.input
class CancelSignupForInput:
    signup_id: strawberry.ID
    idempotency_key: str


def not_made_by_proxy() -> Refusal:
    return Refusal(
        "SIGNUP_NOT_BY_PROXY",
        "这份报名是居民本人提交的，请由居民本人取消或修改",
        "The resident made this sign-up themself; only they can cancel or change it",
    )


def _members(row: asyncpg.Record | dict[str, Any], resident_name: str) -> list[ProxyPartyMember]:
    named = as_list(row["attendees"])
    members = []
    if row["party_size"] > len(named):
        members.append(ProxyPartyMember(id=None, name=mask_name(resident_name), me=True))
    members += [
        ProxyPartyMember(id=strawberry.ID(a["id"]), name=mask_name(a["name"]), me=False) for a in named
    ]
    return members


async def _desk_signup(
    info: Info, actor: Actor, signup_id: uuid.UUID
) -> tuple[asyncpg.Record, asyncpg.Record]:
    """A sign-up made at the desk for a resident of the grid worker's community, and the resident."""
    async with info.context.pool.acquire() as conn:
        row = await queries.signup_made_by(conn, signup_id)
    if row is None:
        raise domain.unknown_signup()
    try:
        resident_id = uuid.UUID(row["resident_id"])
    except ValueError:
        raise forbidden() from None
    resident = await identity(info).resident_for(actor, resident_id)
    if row["proxy_id"] is None:
        raise not_made_by_proxy()
    return row, resident


async def _fresh_signup(info: Info, signup_id: uuid.UUID) -> Signup:
    async with info.context.pool.acquire() as conn:
        row = await queries.signup(conn, signup_id)
    assert row is not None
    return Signup.of(contracts.Signup.of(row))


async def _cut_party(
    info: Info, resident: Actor, signup_id: uuid.UUID, input: CancelPartyMembersInput, by: str | None
) -> None:
    key = check_key(input.idempotency_key)
    args: dict[str, Any] = {
        "signup_id": str(signup_id),
        "attendee_ids": [str(parse_id("attendeeIds", i)) for i in input.attendee_ids],
        "me": input.me,
        "key": key,
    }
    if by is not None:
        args["on_behalf_of"] = by
    await commands.answer(
        info, contracts.SERVICE, contracts.CANCEL_PARTY_MEMBERS, resident, args, key, contracts.Signup.of
    )


def _communities_to_tell(actor: Actor, community_id: str | None) -> list[str] | None:
    """The communities whose list the actor may read (None: every one, for platform admins)."""
    if community_id is not None:
        if not actor.acts_for_residents_of(community_id):
            raise forbidden()
        return [community_id]
    if PLATFORM_ADMIN in actor.roles:
        return None
    mine = sorted(c for c in actor.communities if actor.acts_for_residents_of(c))
    if not mine:
        raise forbidden()
    return mine


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


async def _entries(conn: Connection, rows: list[asyncpg.Record]) -> list[ToTellEntry]:
    """The list's entries with whom to tell (from identity) and who ticked them off, by name."""
    people = await identity_queries.residents(
        conn, [u for u in (_uuid(r["person_id"]) for r in rows) if u is not None]
    )
    staff = await identity_queries.staff_accounts(
        conn, [u for u in (_uuid(r["told_by"]) for r in rows) if u is not None]
    )
    entries = []
    for row in rows:
        person_id, teller_id = _uuid(row["person_id"]), _uuid(row["told_by"])
        resident = people.get(person_id) if person_id else None
        teller = staff.get(teller_id) if teller_id else None
        told_by = None
        if row["told_by"] is not None:
            told_by = (teller["display_name"] or teller["username"]) if teller else mask_name(row["told_by"])
        contact_zh, contact_en = (
            identity_domain.contact_words(
                resident["contact_kind"],
                resident["phone"],
                resident["contact_phone"],
                resident["contact_owner"],
                lambda number: number,  # the grid worker must be able to dial it
            )
            if resident
            else ("", "")
        )
        entries.append(
            ToTellEntry(
                id=strawberry.ID(str(row["id"])),
                kind=row["kind"],
                title=row["title_zh"],
                say=row["body_zh"],
                title_en=row["title_en"],
                say_en=row["body_en"],
                created_at=row["created_at"],
                resident=mask_name(resident["name"]) if resident else "",
                building=resident["building"] if resident else "",
                unit=resident["unit"] if resident else "",
                contact=contact_zh,
                contact_en=contact_en,
                told=row["told_at"] is not None,
                told_at=row["told_at"],
                told_by=told_by,
            )
        )
    return entries


@strawberry.type
class EldersQuery:
    @strawberry.field(
        description="Grid workers: the sign-ups of a resident of my community, live ones first, "
        "soonest session first."
    )
    async def signups_for(
        self, info: Info, resident_id: strawberry.ID, limit: Limit = DEFAULT_LIMIT, after: After = None
    ) -> list[ProxySignup]:
        actor = info.context.require_actor()
        limit, start = checked_limit(limit), after_uuid(after)
        resident = await identity(info).resident_for(actor, parse_id("residentId", resident_id))
        async with info.context.pool.acquire() as conn:
            rows = await queries.signups_with_sessions(conn, str(resident["id"]), limit, start)
        return [
            ProxySignup(
                id=strawberry.ID(str(row["id"])),
                status=SignupStatus(row["status"]),
                party_size=row["party_size"],
                waitlist_position=row["waitlist_position"],
                activity_title=row["activity_title"],
                venue=row["venue"],
                starts_at=row["starts_at"],
                ends_at=row["ends_at"],
                session_cancelled=row["session_status"] == domain.SessionStatus.CANCELLED,
                made_by_proxy=row["proxy_id"] is not None,
                members=_members(row, resident["name"]),
            )
            for row in rows
        ]

    @strawberry.field(
        description="Grid workers: what residents without a mobile of my communities must be told "
        "(by a call or a visit), oldest first; with includeTold, also what was passed on."
    )
    async def to_tell(
        self,
        info: Info,
        community_id: str | None = None,
        include_told: bool = False,
        limit: Limit = DEFAULT_LIMIT,
        after: After = None,
    ) -> list[ToTellEntry]:
        actor = info.context.require_actor()
        communities = _communities_to_tell(actor, community_id)
        limit, start = checked_limit(limit), after_uuid(after)
        async with info.context.pool.acquire() as conn:
            rows = await notify_queries.to_tell(conn, communities, include_told, limit, start)
            return await _entries(conn, rows)


@strawberry.type
class EldersMutation:
    @strawberry.mutation(
        description="Some of my party no longer come: the rest keep the sign-up and its ticket; "
        "freed seats go to the waitlist at once."
    )
    async def cancel_party_members(self, info: Info, input: CancelPartyMembersInput) -> Signup:
        actor = info.context.require_actor()
        signup_id = parse_id("signupId", input.signup_id)
        async with info.context.pool.acquire() as conn:
            row = await queries.signup(conn, signup_id)
        if row is None:
            raise domain.unknown_signup()
        if row["resident_id"] != actor.user_id:
            raise forbidden()
        await _cut_party(info, actor, signup_id, input, None)
        return await _fresh_signup(info, signup_id)

    @strawberry.mutation(description="Grid workers: cancel a sign-up made at the desk for a resident.")
    async def cancel_signup_for(self, info: Info, input: CancelSignupForInput) -> Signup:
        actor = info.context.require_actor()
        key = check_key(input.idempotency_key)
        signup_id = parse_id("signupId", input.signup_id)
        row, resident = await _desk_signup(info, actor, signup_id)
        on_their_behalf = identity_domain.resident_actor(str(resident["id"]), resident["community_id"])
        args = {"signup_id": str(signup_id), "key": key, "on_behalf_of": actor.user_id}
        await commands.answer(
            info, contracts.SERVICE, contracts.CANCEL_SIGNUP, on_their_behalf, args, key, contracts.Signup.of
        )
        details: dict[str, object] = {"signup": str(signup_id), "session": str(row["session_id"])}
        await identity(info).record_proxy_action(
            actor, resident, "signup.cancelled_by_proxy", details, info.context.client_ip
        )
        return await _fresh_signup(info, signup_id)

    @strawberry.mutation(
        description="Grid workers: take some of a desk-made sign-up's party off; the rest keep it."
    )
    async def cancel_party_members_for(self, info: Info, input: CancelPartyMembersInput) -> Signup:
        actor = info.context.require_actor()
        signup_id = parse_id("signupId", input.signup_id)
        row, resident = await _desk_signup(info, actor, signup_id)
        on_their_behalf = identity_domain.resident_actor(str(resident["id"]), resident["community_id"])
        await _cut_party(info, on_their_behalf, signup_id, input, actor.user_id)
        fresh = await _fresh_signup(info, signup_id)
        details = {
            "signup": str(signup_id),
            "session": str(row["session_id"]),
            "dropped": len(input.attendee_ids) + (1 if input.me else 0),
            "party_size": fresh.party_size,
        }
        await identity(info).record_proxy_action(
            actor, resident, "signup.party_reduced_by_proxy", details, info.context.client_ip
        )
        return fresh

    @strawberry.mutation(description="Grid workers: I passed this on; ticked off with my name and the time.")
    async def mark_told(self, info: Info, id: strawberry.ID) -> ToTellEntry:
        actor = info.context.require_actor()
        entry_id = parse_id("id", id)
        async with info.context.pool.acquire() as conn:
            entry = await notify_queries.to_tell_entry(conn, entry_id)
        if entry is None:
            raise not_found("entry", "待告知事项")
        if not actor.acts_for_residents_of(entry["community_id"]):
            raise forbidden()
        args = {"id": str(entry_id)}  # told stays told: the entry names the command
        await commands.perform(
            info,
            notify_contracts.SERVICE,
            notify_contracts.MARK_TOLD,
            actor,
            args,
            commands.derived_key(args),
        )
        async with info.context.pool.acquire() as conn:
            fresh = await notify_queries.to_tell_entry(conn, entry_id)
            assert fresh is not None
            [told] = await _entries(conn, [fresh])
        return told
