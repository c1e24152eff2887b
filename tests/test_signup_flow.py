"""The foundation slice, end to end: organiser schedules, residents sign up, inboxes fill."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from services.common.outbox import relay_once
from services.common.settings import Settings
from services.notify.contracts import CONSUMES
from tests.conftest import SIGN_UP, GraphQLClient, eventually

INBOX = "{ myInbox { kind title body titleEn read } }"


async def sign_up(gql: GraphQLClient, token: str, session_id: str, key: str | None = None) -> Any:
    variables = {"input": {"sessionId": session_id, "idempotencyKey": key or uuid.uuid4().hex}}
    return (await gql.ok(SIGN_UP, variables, token))["signUp"]


async def test_a_resident_signs_up_and_finds_the_confirmation_in_her_inbox(
    gql: GraphQLClient, schedule: Any, new_resident: Any
) -> None:
    session_id = await schedule(capacity=5)
    _, token = new_resident()

    signup = await sign_up(gql, token, session_id)

    assert signup["status"] == "CONFIRMED"
    inbox = await eventually(lambda: _inbox(gql, token))
    assert [m["kind"] for m in inbox] == ["signup.confirmed"]
    assert "报名成功" in inbox[0]["title"] and "朔方社区邻里驿家" in inbox[0]["body"]
    session = await gql.ok("query($id: ID!) { session(id: $id) { seatsLeft } }", {"id": session_id})
    assert session["session"]["seatsLeft"] == 4


async def _inbox(gql: GraphQLClient, token: str) -> list[dict[str, Any]]:
    data = await gql.ok(INBOX, token=token)
    messages: list[dict[str, Any]] = data["myInbox"]
    return messages


async def test_once_the_session_is_full_residents_are_waitlisted_in_arrival_order(
    gql: GraphQLClient, schedule: Any, new_resident: Any
) -> None:
    session_id = await schedule(capacity=2)
    answers = [await sign_up(gql, new_resident()[1], session_id) for _ in range(4)]

    assert [a["status"] for a in answers] == ["CONFIRMED", "CONFIRMED", "WAITLISTED", "WAITLISTED"]
    assert [a["waitlistPosition"] for a in answers[2:]] == [1, 2]
    session = await gql.ok(
        "query($id: ID!) { session(id: $id) { seatsLeft waitlistLength } }", {"id": session_id}
    )
    assert session["session"] == {"seatsLeft": 0, "waitlistLength": 2}


async def test_the_same_idempotency_key_twice_makes_one_signup(
    gql: GraphQLClient, schedule: Any, new_resident: Any, pool: Any
) -> None:
    session_id = await schedule(capacity=3)
    resident_id, token = new_resident()

    first, second = await asyncio.gather(
        sign_up(gql, token, session_id, key="retry-key-0001"),
        sign_up(gql, token, session_id, key="retry-key-0001"),
    )
    third = await sign_up(gql, token, session_id, key="retry-key-0001")

    assert first["id"] == second["id"] == third["id"]
    assert {first["status"], second["status"], third["status"]} == {"CONFIRMED"}
    async with pool.acquire() as conn:
        rows = await conn.fetchval(
            "SELECT count(*) FROM activities.signups WHERE resident_id = $1", resident_id
        )
        taken = await conn.fetchval(
            "SELECT taken FROM activities.sessions WHERE id = $1", uuid.UUID(session_id)
        )
    assert (rows, taken) == (1, 1)


async def test_a_second_signup_with_a_new_key_is_refused_and_changes_nothing(
    gql: GraphQLClient, schedule: Any, new_resident: Any
) -> None:
    session_id = await schedule(capacity=3)
    _, token = new_resident()
    await sign_up(gql, token, session_id)

    variables = {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}}
    assert await gql.error_code(SIGN_UP, variables, token) == "ALREADY_SIGNED_UP"
    session = await gql.ok("query($id: ID!) { session(id: $id) { seatsLeft } }", {"id": session_id})
    assert session["session"]["seatsLeft"] == 2


async def test_an_event_relayed_twice_makes_one_inbox_message(
    gql: GraphQLClient,
    schedule: Any,
    new_resident: Any,
    pool: Any,
    redis: Any,
    settings: Settings,
) -> None:
    session_id = await schedule(capacity=3)
    resident_id, token = new_resident()
    await sign_up(gql, token, session_id)
    assert await eventually(lambda: _inbox(gql, token))

    # Redeliver the same event: once by the relay after "losing" its sent mark, and once more
    # as a brand-new job (as after Redis forgot the first job's id).
    async with pool.acquire() as conn:
        event = await conn.fetchrow(
            "SELECT id, type, payload, created_at FROM activities.outbox WHERE payload->>'resident_id' = $1",
            resident_id,
        )
        await conn.execute("UPDATE activities.outbox SET sent_at = NULL WHERE id = $1", event["id"])
    assert await relay_once(pool, redis, settings, "activities", {"notify": CONSUMES}) >= 1
    envelope = {
        "id": str(event["id"]),
        "type": event["type"],
        "source": "activities",
        "payload": event["payload"],
        "created_at": event["created_at"].isoformat(),
    }
    job = await redis.enqueue_job(
        "handle_events",
        [envelope],
        _queue_name=settings.queue("notify"),
        _job_id=f"{settings.namespace}:redeliver",
    )
    assert await job.result(timeout=10, poll_delay=0.05) == 0  # processed, wrote nothing

    assert len(await _inbox(gql, token)) == 1


async def test_one_resident_pressing_twice_with_new_keys_gets_one_seat(
    gql: GraphQLClient, schedule: Any, new_resident: Any
) -> None:
    session_id = await schedule(capacity=5)
    _, token = new_resident()

    answers = await asyncio.gather(
        *(
            gql.raw(SIGN_UP, {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}}, token)
            for _ in range(4)
        )
    )

    statuses = sorted(
        a["data"]["signUp"]["status"]
        if a.get("data") and a["data"].get("signUp")
        else a["errors"][0]["extensions"]["code"]
        for a in answers
    )
    assert statuses == ["ALREADY_SIGNED_UP"] * 3 + ["CONFIRMED"]
    session = await gql.ok("query($id: ID!) { session(id: $id) { seatsLeft } }", {"id": session_id})
    assert session["session"]["seatsLeft"] == 4


async def test_a_resident_cannot_read_a_neighbours_signup(
    gql: GraphQLClient, schedule: Any, new_resident: Any
) -> None:
    session_id = await schedule(capacity=3)
    _, wang = new_resident()
    _, li = new_resident()
    signup = await sign_up(gql, wang, session_id)

    query = "query($id: ID!) { signup(id: $id) { id status } }"
    assert await gql.error_code(query, {"id": signup["id"]}, li) == "FORBIDDEN"
    assert (await gql.ok("{ mySignups { id } }", token=li))["mySignups"] == []
    assert (await gql.ok(query, {"id": signup["id"]}, wang))["signup"]["status"] == "CONFIRMED"
