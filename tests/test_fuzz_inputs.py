"""Hostile and careless input, generated: any code point, extreme numbers, any date. Whatever
comes, the gateway answers without a 5xx, every refusal carries a code (never STILL_PROCESSING or
an internal error), and a refusal changes nothing in the database."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import COMMUNITY, CREATE_ACTIVITY, CREATE_FESTIVAL, SCHEDULE_SESSION, SIGN_UP
from tests.dates import FESTIVAL_DAY, at, day

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Not answers to careless input but faults: a stuck command, a bug, a command given up on.
FAULTS = {"INTERNAL_ERROR", "STILL_PROCESSING", "COMMAND_FAILED", "SERVICE_UNAVAILABLE"}

# Any code point, surrogates, NUL and escapes included, mixed with ordinary Chinese text.
any_char = st.one_of(st.integers(0, 0x10FFFF).map(chr), st.sampled_from("节邻里\u0000\x1b\n\t\u2028 é"))
any_text = st.text(any_char, max_size=260)
extreme_int = st.one_of(
    st.integers(-(2**31), 2**31 - 1), st.sampled_from([0, -1, 1, 10**9, 2**31 - 1, 2**40, -(2**63)])
)
any_day = st.one_of(
    st.dates(date(1, 1, 1), date(9999, 12, 31)), st.builds(lambda n: day(n), st.integers(-800, 800))
)
any_time = st.one_of(
    st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30), timezones=st.just(UTC)),
    st.builds(lambda n, h: at(n, f"{h:02d}:00"), st.integers(-800, 800), st.integers(0, 23)),
)
maybe_key = st.one_of(st.none(), any_text, st.just(uuid.uuid4().hex))


async def send(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str
) -> dict[str, Any]:
    # ASCII JSON, as JSON.stringify may send it too: a lone surrogate travels as \\ud800.
    response = await client.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text
    body: dict[str, Any] = response.json()
    for error in body.get("errors") or []:
        code = error.get("extensions", {}).get("code")
        assert code and code not in FAULTS, (variables, error)
        assert error["extensions"].get("messageZh") or code == "BAD_USER_INPUT", error
    return body


async def count(pool: Any, sql: str, *args: Any) -> int:
    async with pool.acquire() as conn:
        found: int = await conn.fetchval(sql, *args)
    return found


def iso(value: date | datetime) -> str:
    return value.isoformat()


@FUZZ
@given(
    name=any_text,
    community=st.one_of(st.just(COMMUNITY), any_text),
    starts=any_day,
    ends=any_day,
    limit=st.one_of(st.none(), extreme_int),
    key=maybe_key,
)
async def test_create_festival_takes_anything_without_a_fault(
    client: httpx.AsyncClient,
    organiser_token: str,
    pool: Any,
    name: str,
    community: str,
    starts: date,
    ends: date,
    limit: int | None,
    key: str | None,
) -> None:
    variables = {
        "input": {
            "name": name,
            "communityIds": [community],
            "startsOn": iso(starts),
            "endsOn": iso(ends),
            "maxSessionsPerResident": limit,
            "idempotencyKey": key,
        }
    }
    before = await count(pool, "SELECT count(*) FROM activities.festivals")
    body = await send(client, CREATE_FESTIVAL, variables, organiser_token)
    if body.get("errors"):
        assert await count(pool, "SELECT count(*) FROM activities.festivals") == before


@FUZZ
@given(
    title=any_text,
    category=any_text,
    description=st.text(any_char, max_size=2100),
    capacity=extreme_int,
    party=extreme_int,
    starts=any_time,
    ends=any_time,
    venue=any_text,
)
async def test_activities_and_sessions_take_anything_without_a_fault(
    client: httpx.AsyncClient,
    organiser_token: str,
    pool: Any,
    title: str,
    category: str,
    description: str,
    capacity: int,
    party: int,
    starts: datetime,
    ends: datetime,
    venue: str,
) -> None:
    festival = await send(
        client,
        CREATE_FESTIVAL,
        {
            "input": {
                "name": "邻里节",
                "communityIds": [COMMUNITY],
                "startsOn": iso(day(FESTIVAL_DAY)),
                "endsOn": iso(day(FESTIVAL_DAY)),
                "idempotencyKey": uuid.uuid4().hex,  # a festival of this example's own
            }
        },
        organiser_token,
    )
    festival_id = festival["data"]["createFestival"]["id"]
    activity_input = {
        "festivalId": festival_id,
        "communityId": COMMUNITY,
        "title": title,
        "category": category,
        "description": description,
    }
    made = await send(client, CREATE_ACTIVITY, {"input": activity_input}, organiser_token)
    in_festival = "SELECT count(*) FROM activities.activities WHERE festival_id = $1"
    if made.get("errors"):
        assert await count(pool, in_festival, uuid.UUID(festival_id)) == 0
        activity_input.update(title="剪纸", category="", description="")
        made = await send(client, CREATE_ACTIVITY, {"input": activity_input}, organiser_token)
    activity_id = made["data"]["createActivity"]["id"]

    session = {
        "activityId": activity_id,
        "venue": venue,
        "startsAt": iso(starts),
        "endsAt": iso(ends),
        "capacity": capacity,
        "maxPartySize": party,
    }
    scheduled = await send(client, SCHEDULE_SESSION, {"input": session}, organiser_token)
    if scheduled.get("errors"):
        sessions = "SELECT count(*) FROM activities.sessions WHERE activity_id = $1"
        assert await count(pool, sessions, uuid.UUID(activity_id)) == 0


@FUZZ
@given(session=st.one_of(st.none(), any_text), party=extreme_int, key=any_text)
async def test_sign_up_takes_anything_without_a_fault(
    client: httpx.AsyncClient,
    schedule: Any,
    new_resident: Any,
    pool: Any,
    session: str | None,
    party: int,
    key: str,
) -> None:
    real = await schedule(capacity=3)
    resident_id, token = new_resident()
    variables = {
        "input": {
            "sessionId": real if session is None else session,
            "partySize": party,
            "idempotencyKey": key,
        }
    }

    body = await send(client, SIGN_UP, variables, token)

    held = await count(pool, "SELECT count(*) FROM activities.signups WHERE resident_id = $1", resident_id)
    assert held == (0 if body.get("errors") else 1)


CREATE_SHIFT = "mutation($input: CreateShiftInput!) { createShift(input: $input) { id } }"


@FUZZ
@given(venue=any_text, role=any_text, starts=any_time, ends=any_time, headcount=extreme_int, phone=any_text)
async def test_create_shift_takes_anything_without_a_fault(
    client: httpx.AsyncClient,
    organiser_token: str,
    pool: Any,
    venue: str,
    role: str,
    starts: datetime,
    ends: datetime,
    headcount: int,
    phone: str,
) -> None:
    shift = {
        "communityId": COMMUNITY,
        "venue": venue,
        "role": role,
        "startsAt": iso(starts),
        "endsAt": iso(ends),
        "headcount": headcount,
        "contactPhone": phone or None,
    }
    before = await count(pool, "SELECT count(*) FROM volunteers.shifts")
    body = await send(client, CREATE_SHIFT, {"input": shift}, organiser_token)
    if body.get("errors"):
        assert await count(pool, "SELECT count(*) FROM volunteers.shifts") == before
