"""The gateway's contract: the exported schema, health and readiness."""

from __future__ import annotations

from pathlib import Path

import httpx

from services.gateway.schema import sdl

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"


def test_the_exported_schema_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == sdl(), (
        "schema/schema.graphql is stale: run `make schema` and review the diff"
    )


async def test_health_says_alive(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readiness_checks_postgres_and_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "postgres": True, "redis": True}


async def test_unusual_requests_get_strawberrys_own_answers(client: httpx.AsyncClient) -> None:
    """The gateway answers a plain JSON query or mutation itself; anything else is strawberry's."""

    async def post(content: bytes, content_type: str = "application/json") -> httpx.Response:
        return await client.post("/graphql", content=content, headers={"Content-Type": content_type})

    plain = await post(b'{"query": "{ __typename }"}')
    assert plain.status_code == 200 and plain.json() == {"data": {"__typename": "Query"}}
    with_charset = await post(b'{"query": "{ __typename }"}', "application/json; charset=utf-8")
    assert with_charset.json() == {"data": {"__typename": "Query"}}
    garbled = await post(b'{"query": ')
    assert garbled.status_code == 400 and "JSON" in garbled.text
    batch = await post(b'[{"query": "{ __typename }"}]')
    assert batch.status_code == 400
    odd_variables = await post(b'{"query": "{ __typename }", "variables": []}')
    assert odd_variables.status_code == 400 and "variables" in odd_variables.text
    no_query = await post(b'{"variables": {}}')
    assert no_query.status_code == 400 and "query" in no_query.text.lower()
    form = await post(b"query={__typename}", "application/x-www-form-urlencoded")
    assert form.status_code == 400
    by_get = await client.get("/graphql", params={"query": "{ __typename }"})
    assert by_get.status_code == 200 and by_get.json() == {"data": {"__typename": "Query"}}
    mutation_by_get = await client.get("/graphql", params={"query": "mutation { logOut }"})
    assert mutation_by_get.status_code == 400
