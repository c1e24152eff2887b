"""The one way to get a PostgreSQL pool, and database creation for first start and tests."""

from __future__ import annotations

import json
import uuid
from typing import Any, TypeAlias
from urllib.parse import urlsplit, urlunsplit

import asyncpg

Pool = asyncpg.Pool
# What repositories take: a plain connection or one borrowed from a pool.
Connection: TypeAlias = (
    "asyncpg.Connection[asyncpg.Record] | asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"
)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(database_url: str, min_size: int = 2, max_size: int = 20) -> Pool:
    pool = await asyncpg.create_pool(
        database_url, min_size=min_size, max_size=max_size, init=_init_connection
    )
    assert pool is not None
    return pool


def with_database(database_url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def ensure_database(database_url: str, database: str) -> str:
    """Create ``database`` on the server if it is missing; return its URL."""
    conn = await asyncpg.connect(with_database(database_url, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{database}"')
            except asyncpg.DuplicateDatabaseError:
                pass  # another process created it between our check and our CREATE
    finally:
        await conn.close()
    return with_database(database_url, database)


async def drop_database(database_url: str, database: str) -> None:
    conn = await asyncpg.connect(with_database(database_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


def row_as_dict(row: asyncpg.Record) -> dict[str, Any]:
    """A row as JSON-friendly values (ids and times as text), for command replies."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        out[key] = value
    return out
