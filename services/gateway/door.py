"""At the door without a readable QR: staff find a confirmed attendee of a session by name, by
the last four digits of their phone or by the ticket's six-digit number, see who the sign-up
admits, and let the whole party or part of it in (the same command as a scanned ticket, so a
party is admitted once however it is found).
"""

from __future__ import annotations

import strawberry

from services.activities import attendance, domain, tickets
from services.common.errors import bad_input, forbidden
from services.gateway.context import Info
from services.gateway.inputs import parse_id
from services.gateway.tickets import NO_NAME, TicketCheckIn, named_people, party_of, send_check_in

MAX_SEARCH_LENGTH = 40
MAX_RESULTS = 20


@strawberry.type(description="A confirmed sign-up as the door sees it.")
class DoorAttendee:
    signup_id: strawberry.ID
    resident: str = strawberry.field(description="Full name; 未填姓名 without one.")
    phone: str | None = strawberry.field(description="Masked phone, e.g. 138****5678.")
    party_size: int
    party_names: list[str] = strawberry.field(description="Who the ticket admits, by name.")
    admitted: int = strawberry.field(description="How many of the party are in so far.")
    still_to_come: int


@strawberry.input
class AdmitAttendeeInput:
    session_id: strawberry.ID
    signup_id: strawberry.ID = strawberry.field(description="As found by doorAttendees.")
    idempotency_key: str
    people: int | None = strawberry.field(
        default=None, description="How many of the party come in now; all still to come when omitted."
    )


def matches(search: str, name: str, phone_tail: str | None, names: list[str], short_code: str) -> bool:
    """Four digits: the phone's last four; six: the ticket's number; anything else: part of a name."""
    if search.isdigit() and len(search) == 4:
        return phone_tail == search
    if search.isdigit() and len(search) == tickets.SHORT_CODE_DIGITS:
        return short_code == search
    return any(search in candidate for candidate in (name, *names))


@strawberry.type
class DoorQuery:
    @strawberry.field(
        description="Scanners and organisers: a session's confirmed attendees found by name, "
        "phone's last 4 digits or the ticket's 6-digit number."
    )
    async def door_attendees(self, info: Info, session_id: strawberry.ID, search: str) -> list[DoorAttendee]:
        actor = info.context.require_actor()
        wanted = search.strip().replace(" ", "")
        if not wanted or len(wanted) > MAX_SEARCH_LENGTH:
            raise bad_input(
                "search",
                "请输入姓名、手机号后 4 位或票号",
                "Type a name, the phone's last 4 digits or the ticket number",
            )
        session_uuid = parse_id("sessionId", session_id)
        secret = info.context.resources.settings.secret
        async with info.context.pool.acquire() as conn:
            session = await attendance.session_at_door(conn, session_uuid)
            if session is None:
                raise domain.unknown_session()
            if not tickets.may_check_in(actor, session["community_id"]):
                raise forbidden()
            rows = await attendance.confirmed_at_door(conn, session_uuid)
            people = await named_people(conn, [row["resident_id"] for row in rows])
        found: list[DoorAttendee] = []
        for row in rows:
            person = people[row["resident_id"]]
            names = party_of(person, row["party_size"], row["attendees"])
            name = "" if person.name == NO_NAME else person.name
            code = tickets.short_code(secret, row["signup_id"])
            if not matches(wanted, name, person.phone_tail, names, code):
                continue
            found.append(
                DoorAttendee(
                    signup_id=strawberry.ID(str(row["signup_id"])),
                    resident=person.name,
                    phone=person.phone,
                    party_size=row["party_size"],
                    party_names=names,
                    admitted=row["admitted"],
                    still_to_come=max(row["party_size"] - row["admitted"], 0),
                )
            )
            if len(found) == MAX_RESULTS:
                break
        return found


@strawberry.type
class DoorMutation:
    @strawberry.mutation(
        description="Scanners and organisers: let a party found at the door in, whole or in part, once."
    )
    async def admit_attendee(self, info: Info, input: AdmitAttendeeInput) -> TicketCheckIn:
        actor = info.context.require_actor()
        return await send_check_in(
            info,
            actor,
            parse_id("sessionId", input.session_id),
            input.idempotency_key,
            input.people,
            signup_id=parse_id("signupId", input.signup_id),
        )
