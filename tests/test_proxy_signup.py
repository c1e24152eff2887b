"""A grid worker signs up an elderly neighbour who has never used the phone: the resident's
ticket prints, the SMS and inbox message are recorded, the audit log names the grid worker, and
the limits that protect residents still hold. A grid worker of another community is refused."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.activities import signed_tickets
from services.common.actor import GRID_WORKER
from services.common.settings import Settings
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, GraphQLClient, eventually, token_for
from tests.test_activities_schedule import Organiser, iso

FIND = """
mutation($input: ResidentByPhoneInput!) {
  residentByPhone(input: $input) {
    id name phone building created hasLoggedIn household { id name ageBand }
  }
}
"""
ADD_MEMBER = """
mutation($r: ID!, $name: String!) {
  addHouseholdMemberFor(residentId: $r, name: $name, relation: SPOUSE, ageBand: ELDER) {
    household { id name ageBand }
  }
}
"""
SIGN_UP_FOR = """
mutation($input: SignUpForInput!) { signUpFor(input: $input) { id status partySize attendees { name } } }
"""
TICKET_FOR = "query($id: ID!) { ticketFor(signupId: $id) { signupId partySize code } }"
POST_WISH = """
mutation($input: PostWishInput!) { postWish(input: $input) { id status building } }
"""


def grid_worker(settings: Settings, community: str = COMMUNITY) -> tuple[str, str]:
    user_id = str(uuid.uuid4())
    return user_id, token_for(settings, user_id, {GRID_WORKER}, {community})


def elder(phone: str, community: str = COMMUNITY) -> dict[str, Any]:
    return {
        "input": {
            "communityId": community,
            "name": "王秀英",
            "phone": phone,
            "building": "3号楼",
            "unit": "2单元",
            "register": True,
            "privacyNoticeExplained": True,
        }
    }


def new_phone() -> str:
    return f"139{random.randrange(10**8):08d}"


def sign_up_for(resident_id: str, session_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "residentId": resident_id,
            "sessionId": session_id,
            "idempotencyKey": uuid.uuid4().hex,
            **extra,
        }
    }


async def test_a_grid_worker_signs_up_an_elder_who_never_logged_in(
    gql: GraphQLClient, settings: Settings, pool: Any, organiser_token: str
) -> None:
    worker, worker_token = grid_worker(settings)
    session_id = await Organiser(gql, organiser_token).open_session(capacity=10)
    phone = new_phone()

    found = (await gql.ok(FIND, elder(phone), worker_token))["residentByPhone"]
    assert found["created"] and not found["hasLoggedIn"]
    # The grid worker sees what a sign-up needs, masked.
    assert found["name"] == "王**" and found["phone"] == f"{phone[:3]}****{phone[-4:]}"
    resident_id = found["id"]
    again = (await gql.ok(FIND, elder(phone), worker_token))["residentByPhone"]
    assert again["id"] == resident_id and not again["created"]

    household = (await gql.ok(ADD_MEMBER, {"r": resident_id, "name": "李建国"}, worker_token))[
        "addHouseholdMemberFor"
    ]["household"]
    assert household == [{"id": household[0]["id"], "name": "李**", "ageBand": "ELDER"}]

    signup = (
        await gql.ok(
            SIGN_UP_FOR, sign_up_for(resident_id, session_id, attendeeIds=[household[0]["id"]]), worker_token
        )
    )["signUpFor"]
    assert signup["status"] == "CONFIRMED" and signup["partySize"] == 2

    # One sign-up per session still holds for a proxy.
    twice = await gql.error_code(SIGN_UP_FOR, sign_up_for(resident_id, session_id), worker_token)
    assert twice == "ALREADY_SIGNED_UP"

    ticket = (await gql.ok(TICKET_FOR, {"id": signup["id"]}, worker_token))["ticketFor"]
    assert ticket["partySize"] == 2
    assert str(signed_tickets.parse(ticket["code"])[0].signup_id) == signup["id"]

    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT resident_id, proxy_id FROM activities.signups WHERE id = $1", uuid.UUID(signup["id"])
        )
        assert dict(row) == {"resident_id": resident_id, "proxy_id": worker}

        async def told() -> list[Any]:
            inbox = await conn.fetch("SELECT kind FROM notify.inbox WHERE recipient_id = $1", resident_id)
            sms = await conn.fetch(
                "SELECT kind, address FROM notify.deliveries WHERE recipient_id = $1 AND channel = 'sms'",
                resident_id,
            )
            return [inbox, sms] if inbox and sms else []

        inbox, sms = await eventually(told)
        assert [m["kind"] for m in inbox] == ["signup.confirmed"]
        assert [(d["kind"], d["address"]) for d in sms] == [("signup.confirmed", phone)]

        audit = await conn.fetch(
            "SELECT action, actor_id, details::text FROM identity.audit_log "
            "WHERE subject = $1 AND action LIKE '%proxy%' ORDER BY at, id",
            resident_id,
        )
    assert {a["actor_id"] for a in audit} == {worker}
    assert [a["action"] for a in audit] == [
        "resident.created_by_proxy",
        "resident.found_by_proxy",
        "household.added_by_proxy",
        "signup.by_proxy",
        "signup.by_proxy_refused",
        "ticket.printed_by_proxy",
    ]
    assert all(phone not in a["details"] for a in audit)


async def test_a_grid_worker_of_another_community_is_refused(
    gql: GraphQLClient, settings: Settings, organiser_token: str
) -> None:
    _, worker_token = grid_worker(settings)
    _, stranger_token = grid_worker(settings, OTHER_COMMUNITY)
    session_id = await Organiser(gql, organiser_token).open_session(capacity=10)
    phone = new_phone()
    resident_id = (await gql.ok(FIND, elder(phone), worker_token))["residentByPhone"]["id"]
    signup = (await gql.ok(SIGN_UP_FOR, sign_up_for(resident_id, session_id), worker_token))["signUpFor"]

    # Not their community, whether they name it or their own.
    assert await gql.error_code(FIND, elder(phone), stranger_token) == "FORBIDDEN"
    assert await gql.error_code(FIND, elder(phone, OTHER_COMMUNITY), stranger_token) == "FORBIDDEN"
    assert (
        await gql.error_code(SIGN_UP_FOR, sign_up_for(resident_id, session_id), stranger_token) == "FORBIDDEN"
    )
    assert await gql.error_code(TICKET_FOR, {"id": signup["id"]}, stranger_token) == "FORBIDDEN"
    wish = {
        "communityId": COMMUNITY,
        "category": "VISIT",
        "description": "想有人陪着聊聊天",
        "building": "3号楼",
        "idempotencyKey": uuid.uuid4().hex,
        "residentId": resident_id,
    }
    assert await gql.error_code(POST_WISH, {"input": wish}, stranger_token) == "FORBIDDEN"
    # Their own grid worker posts the wish for them.
    posted = (await gql.ok(POST_WISH, {"input": wish}, worker_token))["postWish"]
    assert posted["status"] == "POSTED" and posted["building"] == "3号楼"


async def test_proxy_sign_ups_meet_capacity_and_windows_like_anyone_else(
    gql: GraphQLClient, settings: Settings, organiser_token: str
) -> None:
    _, worker_token = grid_worker(settings)
    organiser = Organiser(gql, organiser_token)
    one_seat = await organiser.open_session(capacity=1)
    later = iso(datetime.now(UTC) + timedelta(hours=1))
    not_open = await organiser.open_session(capacity=5, registrationOpensAt=later)
    first, second = [
        (await gql.ok(FIND, elder(new_phone()), worker_token))["residentByPhone"]["id"] for _ in range(2)
    ]
    answers = [
        (await gql.ok(SIGN_UP_FOR, sign_up_for(r, one_seat), worker_token))["signUpFor"]["status"]
        for r in (first, second)
    ]
    assert answers == ["CONFIRMED", "WAITLISTED"]
    assert (
        await gql.error_code(SIGN_UP_FOR, sign_up_for(first, not_open), worker_token)
        == "REGISTRATION_NOT_OPEN"
    )
    # A resident is no grid worker: they cannot sign someone else up.
    resident_token = token_for(settings, first, {"resident"}, {COMMUNITY})
    assert await gql.error_code(SIGN_UP_FOR, sign_up_for(second, one_seat), resident_token) == "FORBIDDEN"
