"""Tickets at the door, end to end: a resident shows the QR code of her confirmed sign-up, the
scanner's camera reads it, and the session admits her party once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from services.activities import tickets
from services.common.masking import mask_phone
from services.common.settings import Settings
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, GraphQLClient
from tests.ticket_steps import (
    CHECK_IN,
    ROSTER,
    TICKET,
    check_in_vars,
    scan,
    scanner_token,
    schedule_at,
    sign_up,
    ticket_of,
)

SOON = timedelta(minutes=30)
CANCEL = """
mutation($input: CancelSignupInput!) { cancelSignup(input: $input) { id status } }
"""


async def test_the_ticket_qr_scans_to_a_code_the_door_accepts_once(
    gql: GraphQLClient, organiser_token: str, new_resident: Any, settings: Settings, pool: Any
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON)
    resident_id, token = new_resident()
    signup = await sign_up(gql, token, session_id, party_size=3)
    assert signup["status"] == "CONFIRMED"

    ticket = await ticket_of(gql, token, signup["id"])
    code = scan(ticket["pngDataUrl"])
    assert code == ticket["code"]
    assert ticket["svg"].startswith("<svg") and ticket["session"]["id"] == session_id

    scanner = scanner_token(settings)
    admitted = (await gql.ok(CHECK_IN, check_in_vars(code, session_id), scanner))["checkInTicket"]
    assert admitted["signupId"] == signup["id"] and admitted["partySize"] == 3
    assert admitted["resident"] == mask_phone(resident_id)  # no profile: the masked user id

    again = await gql.raw(CHECK_IN, check_in_vars(code, session_id), scanner)
    error = again["errors"][0]["extensions"]
    assert error["code"] == "ALREADY_CHECKED_IN"
    assert error["details"]["checkedInAt"] == admitted["checkedInAt"]

    async with pool.acquire() as conn:  # written in the check-in's own transaction
        event = await conn.fetchrow(
            "SELECT payload FROM activities.outbox WHERE type = 'ticket.checked_in' "
            "AND payload->>'signup_id' = $1",
            signup["id"],
        )
    assert event["payload"]["party_size"] == 3 and event["payload"]["resident_id"] == resident_id


async def test_the_same_scan_sent_twice_admits_once_and_answers_the_same(
    gql: GraphQLClient, organiser_token: str, new_resident: Any, settings: Settings, pool: Any
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON)
    _, token = new_resident()
    signup = await sign_up(gql, token, session_id)
    code = (await ticket_of(gql, token, signup["id"]))["code"]
    scanner = scanner_token(settings)

    first = await gql.ok(CHECK_IN, check_in_vars(code, session_id, key="door-scan-0001"), scanner)
    second = await gql.ok(CHECK_IN, check_in_vars(code, session_id, key="door-scan-0001"), scanner)

    assert first == second
    async with pool.acquire() as conn:
        events = await conn.fetchval(
            "SELECT count(*) FROM activities.outbox WHERE type = 'ticket.checked_in' "
            "AND payload->>'signup_id' = $1",
            signup["id"],
        )
    assert events == 1


async def test_a_ticket_for_another_session_is_refused_at_this_door(
    gql: GraphQLClient, organiser_token: str, new_resident: Any, settings: Settings
) -> None:
    mine = await schedule_at(gql, organiser_token, SOON, title="义诊")
    other = await schedule_at(gql, organiser_token, SOON, title="亲子手工", venue="西苑广场")
    _, token = new_resident()
    signup = await sign_up(gql, token, mine)
    code = (await ticket_of(gql, token, signup["id"]))["code"]

    assert await gql.error_code(CHECK_IN, check_in_vars(code, other), scanner_token(settings)) == (
        "WRONG_SESSION"
    )


async def test_a_cancelled_sign_ups_ticket_admits_nobody(
    gql: GraphQLClient, organiser_token: str, new_resident: Any, settings: Settings
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON)
    _, token = new_resident()
    signup = await sign_up(gql, token, session_id)
    screenshot = (await ticket_of(gql, token, signup["id"]))["code"]
    cancel = {"input": {"signupId": signup["id"], "idempotencyKey": uuid.uuid4().hex}}
    await gql.ok(CANCEL, cancel, token)

    code = await gql.error_code(CHECK_IN, check_in_vars(screenshot, session_id), scanner_token(settings))
    assert code == "NOT_CONFIRMED"
    assert await gql.error_code(TICKET, {"id": signup["id"]}, token) == "NOT_CONFIRMED"


async def test_after_checking_in_a_resident_can_no_longer_cancel(
    gql: GraphQLClient, organiser_token: str, new_resident: Any, settings: Settings, pool: Any
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON, capacity=1)
    _, token = new_resident()
    signup = await sign_up(gql, token, session_id)
    waiting = await sign_up(gql, new_resident()[1], session_id)
    code = (await ticket_of(gql, token, signup["id"]))["code"]
    await gql.ok(CHECK_IN, check_in_vars(code, session_id), scanner_token(settings))

    cancel = {"input": {"signupId": signup["id"], "idempotencyKey": uuid.uuid4().hex}}
    assert await gql.error_code(CANCEL, cancel, token) == "ALREADY_CHECKED_IN"

    async with pool.acquire() as conn:  # nothing changed: the seat stays used, nobody promoted
        statuses = dict(
            await conn.fetch(
                "SELECT id::text, status FROM activities.signups WHERE id = ANY($1::uuid[])",
                [signup["id"], waiting["id"]],
            )
        )
    assert statuses == {signup["id"]: "CONFIRMED", waiting["id"]: "WAITLISTED"}


async def test_a_resident_on_the_waitlist_has_no_ticket_yet(
    gql: GraphQLClient, organiser_token: str, new_resident: Any
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON, capacity=1)
    await sign_up(gql, new_resident()[1], session_id)
    _, token = new_resident()
    waiting = await sign_up(gql, token, session_id)
    assert waiting["status"] == "WAITLISTED"

    assert await gql.error_code(TICKET, {"id": waiting["id"]}, token) == "NOT_CONFIRMED"


async def test_the_door_opens_only_an_hour_before_the_session(
    gql: GraphQLClient, organiser_token: str, new_resident: Any, settings: Settings
) -> None:
    session_id = await schedule_at(gql, organiser_token, timedelta(hours=3))
    _, token = new_resident()
    signup = await sign_up(gql, token, session_id)
    code = (await ticket_of(gql, token, signup["id"]))["code"]

    body = await gql.raw(CHECK_IN, check_in_vars(code, session_id), scanner_token(settings))
    assert body["errors"][0]["extensions"]["code"] == "TOO_EARLY"
    assert "opensAt" in body["errors"][0]["extensions"]["details"]


async def test_a_forged_or_garbled_code_is_invalid(
    gql: GraphQLClient, organiser_token: str, settings: Settings
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON)
    scanner = scanner_token(settings)
    forged = tickets.issue("not-our-secret", uuid.uuid4())
    for code in (forged, "LTHELLOWORLD", "https://example.com/?q=1"):
        assert await gql.error_code(CHECK_IN, check_in_vars(code, session_id), scanner) == "INVALID_CODE"


async def test_only_the_sessions_own_scanners_and_organisers_check_tickets_in(
    gql: GraphQLClient, organiser_token: str, new_resident: Any, settings: Settings
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON)
    _, token = new_resident()
    signup = await sign_up(gql, token, session_id)
    code = (await ticket_of(gql, token, signup["id"]))["code"]

    elsewhere = scanner_token(settings, OTHER_COMMUNITY)
    assert await gql.error_code(CHECK_IN, check_in_vars(code, session_id), elsewhere) == "FORBIDDEN"
    assert await gql.error_code(CHECK_IN, check_in_vars(code, session_id), token) == "FORBIDDEN"
    assert await gql.error_code(CHECK_IN, check_in_vars(code, session_id)) == "UNAUTHENTICATED"
    # the organiser of the community may scan too
    assert await gql.ok(CHECK_IN, check_in_vars(code, session_id), organiser_token)


async def test_nobody_else_sees_my_ticket(
    gql: GraphQLClient, organiser_token: str, new_resident: Any
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON)
    _, token = new_resident()
    signup = await sign_up(gql, token, session_id)

    assert await gql.error_code(TICKET, {"id": signup["id"]}, new_resident()[1]) == "FORBIDDEN"
    assert await gql.error_code(TICKET, {"id": str(uuid.uuid4())}, token) == "SIGNUP_NOT_FOUND"


async def test_the_roster_shows_who_has_arrived(
    gql: GraphQLClient, organiser_token: str, new_resident: Any, settings: Settings
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON, capacity=2)
    arriving_id, arriving = new_resident()
    absent_id, absent = new_resident()
    waiting_id, waiting = new_resident()
    first = await sign_up(gql, arriving, session_id)
    await sign_up(gql, absent, session_id)
    await sign_up(gql, waiting, session_id)
    code = (await ticket_of(gql, arriving, first["id"]))["code"]
    await gql.ok(CHECK_IN, check_in_vars(code, session_id), scanner_token(settings))

    roster = (await gql.ok(ROSTER, {"id": session_id}, organiser_token))["sessionRoster"]

    # none of them has filled in a name: the roster says so in words, not as a masked id
    assert [(r["resident"], r["status"], r["checkedIn"]) for r in roster] == [
        ("未填姓名", "CONFIRMED", True),
        ("未填姓名", "CONFIRMED", False),
        ("未填姓名", "WAITLISTED", False),
    ]
    assert not {mask_phone(arriving_id), mask_phone(absent_id), mask_phone(waiting_id)} & {
        r["resident"] for r in roster
    }
    assert all(r["phone"] is None for r in roster)  # none of them has a profile
    assert await gql.error_code(ROSTER, {"id": session_id}, arriving) == "FORBIDDEN"


NO_SHOWS = """
query($community: String!) { noShows(communityId: $community) { resident phone noShows lastMissedAt } }
"""


async def test_organisers_see_who_held_seats_and_never_came(
    gql: GraphQLClient, organiser_token: str, new_resident: Any, settings: Settings, pool: Any
) -> None:
    first = await schedule_at(gql, organiser_token, SOON)
    second = await schedule_at(gql, organiser_token, SOON)
    came_id, came = new_resident()
    stayed_home_id, stayed_home = new_resident()
    for session_id in (first, second):
        await sign_up(gql, stayed_home, session_id)
    came_signup = await sign_up(gql, came, first)
    code = (await ticket_of(gql, came, came_signup["id"]))["code"]
    await gql.ok(CHECK_IN, check_in_vars(code, first), scanner_token(settings))

    async def no_shows() -> dict[str, int]:
        data = await gql.ok(NO_SHOWS, {"community": COMMUNITY}, organiser_token)
        return {row["resident"]: row["noShows"] for row in data["noShows"]}

    # Before the sessions end nobody has missed anything.
    before = await no_shows()
    assert mask_phone(stayed_home_id) not in before
    # The afternoon passes: both sessions are over (moved into the past: we cannot wait for it).
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE activities.sessions SET starts_at = now() - interval '3 hours', "
            "ends_at = now() - interval '1 hour' WHERE id = ANY($1::uuid[])",
            [uuid.UUID(first), uuid.UUID(second)],
        )
    after = await no_shows()
    assert after[mask_phone(stayed_home_id)] == 2
    assert mask_phone(came_id) not in after
    assert await gql.error_code(NO_SHOWS, {"community": COMMUNITY}, came) == "FORBIDDEN"


async def test_two_doors_scanning_one_ticket_at_once_admit_it_once(
    gql: GraphQLClient, organiser_token: str, new_resident: Any, settings: Settings, pool: Any
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON)
    _, token = new_resident()
    signup = await sign_up(gql, token, session_id)
    code = (await ticket_of(gql, token, signup["id"]))["code"]

    answers = await asyncio.gather(
        *(gql.raw(CHECK_IN, check_in_vars(code, session_id), scanner_token(settings)) for _ in range(5))
    )

    outcomes = sorted(
        a["errors"][0]["extensions"]["code"] if a.get("errors") else "ADMITTED" for a in answers
    )
    assert outcomes == ["ADMITTED"] + ["ALREADY_CHECKED_IN"] * 4
    async with pool.acquire() as conn:
        rows = await conn.fetchval(
            "SELECT count(*) FROM activities.attendance WHERE signup_id = $1", uuid.UUID(signup["id"])
        )
    assert rows == 1
