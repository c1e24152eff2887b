"""Live counts: a phone watching a session over graphql-ws sees its seats and waitlist move
as residents sign up and cancel — a real websocket against the gateway served by uvicorn."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from services.activities import contracts, live_counts
from services.common.settings import Settings
from services.gateway.app import MAX_SUBSCRIPTIONS_PER_CONNECTION, create_app
from tests.conftest import GraphQLClient
from tests.dates import at
from tests.ticket_steps import schedule_at, sign_up

COUNTS = """
subscription($id: ID!) { sessionCounts(sessionId: $id) { sessionId seatsLeft waitlistLength status } }
"""
CANCEL = """
mutation($input: CancelSignupInput!) { cancelSignup(input: $input) { id status } }
"""
# Only so that a broken feed fails the test instead of hanging it; nothing is timed.
PATIENCE_S = 30


@pytest.fixture(scope="module")
async def graphql_ws(settings: Settings, workers: None) -> AsyncIterator[str]:
    """The gateway served by uvicorn on a free port: its websocket URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=0, log_level="warning", ws="websockets-sansio"
        )
    )
    serving = asyncio.create_task(server.serve())
    async with asyncio.timeout(PATIENCE_S):
        while not server.started:  # noqa: ASYNC110 (uvicorn offers only this flag)
            await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"ws://127.0.0.1:{port}/graphql"
    server.should_exit = True
    await serving


async def subscribe(ws: ClientConnection, session_id: str) -> None:
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    message = {"id": "1", "type": "subscribe", "payload": {"query": COUNTS, "variables": {"id": session_id}}}
    await ws.send(json.dumps(message))


