"""Sign-up on a resident's behalf: a grid worker (网格员) or desk staff finds or creates a
resident of their community by name and phone, adds their household, signs them up and prints
their ticket.

The sign-up command carries an actor that IS the resident, so every limit that protects
residents (one sign-up per session, capacity, windows, festival limits) applies unchanged;
``on_behalf_of`` names the grid worker, whom the activities service records on the sign-up and
identity's audit log records as having acted for the resident. A grid worker sees only what a
sign-up needs: masked names and phone, the building, household age bands.
"""

from __future__ import annotations

import uuid

import asyncpg
import strawberry

from services.activities import domain, queries, ticket_keys, tickets
from services.common.actor import Actor
from services.common.errors import forbidden
from services.common.masking import mask_name, mask_phone
from services.common.signed_codes import render
from services.gateway import commands
from services.gateway.activities import Signup, send_sign_up
from services.gateway.context import Info
from services.gateway.identity import identity
from services.gateway.inputs import check_key, parse_id
from services.gateway.names import community_name
from services.gateway.tickets import Ticket
from services.identity import domain as identity_domain
from services.identity import queries as identity_queries
from services.notify import contracts as notify_contracts

strawberry.enum(
    identity_domain.PhoneOf,
    name="PhoneOf",
    description="Whose the number given for a resident is: theirs, a family member's, or none.",
)


@strawberry.type(description="A household member as a grid worker sees them: masked name, age band.")
class ProxyHouseholdMember:
    id: strawberry.ID
    name: str
    age_band: identity_domain.AgeBand


@strawberry.type(description="A resident as their grid worker sees them: only what a sign-up needs.")
class ProxyResident:
    id: strawberry.ID
    name: str = strawberry.field(description="Masked.")
    phone: str = strawberry.field(description="Masked.")
    community_id: str
    building: str
    created: bool = strawberry.field(description="True if this request made the resident.")
    has_logged_in: bool
    household: list[ProxyHouseholdMember]
    contact: str = strawberry.field(
        default="", description="How they are reached, in words, masked: 固定电话 095****4567, 女儿的电话 …"
    )
    contact_en: str = ""
    gets_sms: bool = strawberry.field(
        default=True,
        description="False without a mobile of their own: their grid worker tells them (the to-tell list).",
    )

    @strawberry.field(description="Their community's name, e.g. 朔方社区.")
    async def community_name(self, info: Info) -> str:
        return await community_name(info, self.community_id)


@strawberry.input
class ResidentByPhoneInput:
    community_id: str
    name: str
    phone: str
    building: str
    unit: str
    phone_of: identity_domain.PhoneOf = strawberry.field(
        default=identity_domain.PhoneOf.SELF,
        description="SELF: their own mobile or landline; FAMILY: a relative's (say whose); NONE: none.",
    )
    phone_owner: str = strawberry.field(default="", description="Whose phone, for FAMILY: e.g. 女儿.")
    register: bool = strawberry.field(
        default=False,
        description="True: register them if nobody of the community is found. False: only look "
        "them up (RESIDENT_NOT_FOUND, the same for an unknown number and another community's).",
    )
    privacy_notice_explained: bool = strawberry.field(
        default=False,
        description="Registering: I explained the privacy notice (privacyNotice) and the resident "
        "agreed; recorded as their consent. Without it nobody is registered (PRIVACY_CONSENT_REQUIRED).",
    )


@strawberry.input
class SignUpForInput:
    resident_id: strawberry.ID
    session_id: strawberry.ID
    idempotency_key: str
    attendee_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="The resident's household members who come along."
    )
    include_me: bool = strawberry.field(default=True, description="False when only the members named attend.")


def _actor_of(resident: asyncpg.Record) -> Actor:
    return identity_domain.resident_actor(str(resident["id"]), resident["community_id"])


async def _proxy_resident(info: Info, resident: asyncpg.Record, created: bool) -> ProxyResident:
    async with info.context.pool.acquire() as conn:
        members = await identity_queries.household_of(conn, resident["id"])
    contact_zh, contact_en = identity_domain.contact_words(
        resident["contact_kind"],
        resident["phone"],
        resident["contact_phone"],
        resident["contact_owner"],
        _mask_number,
    )
    return ProxyResident(
        id=strawberry.ID(str(resident["id"])),
        name=mask_name(resident["name"]),
        phone=_mask_number(resident["phone"] or resident["contact_phone"] or ""),
        contact=contact_zh,
        contact_en=contact_en,
        gets_sms=resident["phone"] is not None,
        community_id=resident["community_id"],
        building=resident["building"],
        created=created,
        has_logged_in=resident["last_login_at"] is not None,
        household=[
            ProxyHouseholdMember(
                id=strawberry.ID(str(m["id"])),
                name=mask_name(m["name"]),
                age_band=identity_domain.AgeBand(m["age_band"]),
            )
            for m in members
        ],
    )


