"""Read models of the ``notify`` schema, for the gateway (read-only)."""

from __future__ import annotations

import asyncpg

from services.common.db import Connection


async def inbox(conn: Connection, recipient_id: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM notify.inbox WHERE recipient_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        recipient_id,
        limit,
    )


async def preferences(conn: Connection, person_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM notify.preferences WHERE person_id = $1", person_id)


async def dead_letters(conn: Connection, limit: int) -> list[asyncpg.Record]:
    """Deliveries that ran out of attempts, most recent failure first."""
    return await conn.fetch(
        "SELECT * FROM notify.deliveries WHERE status = 'DEAD' ORDER BY updated_at DESC, id LIMIT $1",
        limit,
    )


async def deliveries(
    conn: Connection, status: str | None, recipient_id: str | None, limit: int
) -> list[asyncpg.Record]:
    """Deliveries on every channel, newest first, optionally of one status or one person:
    in development, the record of every message that would have been sent."""
    return await conn.fetch(
        """
        SELECT * FROM notify.deliveries
        WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR recipient_id = $2)
        ORDER BY created_at DESC, id LIMIT $3
        """,
        status,
        recipient_id,
        limit,
    )
