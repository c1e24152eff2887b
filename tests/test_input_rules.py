"""Input refused at the door: the same scalar rules for every input (text, times, counts), a
BAD_USER_INPUT naming the field in Chinese and English, and nothing changed in the database."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import pytest

from services.activities import domain as activities_domain
from services.common.clock import now
from services.common.errors import Refusal
from services.common.rules import clean_text
from services.gateway.inputs import clean_argument
from services.volunteers import domain as volunteers_domain
from tests.conftest import (
    COMMUNITY,
    CREATE_ACTIVITY,
    CREATE_FESTIVAL,
    SCHEDULE_SESSION,
    SIGN_UP,
    GraphQLClient,
)
from tests.dates import FESTIVAL_DAY, at, at_iso, day_iso

CREATE_SHIFT = "mutation($input: CreateShiftInput!) { createShift(input: $input) { id } }"


def festival(**changes: Any) -> dict[str, Any]:
    base = {
        "name": "邻里节",
        "communityIds": [COMMUNITY],
        "startsOn": day_iso(FESTIVAL_DAY),
        "endsOn": day_iso(FESTIVAL_DAY + 1),
        "idempotencyKey": uuid.uuid4().hex,
    }
    return {"input": {**base, **changes}}


async def refused(gql: GraphQLClient, query: str, variables: dict[str, Any], token: str, field: str) -> None:
    body = await gql.raw(query, variables, token)
    assert body.get("errors"), body
    extensions = body["errors"][0]["extensions"]
    assert extensions["code"] == "BAD_USER_INPUT", extensions
    assert extensions["details"]["field"] == field, extensions
    assert extensions["messageZh"] and extensions["messageEn"]


async def festivals_named(pool: Any, name: str) -> int:
    async with pool.acquire() as conn:
        count: int = await conn.fetchval("SELECT count(*) FROM activities.festivals WHERE name = $1", name)
    return count


async def an_activity(gql: GraphQLClient, token: str) -> str:
    made = await gql.ok(CREATE_FESTIVAL, festival(), token)
    activity = await gql.ok(
        CREATE_ACTIVITY,
        {"input": {"festivalId": made["createFestival"]["id"], "communityId": COMMUNITY, "title": "剪纸"}},
        token,
    )
    activity_id: str = activity["createActivity"]["id"]
    return activity_id


def session(activity_id: str, **changes: Any) -> dict[str, Any]:
    base = {
        "activityId": activity_id,
        "venue": "朔方社区邻里驿家",
        "startsAt": at_iso(FESTIVAL_DAY, "09:00"),
        "endsAt": at_iso(FESTIVAL_DAY, "11:00"),
        "capacity": 20,
        "idempotencyKey": uuid.uuid4().hex,
    }
    return {"input": {**base, **changes}}


async def sessions_of(pool: Any, activity_id: str) -> int:
    async with pool.acquire() as conn:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM activities.sessions WHERE activity_id = $1", uuid.UUID(activity_id)
        )
    return count


async def test_a_nul_byte_is_refused_at_once_and_the_next_festival_goes_through(
    gql: GraphQLClient, organiser_token: str, pool: Any
) -> None:
    started = time.monotonic()
    await refused(gql, CREATE_FESTIVAL, festival(name="节\u0000"), organiser_token, "name")
    assert time.monotonic() - started < 2  # not STILL_PROCESSING after the reply timeout

    name = f"邻里节 {uuid.uuid4().hex[:6]}"
    made = await gql.ok(CREATE_FESTIVAL, festival(name=name), organiser_token)
    assert made["createFestival"]["name"] == name
    assert await festivals_named(pool, "节\u0000".replace("\u0000", "")) == 0


async def test_control_characters_and_escapes_are_refused_in_names_titles_and_places(
    gql: GraphQLClient, organiser_token: str, pool: Any
) -> None:
    await refused(gql, CREATE_FESTIVAL, festival(name="\x1b[31m邻里节\x1b[0m"), organiser_token, "name")
    await refused(gql, CREATE_FESTIVAL, festival(name="邻里\n节"), organiser_token, "name")
    await refused(
        gql, CREATE_FESTIVAL, festival(communityIds=["lingwu\u0000"]), organiser_token, "communityIds"
    )
    activity_id = await an_activity(gql, organiser_token)
    made = await gql.ok(CREATE_FESTIVAL, festival(), organiser_token)
    await refused(
        gql,
        CREATE_ACTIVITY,
        {
            "input": {
                "festivalId": made["createFestival"]["id"],
                "communityId": COMMUNITY,
                "title": "剪\u0007纸",
            }
        },
        organiser_token,
        "title",
    )
    await refused(gql, SCHEDULE_SESSION, session(activity_id, venue="驿家\u009b2J"), organiser_token, "venue")
    assert await sessions_of(pool, activity_id) == 0


async def test_text_is_stored_nfc_and_a_description_may_have_paragraphs(
    gql: GraphQLClient, organiser_token: str
) -> None:
    decomposed = f"Cafe\u0301 {uuid.uuid4().hex[:6]}"
    made = await gql.ok(CREATE_FESTIVAL, festival(name=decomposed), organiser_token)
    assert made["createFestival"]["name"] == decomposed.replace("e\u0301", "\u00e9")

    activity = await gql.ok(
        "mutation($input: CreateActivityInput!) { createActivity(input: $input) { id description } }",
        {
            "input": {
                "festivalId": made["createFestival"]["id"],
                "communityId": COMMUNITY,
                "title": "剪纸",
                "description": "第一段\n\t第二段",
            }
        },
        organiser_token,
    )
    assert activity["createActivity"]["description"] == "第一段\n\t第二段"


async def test_a_name_of_a_thousand_characters_is_refused(
    gql: GraphQLClient, organiser_token: str, pool: Any
) -> None:
    await refused(gql, CREATE_FESTIVAL, festival(name="节" * 1000), organiser_token, "name")
    assert await festivals_named(pool, "节" * 1000) == 0


async def test_festivals_in_the_past_or_years_ahead_are_refused(
    gql: GraphQLClient, organiser_token: str, pool: Any
) -> None:
    name = f"旧节 {uuid.uuid4().hex[:6]}"
    years_ago = festival(name=name, startsOn=day_iso(-6 * 365), endsOn=day_iso(-6 * 365 + 1))
    await refused(gql, CREATE_FESTIVAL, years_ago, organiser_token, "endsOn")
    too_far = festival(name=name, startsOn=day_iso(3 * 365), endsOn=day_iso(3 * 365 + 1))
    await refused(gql, CREATE_FESTIVAL, too_far, organiser_token, "endsOn")
    assert await festivals_named(pool, name) == 0


async def test_sessions_past_huge_or_of_zero_party_size_are_refused(
    gql: GraphQLClient, organiser_token: str, pool: Any
) -> None:
    activity_id = await an_activity(gql, organiser_token)
    ended = session(activity_id, startsAt=at_iso(-6 * 365, "09:00"), endsAt=at_iso(-6 * 365, "11:00"))
    await refused(gql, SCHEDULE_SESSION, ended, organiser_token, "endsAt")
    far = session(activity_id, startsAt=at_iso(3 * 365, "09:00"), endsAt=at_iso(3 * 365, "11:00"))
    await refused(gql, SCHEDULE_SESSION, far, organiser_token, "endsAt")
    await refused(
        gql, SCHEDULE_SESSION, session(activity_id, capacity=1_000_000_000), organiser_token, "capacity"
    )
    await refused(
        gql, SCHEDULE_SESSION, session(activity_id, maxPartySize=0), organiser_token, "maxPartySize"
    )
    assert await sessions_of(pool, activity_id) == 0


async def test_a_shift_in_the_past_is_refused(gql: GraphQLClient, organiser_token: str, pool: Any) -> None:
    venue = f"朔方社区党群服务中心 {uuid.uuid4().hex[:6]}"
    shift = {
        "input": {
            "communityId": COMMUNITY,
            "venue": venue,
            "role": "秩序维护",
            "startsAt": at_iso(-400, "09:00"),
            "endsAt": at_iso(-400, "11:00"),
            "headcount": 3,
        }
    }
    await refused(gql, CREATE_SHIFT, shift, organiser_token, "endsAt")
    async with pool.acquire() as conn:
        assert not await conn.fetchval("SELECT count(*) FROM volunteers.shifts WHERE venue = $1", venue)


async def test_a_session_that_has_ended_takes_no_sign_ups(
    gql: GraphQLClient, schedule: Any, new_resident: Any, pool: Any
) -> None:
    session_id = await schedule(capacity=5)
    async with pool.acquire() as conn:  # time passes: the session is over
        await conn.execute(
            "UPDATE activities.sessions SET starts_at = now() - interval '3 hours', "
            "ends_at = now() - interval '1 hour' WHERE id = $1",
            uuid.UUID(session_id),
        )
    resident_id, token = new_resident()

    variables = {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}}
    assert await gql.error_code(SIGN_UP, variables, token) == "SESSION_ENDED"
    async with pool.acquire() as conn:
        assert not await conn.fetchval(
            "SELECT count(*) FROM activities.signups WHERE resident_id = $1", resident_id
        )


# --- the same rules in the domain, for anything a command could carry ------------------------


def test_the_domain_refuses_what_the_door_refuses() -> None:
    plan = activities_domain.SessionPlan("驿家", at(-3 * 365), at(-3 * 365) + timedelta(hours=2), 20)
    with pytest.raises(Refusal) as past:
        activities_domain.check_session(plan, now=now())
    assert past.value.details == {"field": "endsAt"}
    with pytest.raises(Refusal) as huge:
        activities_domain.check_session(
            activities_domain.SessionPlan("驿家", at(7), at(7) + timedelta(hours=2), 10**9), now=now()
        )
    assert huge.value.details == {"field": "capacity"}
    with pytest.raises(Refusal) as nul:
        activities_domain.check_name("name", "节\u0000")
    assert nul.value.code == "BAD_USER_INPUT"
    with pytest.raises(Refusal):
        volunteers_domain.check_text("venue", "广场\x1b[2J")
    assert clean_text("note", "a\r\nb\u2028c", paragraph=True, limit=10) == "a\nb\nc"


def test_a_scanned_code_loses_the_line_break_a_hand_scanner_adds_but_a_password_is_kept_as_typed() -> None:
    assert clean_argument("card", "v1.abc\r\n") == "v1.abc"
    assert clean_argument("password", "Cafe\u0301 pass") == "Cafe\u0301 pass"
    assert clean_argument("name", ["Cafe\u0301"]) == ["Caf\u00e9"]
    assert clean_argument("kind", activities_domain.VenueKind.ROOM) is activities_domain.VenueKind.ROOM
    with pytest.raises(Refusal):
        clean_argument("password", "pass\u0000word")
