"""While Redis is away the gateway answers with a code a client can act on, never a 500."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from services.common.settings import Settings
from services.gateway.app import LinliGraphQL, create_app
from tests.conftest import SIGN_UP, GraphQLClient
from tests.test_launcher import free_port


async def test_a_sign_up_while_redis_is_unreachable_is_refused_as_retryable(
    settings: Settings, schedule: Any, new_resident: Any
) -> None:
    session_id = await schedule(capacity=5)
    _, token = new_resident()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://outage.test") as http:
            gql = GraphQLClient(http)
            # Redis "goes away": this gateway's connections now lead to a port nobody listens on.
            view = next(r.app for r in app.routes if isinstance(getattr(r, "app", None), LinliGraphQL))
            redis_pool = view._resources["live"].redis.connection_pool
            await redis_pool.disconnect()
            redis_pool.connection_kwargs["port"] = free_port()

            variables = {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}}
            response = await http.post(
                "/graphql",
                json={"query": SIGN_UP, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200
            assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            # Public reads that need no Redis still work.
            data = await gql.ok("query($id: ID!) { session(id: $id) { seatsLeft } }", {"id": session_id})
            assert data["session"]["seatsLeft"] == 5
