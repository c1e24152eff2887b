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
    assert form.status_code == 415
    by_get = await client.get("/graphql", params={"query": "{ __typename }"})
    assert by_get.status_code == 200 and by_get.json() == {"data": {"__typename": "Query"}}
    mutation_by_get = await client.get("/graphql", params={"query": "mutation { logOut }"})
    assert mutation_by_get.status_code == 405


async def test_transport_errors_are_graphql_errors_with_a_code(client: httpx.AsyncClient) -> None:
    """Every refusal carries a code, those made before any GraphQL runs too."""

    async def post(content: bytes, content_type: str | None = "application/json") -> httpx.Response:
        headers = {"Content-Type": content_type} if content_type else {}
        return await client.post("/graphql", content=content, headers=headers)

    def code_of(response: httpx.Response) -> str:
        assert response.headers["content-type"].startswith("application/json"), response.text
        body = response.json()
        error = body["errors"][0]
        assert body["data"] is None and error["extensions"]["messageZh"] and error["extensions"]["messageEn"]
        code: str = error["extensions"]["code"]
        return code

    garbled = await post(b'{"query": ')
    assert (garbled.status_code, code_of(garbled)) == (400, "BAD_REQUEST")
    not_an_object = await post(b'"{ __typename }"')
    assert (not_an_object.status_code, code_of(not_an_object)) == (400, "BAD_REQUEST")
    as_text = await post(b'{"query": "{ __typename }"}', "text/plain")
    assert (as_text.status_code, code_of(as_text)) == (415, "UNSUPPORTED_MEDIA_TYPE")
    no_type = await post(b'{"query": "{ __typename }"}', None)
    assert (no_type.status_code, code_of(no_type)) == (415, "UNSUPPORTED_MEDIA_TYPE")
    mutation_by_get = await client.get("/graphql", params={"query": "mutation { logOut }"})
    assert (mutation_by_get.status_code, code_of(mutation_by_get)) == (405, "METHOD_NOT_ALLOWED")
    put = await client.put("/graphql", json={"query": "{ __typename }"})
    assert (put.status_code, code_of(put)) == (405, "METHOD_NOT_ALLOWED")
    assert "POST" in put.headers["allow"]
    unknown = await post(b'{"query": "query A { __typename }", "operationName": "B"}')
    assert (unknown.status_code, code_of(unknown)) == (400, "UNKNOWN_OPERATION")
    huge = await post(b'{"query": "{ __typename }", "x": "' + b"a" * 2_000_000 + b'"}')
    assert (huge.status_code, code_of(huge)) == (413, "REQUEST_TOO_LARGE")
    no_query = await post(b'{"variables": {}}')
    assert (no_query.status_code, code_of(no_query)) == (400, "BAD_REQUEST")
