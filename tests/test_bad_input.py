"""Bad input gets a typed GraphQL error with a stable code, and changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

from services.common.settings import Settings
from tests.conftest import (
    COMMUNITY,
    CREATE_ACTIVITY,
    CREATE_FESTIVAL,
    OTHER_COMMUNITY,
    SCHEDULE_SESSION,
    SIGN_UP,
    GraphQLClient,
    token_for,
)
from tests.dates import FESTIVAL_DAY, at_iso, day_iso


def session_input(activity_id: str, **changes: Any) -> dict[str, Any]:
    base = {
        "activityId": activity_id,
        "venue": "西苑社区文化广场",
        "startsAt": at_iso(FESTIVAL_DAY, "09:00"),
        "endsAt": at_iso(FESTIVAL_DAY, "11:00"),
        "capacity": 20,
    }
    return {"input": {**base, **changes}}


async def an_activity(gql: GraphQLClient, token: str) -> str:
    festival = await gql.ok(
        CREATE_FESTIVAL,
        {
            "input": {
                "name": "邻里节",
                "communityIds": [COMMUNITY],
                "startsOn": day_iso(FESTIVAL_DAY),
                "endsOn": day_iso(FESTIVAL_DAY),
            }
        },
        token,
    )
    activity = await gql.ok(
        CREATE_ACTIVITY,
        {
            "input": {
                "festivalId": festival["createFestival"]["id"],
                "communityId": COMMUNITY,
                "title": "剪纸书法",
            }
        },
        token,
    )
    activity_id: str = activity["createActivity"]["id"]
    return activity_id


async def count_sessions(pool: Any, activity_id: str) -> int:
    async with pool.acquire() as conn:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM activities.sessions WHERE activity_id = $1", uuid.UUID(activity_id)
        )
    return count


async def test_a_session_needs_at_least_one_seat(gql: GraphQLClient, organiser_token: str, pool: Any) -> None:
    activity_id = await an_activity(gql, organiser_token)
    body = await gql.raw(SCHEDULE_SESSION, session_input(activity_id, capacity=0), organiser_token)

    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["details"] == {"field": "capacity"}
    assert "名额" in error["extensions"]["messageZh"] and "Capacity" in error["extensions"]["messageEn"]
    assert await count_sessions(pool, activity_id) == 0


async def test_a_session_cannot_end_before_it_starts(
    gql: GraphQLClient, organiser_token: str, pool: Any
) -> None:
    activity_id = await an_activity(gql, organiser_token)
    variables = session_input(activity_id, endsAt=at_iso(FESTIVAL_DAY, "08:00"))

    assert await gql.error_code(SCHEDULE_SESSION, variables, organiser_token) == "BAD_USER_INPUT"
    assert await count_sessions(pool, activity_id) == 0


async def test_signing_up_for_an_unknown_session_is_refused(
    gql: GraphQLClient, new_resident: Any, pool: Any
) -> None:
    resident_id, token = new_resident()
    variables = {"input": {"sessionId": str(uuid.uuid4()), "idempotencyKey": uuid.uuid4().hex}}

    assert await gql.error_code(SIGN_UP, variables, token) == "SESSION_NOT_FOUND"
    async with pool.acquire() as conn:
        assert not await conn.fetchval(
            "SELECT count(*) FROM activities.signups WHERE resident_id = $1", resident_id
        )


async def test_a_malformed_session_id_is_bad_input(gql: GraphQLClient, new_resident: Any) -> None:
    _, token = new_resident()
    variables = {"input": {"sessionId": "not-a-uuid", "idempotencyKey": uuid.uuid4().hex}}
    assert await gql.error_code(SIGN_UP, variables, token) == "BAD_USER_INPUT"


async def test_without_a_token_nothing_can_be_changed(gql: GraphQLClient, schedule: Any) -> None:
    session_id = await schedule(capacity=3)
    variables = {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}}

    assert await gql.error_code(SIGN_UP, variables) == "UNAUTHENTICATED"
    data = await gql.ok("query($id: ID!) { session(id: $id) { seatsLeft } }", {"id": session_id})
    assert data["session"]["seatsLeft"] == 3


async def test_a_forged_token_is_refused(gql: GraphQLClient, settings: Settings) -> None:
    forged = token_for(Settings(secret="not-the-real-secret"), "intruder", {"platform_admin"}, {COMMUNITY})
    assert await gql.error_code("{ myInbox { id } }", token=forged) == "UNAUTHENTICATED"


async def test_an_organiser_cannot_schedule_in_another_community(
    gql: GraphQLClient, organiser_token: str, settings: Settings, pool: Any
) -> None:
    activity_id = await an_activity(gql, organiser_token)
    outsider = token_for(settings, "organiser-elsewhere", {"organiser"}, {OTHER_COMMUNITY})

    assert await gql.error_code(SCHEDULE_SESSION, session_input(activity_id), outsider) == "FORBIDDEN"
    assert await count_sessions(pool, activity_id) == 0


async def test_a_resident_cannot_create_festivals(gql: GraphQLClient, new_resident: Any) -> None:
    _, token = new_resident()
    variables = {
        "input": {
            "name": "假的活动节",
            "communityIds": [COMMUNITY],
            "startsOn": day_iso(FESTIVAL_DAY),
            "endsOn": day_iso(FESTIVAL_DAY),
        }
    }
    assert await gql.error_code(CREATE_FESTIVAL, variables, token) == "FORBIDDEN"


async def test_a_query_that_does_not_parse_gets_a_code_not_a_stack_trace(gql: GraphQLClient) -> None:
    body = await gql.raw("{ festivals { id ")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Traceback" not in str(body)