@strawberry.type
class ProxyQuery:
    @strawberry.field(description="Grid workers: the ticket of a resident of my community, to print.")
    async def ticket_for(self, info: Info, signup_id: strawberry.ID) -> Ticket:
        actor = info.context.require_actor()
        async with info.context.pool.acquire() as conn:
            row = await queries.signup(conn, parse_id("signupId", signup_id))
        if row is None:
            raise domain.unknown_signup()
        resident_id = _uuid_or_none(row["resident_id"])
        if resident_id is None:
            raise forbidden()
        resident = await identity(info).resident_for(actor, resident_id)
        if row["status"] != domain.SignupStatus.CONFIRMED:
            raise tickets.not_confirmed()
        async with info.context.pool.acquire() as conn:
            code = await ticket_keys.ticket_code(conn, info.context.resources.settings.secret, row["id"])
        rendered = render(code)
        await identity(info).record_proxy_action(
            actor, resident, "ticket.printed_by_proxy", {"signup": str(row["id"])}, info.context.client_ip
        )
        return Ticket(
            signup_id=strawberry.ID(str(row["id"])),
            session_id=strawberry.ID(str(row["session_id"])),
            party_size=row["party_size"],
            code=rendered.text,
            png_data_url=rendered.png_data_url,
            svg=rendered.svg,
        )


@strawberry.type
class ProxyMutation:
    @strawberry.mutation(
        description="Grid workers: find a resident of my community by phone, or register them."
    )
    async def resident_by_phone(self, info: Info, input: ResidentByPhoneInput) -> ProxyResident:
        actor = info.context.require_actor()
        resident, created = await identity(info).find_or_create_resident(
            actor,
            input.name,
            input.phone,
            input.community_id,
            input.building,
            input.unit,
            info.context.client_ip,
            input.phone_of,
            input.phone_owner,
            input.register,
            input.privacy_notice_explained,
        )
        if resident["phone"] is None:
            # No mobile of their own: nothing is texted; their grid workers tell them instead.
            args = {"person_id": str(resident["id"]), "community_id": resident["community_id"]}
            # Settled before anything is signed up for them, so no event of theirs is missed.
            await commands.perform(
                info,
                notify_contracts.SERVICE,
                notify_contracts.TELL_IN_PERSON,
                actor,
                args,
                commands.derived_key(args),
            )
        elif created:
            # Someone signed up at the desk has no inbox habit: their messages also go by SMS.
            args = {"channels": ["sms"], "phone": resident["phone"]}
            # Set once, when the desk registers them: later choices of their own are not undone.
            reply = await commands.send(
                info,
                notify_contracts.SERVICE,
                notify_contracts.SET_PREFERENCES,
                _actor_of(resident),
                args,
                commands.derived_key("registered-at-the-desk"),
            )
            if reply is not None:
                reply.unwrap()
        return await _proxy_resident(info, resident, created)

    @strawberry.mutation(
        description=(
            "Grid workers: add a member to a resident's household; a child (CHILD, TEEN) only with "
            "guardianConsent, the guardian's given in person."
        )
    )
    async def add_household_member_for(
        self,
        info: Info,
        resident_id: strawberry.ID,
        name: str,
        relation: identity_domain.Relation,
        age_band: identity_domain.AgeBand,
        guardian_consent: bool = False,
    ) -> ProxyResident:
        actor = info.context.require_actor()
        service = identity(info)
        resident = await service.resident_for(actor, parse_id("residentId", resident_id))
        member = await service.add_household_member(
            _actor_of(resident), name, relation, age_band, guardian_consent, recorded_by=actor.user_id
        )
        await service.record_proxy_action(
            actor,
            resident,
            "household.added_by_proxy",
            {"member": str(member["id"])},
            info.context.client_ip,
        )
        return await _proxy_resident(info, resident, False)

    @strawberry.mutation(description="Grid workers: sign a resident of my community (and household) up.")
    async def sign_up_for(self, info: Info, input: SignUpForInput) -> Signup:
        actor = info.context.require_actor()
        key = check_key(input.idempotency_key)
        session_id = parse_id("sessionId", input.session_id)
        service = identity(info)
        resident = await service.resident_for(actor, parse_id("residentId", input.resident_id))
        async with info.context.pool.acquire() as conn:
            session = await queries.session(conn, session_id)
        if session is None:
            raise domain.unknown_session()
        if not actor.acts_for_residents_of(session["community_id"]):
            raise forbidden()
        on_their_behalf = _actor_of(resident)
        attendee_ids = [str(i) for i in input.attendee_ids]
        party_size = domain.party_with(attendee_ids, None, input.include_me)
        sent = await send_sign_up(
            info, on_their_behalf, session_id, key, attendee_ids, party_size, input.include_me, actor.user_id
        )
        details = {"signup": str(sent.signup_id), "session": str(session_id), "party_size": party_size}
        if sent.reply is not None and sent.reply.refusal is not None:
            details["refused"] = sent.reply.refusal.code
            action = "signup.by_proxy_refused"
        else:
            action = "signup.by_proxy"
        await service.record_proxy_action(actor, resident, action, details, info.context.client_ip)
        return await sent.answer(info)


def _mask_number(number: str) -> str:
    """138****5678 for a mobile; a landline keeps its area code: 0951-***4567."""
    if "-" in number:
        area, local = number.split("-", 1)
        return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    return mask_phone(number)


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
