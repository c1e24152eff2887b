"""Oversized or abusive GraphQL requests are refused with a code before anything runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from services.common.settings import Settings
from services.gateway.app import create_app
from services.gateway.limits import MAX_ALIASES, MAX_DEPTH
from services.notify.sms import texts_to
from tests.conftest import GraphQLClient
from tests.identity_steps import new_phone


async def nothing_sent_to(pool: Any, phone: str) -> bool:
    async with pool.acquire() as conn:
        code = await conn.fetchval("SELECT count(*) FROM identity.login_codes WHERE phone = $1", phone)
        texts = await texts_to(conn, phone)
    return code == 0 and not texts


async def test_an_alias_bomb_is_refused_before_any_code_is_sent(gql: GraphQLClient, pool: Any) -> None:
    phone = new_phone()
    fields = " ".join(
        f'a{n}: requestLoginCode(phone: "{phone}") {{ expiresInS }}' for n in range(MAX_ALIASES + 1)
    )

    body = await gql.raw(f"mutation {{ {fields} }}")

    assert body.get("data") is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["TOO_MANY_ALIASES"]
    assert "别名" in body["errors"][0]["extensions"]["messageZh"]
    assert await nothing_sent_to(pool, phone)


async def test_a_deeply_nested_query_is_refused_before_it_runs(gql: GraphQLClient, pool: Any) -> None:
    phone = new_phone()
    nested = "expiresInS"
    for level in range(MAX_DEPTH + 2):
        nested = f"f{level} {{ {nested} }}"

    body = await gql.raw(f'mutation {{ requestLoginCode(phone: "{phone}") {{ {nested} }} }}')

    assert body.get("data") is None
    assert "QUERY_TOO_DEEP" in [e["extensions"]["code"] for e in body["errors"]]
    assert await nothing_sent_to(pool, phone)


async def test_a_query_of_too_many_tokens_is_not_even_parsed(gql: GraphQLClient) -> None:
    body = await gql.raw("{ festivals { " + "id " * 2500 + "} }")
    assert body.get("data") is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "tokens" in body["errors"][0]["message"]


async def test_a_huge_body_gets_413_with_a_json_error(client: httpx.AsyncClient, settings: Settings) -> None:
    padding = "x" * (settings.max_request_bytes + 1)
    response = await client.post(
        "/graphql", json={"query": "{ festivals { id } }", "variables": {"p": padding}}
    )

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


async def test_a_huge_body_without_a_declared_length_gets_413_too(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ festivals { id } }", "variables": {"p": "'
        for _ in range(settings.max_request_bytes // 1024 + 1):
            yield b"x" * 1024
        yield b'"}}'

    response = await client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_introspection_is_off_in_production_only(gql: GraphQLClient, settings: Settings) -> None:
    assert await gql.ok(INTROSPECTION) == {"__schema": {"queryType": {"name": "Query"}}}

    app = create_app(settings.model_copy(update={"env": "production"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://linli.test") as http:
            body = await GraphQLClient(http).raw(INTROSPECTION)
            public = await GraphQLClient(http).ok("{ festivals { id } }")

    assert body.get("data") is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "introspection" in body["errors"][0]["message"].lower()
    assert "festivals" in public
