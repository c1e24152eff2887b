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
