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
