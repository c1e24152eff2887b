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


async def deliveries_to(conn: Connection, recipient_id: str, limit: int = 50) -> list[asyncpg.Record]:
    """One person's deliveries on every channel, newest first (the console's outbox view)."""
    return await conn.fetch(
        "SELECT * FROM notify.deliveries WHERE recipient_id = $1 ORDER BY created_at DESC, id LIMIT $2",
        recipient_id,
        limit,
    )
