"""Cancellations, end to end: a resident withdraws and the waitlist moves up; organisers call a
session off and everyone signed up hears about it once."""

from __future__ import annotations

import uuid
from typing import Any

from services.activities import contracts
from services.common.actor import ORGANISER, RESIDENT, Actor
from services.common.commands import CommandBus
from services.common.settings import Settings
from tests.conftest import OTHER_COMMUNITY, SIGN_UP, GraphQLClient, eventually, token_for

CANCEL_SIGNUP = """
mutation($input: CancelSignupInput!) { cancelSignup(input: $input) { id status partySize } }
"""
CANCEL_SESSION = """
mutation($input: CancelSessionInput!) {
  cancelSession(input: $input) { id status cancelReason seatsTaken seatsLeft waitlistLength }
}
"""
SIGNUP = "query($id: ID!) { signup(id: $id) { id status partySize waitlistPosition } }"
SESSION = """
query($id: ID!) { session(id: $id) { status cancelReason seatsTaken seatsLeft waitlistLength } }
"""
INBOX = "{ myInbox { kind title body titleEn bodyEn } }"


class Resident:
    """A resident of the test community with one sign-up for the session at hand."""

    def __init__(self, gql: GraphQLClient, user_id: str, token: str) -> None:
        self.gql, self.user_id, self.token = gql, user_id, token
        self.signup_id = ""

    async def sign_up(self, session_id: str, party_size: int = 1) -> str:
        variables = {
            "input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex, "partySize": party_size}
        }
        answer = (await self.gql.ok(SIGN_UP, variables, self.token))["signUp"]
        self.signup_id = answer["id"]
        status: str = answer["status"]
        return status

    async def cancel(self, signup_id: str | None = None, key: str | None = None) -> dict[str, Any]:
        return await self.gql.raw(CANCEL_SIGNUP, self._cancel_input(signup_id, key), self.token)

    def _cancel_input(self, signup_id: str | None, key: str | None) -> dict[str, Any]:
        return {"input": {"signupId": signup_id or self.signup_id, "idempotencyKey": key or uuid.uuid4().hex}}

    async def signup(self) -> dict[str, Any]:
        found: dict[str, Any] = (await self.gql.ok(SIGNUP, {"id": self.signup_id}, self.token))["signup"]
        return found

    async def inbox(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = (await self.gql.ok(INBOX, token=self.token))["myInbox"]
        return messages

    async def messages_of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in await self.inbox() if m["kind"] == kind]


async def _session(gql: GraphQLClient, session_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await gql.ok(SESSION, {"id": session_id}))["session"]
    return found


def _cancel_session_input(session_id: str, key: str | None = None) -> dict[str, Any]:
    return {
        "input": {
            "sessionId": session_id,
            "reason": "暴雨红色预警",
            "idempotencyKey": key or uuid.uuid4().hex,
        }
    }


async def _residents(gql: GraphQLClient, new_resident: Any, count: int) -> list[Resident]:
    return [Resident(gql, *new_resident()) for _ in range(count)]


async def test_a_freed_seat_skips_the_waiting_family_and_goes_to_the_single_behind_it(
    gql: GraphQLClient, schedule: Any, new_resident: Any
) -> None:
    session_id = await schedule(capacity=3)
    leaving, couple, family, single, last = await _residents(gql, new_resident, 5)
    assert await leaving.sign_up(session_id) == "CONFIRMED"
    assert await couple.sign_up(session_id, party_size=2) == "CONFIRMED"
    assert await family.sign_up(session_id, party_size=3) == "WAITLISTED"
    assert await single.sign_up(session_id) == "WAITLISTED"
    assert await last.sign_up(session_id) == "WAITLISTED"

    answer = await leaving.cancel()

    assert answer["data"]["cancelSignup"]["status"] == "CANCELLED"
    assert (await single.signup())["status"] == "CONFIRMED"
    assert await family.signup() == {
        "id": family.signup_id,
        "status": "WAITLISTED",
        "partySize": 3,
        "waitlistPosition": 1,
    }
    assert (await last.signup())["waitlistPosition"] == 2
    assert await _session(gql, session_id) == {
        "status": "SCHEDULED",
        "cancelReason": None,
        "seatsTaken": 3,
        "seatsLeft": 0,
        "waitlistLength": 2,
    }
    cancelled = await eventually(lambda: leaving.messages_of_kind("signup.cancelled"))
    promoted = await eventually(lambda: single.messages_of_kind("waitlist.promoted"))
    assert len(cancelled) == 1 and "已取消报名" in cancelled[0]["title"]
    assert len(promoted) == 1 and "候补成功" in promoted[0]["title"]
    assert "朔方社区邻里驿家" in promoted[0]["body"]
    assert await family.messages_of_kind("waitlist.promoted") == []


