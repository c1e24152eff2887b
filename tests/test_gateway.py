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
