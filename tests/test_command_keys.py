"""One way to send a command: without a client's key, a double click or a retry is done once,
and the same request made again after the state moved on is a new one; a client's key sent
again with other arguments is refused."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.gateway.commands import derived_key
from tests.conftest import COMMUNITY, CREATE_FESTIVAL, GraphQLClient, open_session, token_for
from tests.dates import FESTIVAL_DAY, day_iso

CREATE_VENUE = "mutation($input: CreateVenueInput!) { createVenue(input: $input) { id capacity } }"
CREATE_SHIFT = "mutation($input: CreateShiftInput!) { createShift(input: $input) { id role } }"
PUBLISH = """
mutation($id: ID!, $published: Boolean!) {
  setFestivalPublished(festivalId: $id, published: $published) { published }
}
"""
FESTIVAL = "query($id: ID!) { festival(id: $id) { published } }"
SET_PREFERENCES = """
mutation($input: NotificationPreferencesInput!) { setNotificationPreferences(input: $input) { channels } }
"""
MY_PREFERENCES = "{ myNotificationPreferences { channels } }"
CHANGE_CAPACITY = """
mutation($input: ChangeSessionCapacityInput!) { changeSessionCapacity(input: $input) { capacity } }
"""
POST_WISH = "mutation($input: PostWishInput!) { postWish(input: $input) { id description } }"


def a_name(what: str) -> str:
    return f"{what}-{uuid.uuid4().hex[:8]}"


def festival(name: str, **more: Any) -> dict[str, Any]:
    return {
        "input": {
            "name": name,
            "communityIds": [COMMUNITY],
            "startsOn": day_iso(FESTIVAL_DAY),
            "endsOn": day_iso(FESTIVAL_DAY + 1),
            **more,
        }
    }


def shift(venue: str, **more: Any) -> dict[str, Any]:
    starts_at = datetime.now(UTC) + timedelta(days=2)
    return {
        "input": {
            "communityId": COMMUNITY,
            "venue": venue,
            "role": "引导员",
            "startsAt": starts_at.isoformat(),
            "endsAt": (starts_at + timedelta(hours=2)).isoformat(),
            "headcount": 3,
            **more,
        }
    }


def test_a_derived_key_names_the_request_not_the_order_of_its_arguments() -> None:
    assert derived_key({"a": 1, "b": [2, 3]}, "v1") == derived_key({"b": [2, 3], "a": 1}, "v1")
    assert derived_key({"a": 1}, "v1") != derived_key({"a": 1}, "v2")
    assert derived_key({"a": 1}, "v1") != derived_key({"a": 2}, "v1")


async def test_a_festival_created_twice_without_a_key_is_created_once(
    gql: GraphQLClient, organiser_token: str, pool: Any
) -> None:
    name = a_name("双击邻里节")

    # A double click: both at once; then a retry after the answer came.
    first, second = await asyncio.gather(
        gql.ok(CREATE_FESTIVAL, festival(name), organiser_token),
        gql.ok(CREATE_FESTIVAL, festival(name), organiser_token),
    )
    retry = await gql.ok(CREATE_FESTIVAL, festival(name), organiser_token)

    assert first["createFestival"]["id"] == second["createFestival"]["id"] == retry["createFestival"]["id"]
    async with pool.acquire() as conn:
        made = await conn.fetchval("SELECT count(*) FROM activities.festivals WHERE name = $1", name)
    assert made == 1


async def test_a_shift_created_twice_without_a_key_is_created_once(
    gql: GraphQLClient, organiser_token: str, pool: Any
) -> None:
    venue = a_name("朔方广场")

    request = shift(venue)
    first = await gql.ok(CREATE_SHIFT, request, organiser_token)
    again = await gql.ok(CREATE_SHIFT, request, organiser_token)

    assert first["createShift"]["id"] == again["createShift"]["id"]
    async with pool.acquire() as conn:
        made = await conn.fetchval("SELECT count(*) FROM volunteers.shifts WHERE venue = $1", venue)
    assert made == 1


async def test_publishing_hiding_and_publishing_again_each_take_effect(
    gql: GraphQLClient, organiser_token: str
) -> None:
    made = await gql.ok(CREATE_FESTIVAL, festival(a_name("草稿邻里节"), published=False), organiser_token)
    festival_id = made["createFestival"]["id"]

    # The third request has the second's arguments: it must not be answered as the first was.
    for published in (True, False, True, False):
        answer = await gql.ok(PUBLISH, {"id": festival_id, "published": published}, organiser_token)
        assert answer["setFestivalPublished"]["published"] is published
        seen = await gql.ok(FESTIVAL, {"id": festival_id}, organiser_token)
        assert seen["festival"]["published"] is published


async def test_preferences_chosen_back_and_forth_end_as_last_chosen(
    gql: GraphQLClient, new_resident: Any
) -> None:
    _, token = new_resident()
    email = {"input": {"channels": ["EMAIL"], "email": "wang@example.org"}}
    inbox_only: dict[str, Any] = {"input": {"channels": []}}

    for choice in (email, inbox_only, email, inbox_only):
        await gql.ok(SET_PREFERENCES, choice, token)
        mine = (await gql.ok(MY_PREFERENCES, token=token))["myNotificationPreferences"]
        assert mine["channels"] == choice["input"]["channels"]


async def test_a_client_key_sent_again_with_other_arguments_is_refused_and_changes_nothing(
    gql: GraphQLClient, organiser_token: str, settings: Any, pool: Any
) -> None:
    key = uuid.uuid4().hex
    venue = {"communityId": COMMUNITY, "name": a_name("东广场"), "kind": "SQUARE", "capacity": 200}
    made = await gql.ok(CREATE_VENUE, {"input": {**venue, "idempotencyKey": key}}, organiser_token)
    other = {"input": {**venue, "capacity": 300, "idempotencyKey": key}}
    assert await gql.error_code(CREATE_VENUE, other, organiser_token) == "IDEMPOTENCY_KEY_REUSED"

    shift_key = uuid.uuid4().hex
    venue_name = a_name("朔方广场")
    planned = shift(venue_name, idempotencyKey=shift_key)
    await gql.ok(CREATE_SHIFT, planned, organiser_token)
    other_role = {"input": {**planned["input"], "role": "摄影"}}
    assert await gql.error_code(CREATE_SHIFT, other_role, organiser_token) == "IDEMPOTENCY_KEY_REUSED"

    session_id = await open_session(gql, organiser_token, capacity=10)
    capacity_key = uuid.uuid4().hex
    grown = {"input": {"sessionId": session_id, "capacity": 20, "idempotencyKey": capacity_key}}
    assert (await gql.ok(CHANGE_CAPACITY, grown, organiser_token))["changeSessionCapacity"]["capacity"] == 20
    shrunk = {"input": {"sessionId": session_id, "capacity": 5, "idempotencyKey": capacity_key}}
    assert await gql.error_code(CHANGE_CAPACITY, shrunk, organiser_token) == "IDEMPOTENCY_KEY_REUSED"

    resident = token_for(settings, f"r-{uuid.uuid4().hex[:10]}", {"resident"}, {COMMUNITY})
    wish_key = uuid.uuid4().hex
    wish = {"communityId": COMMUNITY, "category": "REPAIR", "building": "3号楼", "idempotencyKey": wish_key}
    posted = await gql.ok(POST_WISH, {"input": {**wish, "description": "轮椅坏了"}}, resident)
    other_wish = {"input": {**wish, "description": "想请人读报"}}
    assert await gql.error_code(POST_WISH, other_wish, resident) == "IDEMPOTENCY_KEY_REUSED"

    async with pool.acquire() as conn:
        capacity = await conn.fetchval(
            "SELECT capacity FROM activities.venues WHERE id = $1", uuid.UUID(made["createVenue"]["id"])
        )
        roles = await conn.fetch("SELECT role FROM volunteers.shifts WHERE venue = $1", venue_name)
        session_capacity = await conn.fetchval(
            "SELECT capacity FROM activities.sessions WHERE id = $1", uuid.UUID(session_id)
        )
        description = await conn.fetchval(
            "SELECT description FROM volunteers.wishes WHERE id = $1", uuid.UUID(posted["postWish"]["id"])
        )
    assert (capacity, [r["role"] for r in roles], session_capacity, description) == (
        200,
        ["引导员"],
        20,
        "轮椅坏了",
    )
