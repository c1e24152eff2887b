"""The command path survives what Redis and clients can do to it."""

from __future__ import annotations

import uuid
from typing import Any

from services.common.commands import stream_key
from services.common.settings import Settings
from tests.conftest import COMMUNITY, CREATE_FESTIVAL, SIGN_UP, GraphQLClient, token_for
from tests.dates import FESTIVAL_DAY, day_iso


def festival_input(key: str) -> dict[str, Any]:
    return {
        "input": {
            "name": "邻里节",
            "communityIds": [COMMUNITY],
            "startsOn": day_iso(FESTIVAL_DAY),
            "endsOn": day_iso(FESTIVAL_DAY),
            "idempotencyKey": key,
        }
    }


async def test_two_organisers_using_the_same_key_each_get_their_own_festival(
    gql: GraphQLClient, settings: Settings
) -> None:
    first = token_for(settings, "organiser-first", {"organiser"}, {COMMUNITY})
    second = token_for(settings, "organiser-second", {"organiser"}, {COMMUNITY})

    mine = (await gql.ok(CREATE_FESTIVAL, festival_input("readme-festival"), first))["createFestival"]
    theirs = (await gql.ok(CREATE_FESTIVAL, festival_input("readme-festival"), second))["createFestival"]
    again = (await gql.ok(CREATE_FESTIVAL, festival_input("readme-festival"), first))["createFestival"]

    assert mine["id"] != theirs["id"]
    assert again["id"] == mine["id"]


async def test_commands_are_answered_after_redis_loses_the_stream(
    gql: GraphQLClient, schedule: Any, new_resident: Any, redis: Any, settings: Settings
) -> None:
    session_id = await schedule(capacity=5)
    await redis.delete(stream_key(settings, "activities"))  # as after a restart without persistence
    _, token = new_resident()

    answer = await gql.ok(
        SIGN_UP, {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}}, token
    )

    assert answer["signUp"]["status"] == "CONFIRMED"


async def test_an_unreadable_command_does_not_block_the_ones_behind_it(
    gql: GraphQLClient, schedule: Any, new_resident: Any, redis: Any, settings: Settings
) -> None:
    session_id = await schedule(capacity=5)
    await redis.xadd(stream_key(settings, "activities"), {"c": b"\xff not json"})
    _, token = new_resident()

    answer = await gql.ok(
        SIGN_UP, {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}}, token
    )

    assert answer["signUp"]["status"] == "CONFIRMED"


async def test_a_key_reused_for_another_session_is_refused_not_answered_with_the_first(
    gql: GraphQLClient, schedule: Any, new_resident: Any, redis: Any, settings: Settings, pool: Any
) -> None:
    first, other = await schedule(capacity=5), await schedule(capacity=5)
    resident_id, token = new_resident()
    key = uuid.uuid4().hex

    mine = (await gql.ok(SIGN_UP, {"input": {"sessionId": first, "idempotencyKey": key}}, token))["signUp"]
    reused = {"input": {"sessionId": other, "idempotencyKey": key}}
    body = await gql.raw(SIGN_UP, reused, token)

    assert mine["status"] == "CONFIRMED"
    assert body["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert body["errors"][0]["extensions"]["messageZh"] and body["errors"][0]["extensions"]["messageEn"]
    again = (await gql.ok(SIGN_UP, {"input": {"sessionId": first, "idempotencyKey": key}}, token))["signUp"]
    assert (again["id"], again["status"]) == (mine["id"], "CONFIRMED")
    # Once Redis has forgotten the key (an hour later), the worker still tells the two apart.
    async for claim in redis.scan_iter(match=f"*{stream_key(settings, 'activities')}*:command:*{key}"):
        await redis.delete(claim)
    assert await gql.error_code(SIGN_UP, reused, token) == "IDEMPOTENCY_KEY_REUSED"
    async with pool.acquire() as conn:
        sessions = await conn.fetch(
            "SELECT session_id FROM activities.signups WHERE resident_id = $1", resident_id
        )
    assert [str(row["session_id"]) for row in sessions] == [first]


async def test_a_key_reused_for_another_festival_is_refused(gql: GraphQLClient, organiser_token: str) -> None:
    key = uuid.uuid4().hex
    await gql.ok(CREATE_FESTIVAL, festival_input(key), organiser_token)
    other = festival_input(key)
    other["input"]["name"] = "另一个邻里节"

    assert await gql.error_code(CREATE_FESTIVAL, other, organiser_token) == "IDEMPOTENCY_KEY_REUSED"