async def test_when_a_family_leaves_the_seats_fill_from_the_head_of_the_waitlist(
    gql: GraphQLClient, schedule: Any, new_resident: Any
) -> None:
    session_id = await schedule(capacity=4)
    family, big_family, first, second, third = await _residents(gql, new_resident, 5)
    assert await family.sign_up(session_id, party_size=4) == "CONFIRMED"
    assert await big_family.sign_up(session_id, party_size=5) == "WAITLISTED"  # never fits
    assert await first.sign_up(session_id, party_size=2) == "WAITLISTED"
    assert await second.sign_up(session_id, party_size=2) == "WAITLISTED"
    assert await third.sign_up(session_id) == "WAITLISTED"

    await family.cancel()

    statuses = [(await r.signup())["status"] for r in (big_family, first, second, third)]
    assert statuses == ["WAITLISTED", "CONFIRMED", "CONFIRMED", "WAITLISTED"]
    assert (await _session(gql, session_id))["seatsTaken"] == 4


async def test_a_cancelled_signup_cannot_be_cancelled_again_but_the_same_request_may_retry(
    gql: GraphQLClient, schedule: Any, new_resident: Any
) -> None:
    session_id = await schedule(capacity=2)
    [resident] = await _residents(gql, new_resident, 1)
    await resident.sign_up(session_id)
    key = uuid.uuid4().hex

    first = await resident.cancel(key=key)
    retried = await resident.cancel(key=key)
    again = await resident.cancel()

    assert first["data"] == retried["data"]
    assert first["data"]["cancelSignup"]["status"] == "CANCELLED"
    assert again["errors"][0]["extensions"]["code"] == "ALREADY_CANCELLED"
    assert (await _session(gql, session_id))["seatsTaken"] == 0
    await eventually(lambda: resident.messages_of_kind("signup.cancelled"))
    assert len(await resident.messages_of_kind("signup.cancelled")) == 1
    # with the old sign-up cancelled, signing up anew is allowed
    assert await resident.sign_up(session_id) == "CONFIRMED"


async def test_a_resident_cannot_cancel_a_neighbours_signup(
    gql: GraphQLClient, schedule: Any, new_resident: Any
) -> None:
    session_id = await schedule(capacity=2)
    owner, neighbour = await _residents(gql, new_resident, 2)
    await owner.sign_up(session_id)

    answer = await neighbour.cancel(signup_id=owner.signup_id)

    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await owner.signup())["status"] == "CONFIRMED"
    missing = await neighbour.cancel(signup_id=str(uuid.uuid4()))
    assert missing["errors"][0]["extensions"]["code"] == "SIGNUP_NOT_FOUND"


async def test_a_cancelled_session_tells_everyone_signed_up_exactly_once(
    gql: GraphQLClient, schedule: Any, new_resident: Any, organiser_token: str
) -> None:
    session_id = await schedule(capacity=3)
    residents = await _residents(gql, new_resident, 4)
    single, family, waiting, also_waiting = residents
    assert await single.sign_up(session_id) == "CONFIRMED"
    assert await family.sign_up(session_id, party_size=2) == "CONFIRMED"
    assert await waiting.sign_up(session_id, party_size=2) == "WAITLISTED"
    assert await also_waiting.sign_up(session_id) == "WAITLISTED"
    bystander = Resident(gql, *new_resident())

    answer = await gql.ok(CANCEL_SESSION, _cancel_session_input(session_id), organiser_token)

    expected = {
        "status": "CANCELLED",
        "cancelReason": "暴雨红色预警",
        "seatsTaken": 0,
        "seatsLeft": 3,
        "waitlistLength": 0,
    }
    assert answer["cancelSession"] == {"id": session_id, **expected}
    assert await _session(gql, session_id) == expected
    assert [(await r.signup())["status"] for r in residents] == ["CANCELLED"] * 4
    for resident in residents:
        told = await eventually(lambda r=resident: r.messages_of_kind("session.cancelled"))
        assert len(told) == 1
        assert "暴雨红色预警" in told[0]["body"] and "Reason: 暴雨红色预警" in told[0]["bodyEn"]
    assert await bystander.inbox() == []

    refused = await gql.raw(
        SIGN_UP, {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}}, bystander.token
    )
    assert refused["errors"][0]["extensions"]["code"] == "SESSION_CANCELLED"
    twice = await gql.raw(CANCEL_SESSION, _cancel_session_input(session_id), organiser_token)
    assert twice["errors"][0]["extensions"]["code"] == "ALREADY_CANCELLED"
    # every affected resident still has exactly one message about it
    for resident in residents:
        assert len(await resident.messages_of_kind("session.cancelled")) == 1