async def next_message(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(PATIENCE_S):
        message: dict[str, Any] = json.loads(await ws.recv())
    return message


async def next_counts(ws: ClientConnection) -> dict[str, Any]:
    message = await next_message(ws)
    assert message["type"] == "next", message
    assert not message["payload"].get("errors"), message
    counts: dict[str, Any] = message["payload"]["data"]["sessionCounts"]
    return {"seatsLeft": counts["seatsLeft"], "waitlistLength": counts["waitlistLength"]}


async def test_watchers_see_seats_and_the_waitlist_move_as_residents_come_and_go(
    graphql_ws: str, gql: GraphQLClient, organiser_token: str, new_resident: Any
) -> None:
    session_id = await schedule_at(gql, organiser_token, starts_in=timedelta(days=2), capacity=2)
    async with connect(graphql_ws, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await subscribe(ws, session_id)
        assert await next_counts(ws) == {"seatsLeft": 2, "waitlistLength": 0}

        _, first = new_resident()
        signup = await sign_up(gql, first, session_id)
        assert await next_counts(ws) == {"seatsLeft": 1, "waitlistLength": 0}

        await sign_up(gql, new_resident()[1], session_id, party_size=2)  # a family of two: waits
        assert await next_counts(ws) == {"seatsLeft": 1, "waitlistLength": 1}

        cancel = {"input": {"signupId": signup["id"], "idempotencyKey": uuid.uuid4().hex}}
        await gql.ok(CANCEL, cancel, first)  # two seats free: the family moves up
        assert await next_counts(ws) == {"seatsLeft": 0, "waitlistLength": 0}


async def test_counts_overtaken_by_newer_ones_are_not_shown(
    graphql_ws: str,
    gql: GraphQLClient,
    organiser_token: str,
    new_resident: Any,
    redis: Any,
    settings: Settings,
) -> None:
    session_id = await schedule_at(gql, organiser_token, starts_in=timedelta(days=2), capacity=5)
    async with connect(graphql_ws, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await subscribe(ws, session_id)
        assert await next_counts(ws) == {"seatsLeft": 5, "waitlistLength": 0}
        # a publisher that read the counts long ago and is only now getting round to sending them
        stale = {
            "session_id": session_id,
            "capacity": 5,
            "taken": 4,
            "waitlist_length": 3,
            "status": "SCHEDULED",
            "as_of": at(-3650).isoformat(),  # ten years ago
        }
        await redis.publish(contracts.counts_channel(settings.namespace, session_id), json.dumps(stale))

        await sign_up(gql, new_resident()[1], session_id)
        assert await next_counts(ws) == {"seatsLeft": 4, "waitlistLength": 0}


async def test_watching_a_session_that_does_not_exist_is_refused_with_its_code(graphql_ws: str) -> None:
    async with connect(graphql_ws, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await subscribe(ws, str(uuid.uuid4()))
        message = await next_message(ws)
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert errors[0]["extensions"]["code"] == "SESSION_NOT_FOUND"


async def test_every_event_that_moves_a_sessions_numbers_republishes_them(
    settings: Settings, pool: Any, redis: Any, gql: GraphQLClient, organiser_token: str
) -> None:
    """The counts job itself: whatever event names the session, watchers get its current counts."""
    session_id = await schedule_at(gql, organiser_token, starts_in=timedelta(days=2), capacity=7)
    pubsub = redis.pubsub()
    await pubsub.subscribe(contracts.counts_channel(settings.namespace, session_id))
    try:
        ctx = {"settings": settings, "pool": pool, "redis": redis}
        for event_type in live_counts.EVENTS:
            event = {"id": str(uuid.uuid4()), "type": event_type, "payload": {"session_id": session_id}}
            assert await live_counts.publish_counts(ctx, [event, event]) == 1  # one message per session
            message = await _published(pubsub)
            assert datetime.fromisoformat(message.pop("as_of")).tzinfo is not None
            assert message == {
                "session_id": session_id,
                "capacity": 7,
                "taken": 0,
                "waitlist_length": 0,
                "status": "SCHEDULED",
            }
        unrelated = {
            "id": str(uuid.uuid4()),
            "type": "ticket.checked_in",
            "payload": {"session_id": session_id},
        }
        assert await live_counts.publish_counts(ctx, [unrelated]) == 0
    finally:
        await pubsub.aclose()


async def _published(pubsub: Any) -> dict[str, Any]:
    async with asyncio.timeout(PATIENCE_S):
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:
                data: dict[str, Any] = json.loads(message["data"])
                return data


async def test_a_draft_festivals_session_is_watched_only_by_its_organisers(
    graphql_ws: str, gql: GraphQLClient, organiser_token: str
) -> None:
    session_id = await schedule_at(gql, organiser_token, starts_in=timedelta(days=2), published=False)
    async with connect(graphql_ws, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await subscribe(ws, session_id)
        message = await next_message(ws)
    assert message["payload"]["errors"][0]["extensions"]["code"] == "SESSION_NOT_FOUND"
    organiser = {"Authorization": f"Bearer {organiser_token}"}
    protocols: Any = ["graphql-transport-ws"]
    async with connect(graphql_ws, subprotocols=protocols, additional_headers=organiser) as ws:
        await subscribe(ws, session_id)
        assert await next_counts(ws) == {"seatsLeft": 10, "waitlistLength": 0}


async def test_one_connection_holds_a_bounded_number_of_subscriptions(
    graphql_ws: str, gql: GraphQLClient, organiser_token: str
) -> None:
    session_id = await schedule_at(gql, organiser_token, starts_in=timedelta(days=2))
    async with connect(graphql_ws, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        for n in range(MAX_SUBSCRIPTIONS_PER_CONNECTION + 1):
            payload = {"query": COUNTS, "variables": {"id": session_id}}
            await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": payload}))
        answers = [await next_message(ws) for _ in range(MAX_SUBSCRIPTIONS_PER_CONNECTION + 1)]
    assert sorted(a["type"] for a in answers) == ["error"] + ["next"] * MAX_SUBSCRIPTIONS_PER_CONNECTION


async def test_older_clients_speaking_the_legacy_graphql_ws_protocol_watch_too(
    graphql_ws: str, gql: GraphQLClient, organiser_token: str, new_resident: Any
) -> None:
    session_id = await schedule_at(gql, organiser_token, starts_in=timedelta(days=2), capacity=3)
    async with connect(graphql_ws, subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await next_message(ws))["type"] == "connection_ack"
        payload = {"query": COUNTS, "variables": {"id": session_id}}
        await ws.send(json.dumps({"id": "1", "type": "start", "payload": payload}))
        first = await next_message(ws)
        await sign_up(gql, new_resident()[1], session_id)
        second = await next_message(ws)
    assert first["type"] == second["type"] == "data"
    assert first["payload"]["data"]["sessionCounts"]["seatsLeft"] == 3
    assert second["payload"]["data"]["sessionCounts"]["seatsLeft"] == 2
