"""When the activities worker is slow to answer, a sign-up is PENDING and can be followed up."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from services.activities.worker import ACTIVITIES_WORKER
from services.common.commands import GROUP, stream_key
from services.common.settings import Settings
from services.common.worker import build_worker
from services.gateway.app import create_app
from tests.conftest import SIGN_UP, GraphQLClient, eventually

SIGNUP = "query($id: ID!) { signup(id: $id) { id status } }"


async def test_a_signup_nobody_answered_in_time_is_pending_then_confirmed(
    settings: Settings, schedule: Any, new_resident: Any
) -> None:
    session_id = await schedule(capacity=5)
    _, token = new_resident()
    # Its keys fall under the run's namespace, so the `redis` fixture cleans them up.
    # A gateway whose activities queue has no worker yet, and which waits only briefly.
    quiet = settings.model_copy(update={"namespace": f"{settings.namespace}-quiet", "reply_timeout_s": 0.3})
    app = create_app(quiet)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://quiet.test") as http:
            gql = GraphQLClient(http)
            variables = {"input": {"sessionId": session_id, "idempotencyKey": "pending-key-1"}}

            pending = (await gql.ok(SIGN_UP, variables, token))["signUp"]
            assert pending["status"] == "PENDING"
            assert (await gql.ok(SIGNUP, {"id": pending["id"]}, token))["signup"] is None

            worker = build_worker(ACTIVITIES_WORKER, quiet)
            task = asyncio.create_task(worker.async_run())
            try:

                async def confirmed() -> bool:
                    found = (await gql.ok(SIGNUP, {"id": pending["id"]}, token))["signup"]
                    return found is not None and found["status"] == "CONFIRMED"

                assert await eventually(confirmed)
                retried = (await gql.ok(SIGN_UP, variables, token))["signUp"]
                assert (retried["id"], retried["status"]) == (pending["id"], "CONFIRMED")
            finally:
                await worker.close()
                await task


async def test_a_command_read_by_a_worker_that_died_is_answered_by_another(
    settings: Settings, schedule: Any, new_resident: Any, redis: Any, pool: Any
) -> None:
    session_id = await schedule(capacity=5)
    _, token = new_resident()
    lively = settings.model_copy(
        update={
            "namespace": f"{settings.namespace}-crash",
            "reply_timeout_s": 0.3,
            "command_claim_idle_s": 0.5,
        }
    )
    stream = stream_key(lively, "activities")
    await redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
    app = create_app(lively)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://crash.test") as http:
            gql = GraphQLClient(http)
            variables = {"input": {"sessionId": session_id, "idempotencyKey": "crash-key-001"}}
            pending = (await gql.ok(SIGN_UP, variables, token))["signUp"]
            assert pending["status"] == "PENDING"
            # A worker takes the command off the stream, then dies before answering it.
            taken = await redis.xreadgroup(GROUP, "doomed-worker", {stream: ">"}, count=10)
            assert len(taken[0][1]) == 1

            worker = build_worker(ACTIVITIES_WORKER, lively)
            task = asyncio.create_task(worker.async_run())
            try:

                async def confirmed() -> bool:
                    found = (await gql.ok(SIGNUP, {"id": pending["id"]}, token))["signup"]
                    return found is not None and found["status"] == "CONFIRMED"

                assert await eventually(confirmed)

                async def acknowledged() -> bool:  # the entry goes once the reply is stored, just after
                    return bool(await redis.xlen(stream) == 0)

                assert await eventually(acknowledged)
            finally:
                await worker.close()
                await task
    async with pool.acquire() as conn:
        taken_seats = await conn.fetchval(
            "SELECT taken FROM activities.sessions WHERE id = $1", uuid.UUID(session_id)
        )
    assert taken_seats == 1