async def test_an_organiser_of_another_community_cannot_cancel_and_nothing_changes(
    gql: GraphQLClient, schedule: Any, new_resident: Any, settings: Settings, redis: Any
) -> None:
    session_id = await schedule(capacity=1)
    confirmed, waiting = await _residents(gql, new_resident, 2)
    await confirmed.sign_up(session_id)
    await waiting.sign_up(session_id)
    before = await _session(gql, session_id)
    outsider_id = f"organiser-{uuid.uuid4().hex[:6]}"
    outsider = token_for(settings, outsider_id, {ORGANISER}, {OTHER_COMMUNITY})

    code = await gql.error_code(CANCEL_SESSION, _cancel_session_input(session_id), outsider)
    resident_code = await gql.error_code(CANCEL_SESSION, _cancel_session_input(session_id), confirmed.token)

    # The worker re-checks on its own: the same command sent past the gateway is refused too.
    bus = CommandBus(redis, settings)
    await bus.start()
    try:
        actor = Actor(outsider_id, frozenset({ORGANISER}), frozenset({OTHER_COMMUNITY}))
        args = {"session_id": session_id, "reason": "想取消", "key": uuid.uuid4().hex}
        reply = await bus.send(
            contracts.SERVICE, contracts.CANCEL_SESSION, actor, args, key=f"direct:{args['key']}"
        )
    finally:
        await bus.stop()

    assert (code, resident_code) == ("FORBIDDEN", "FORBIDDEN")
    assert reply is not None and reply.refusal is not None and reply.refusal.code == "FORBIDDEN"
    assert await _session(gql, session_id) == before
    assert before["status"] == "SCHEDULED"
    assert [(await r.signup())["status"] for r in (confirmed, waiting)] == ["CONFIRMED", "WAITLISTED"]


async def test_a_cancellation_run_again_after_its_result_expired_answers_the_same_and_tells_once(
    gql: GraphQLClient, schedule: Any, new_resident: Any, settings: Settings, redis: Any, pool: Any
) -> None:
    session_id = await schedule(capacity=1)
    leaving, waiting = await _residents(gql, new_resident, 2)
    await leaving.sign_up(session_id)
    await waiting.sign_up(session_id)
    key = uuid.uuid4().hex
    first = await leaving.cancel(key=key)

    # arq forgot the first job (its result expired), so the same request runs a second time.
    bus = CommandBus(redis, settings)
    await bus.start()
    try:
        actor = Actor(leaving.user_id, frozenset({RESIDENT}), frozenset())
        args = {"signup_id": leaving.signup_id, "key": key}
        reply = await bus.send(
            contracts.SERVICE, contracts.CANCEL_SIGNUP, actor, args, key=f"rerun:{uuid.uuid4().hex}"
        )
    finally:
        await bus.stop()

    assert reply is not None and reply.refusal is None
    assert reply.unwrap()["status"] == first["data"]["cancelSignup"]["status"] == "CANCELLED"
    assert (await waiting.signup())["status"] == "CONFIRMED"
    async with pool.acquire() as conn:
        events = await conn.fetch(
            "SELECT type FROM activities.outbox WHERE payload->>'session_id' = $1", session_id
        )
    assert sorted(e["type"] for e in events) == [
        "signup.cancelled",
        "signup.confirmed",
        "signup.waitlisted",
        "waitlist.promoted",
    ]
