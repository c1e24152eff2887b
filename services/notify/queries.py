"""Read models of the ``notify`` schema, for the gateway (read-only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from services.common.db import Connection, row_as_dict
from services.common.paging import DEFAULT_LIMIT, page_start


async def inbox(
    conn: Connection, recipient_id: str, limit: int, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the recipient's in-app messages, newest first, after message ``after``."""
    start = await page_start(
        conn,
        after,
        "SELECT created_at, id FROM notify.inbox WHERE id = $1 AND recipient_id = $2",
        after,
        recipient_id,
    )
    return await conn.fetch(
        "SELECT * FROM notify.inbox WHERE recipient_id = $1 "
        "AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4)) "
        "ORDER BY created_at DESC, id DESC LIMIT $2",
        recipient_id,
        limit,
        start and start["created_at"],
        start and start["id"],
    )


async def unread_among(conn: Connection, recipient_id: str, message_ids: Sequence[str]) -> list[str]:
    """Which of these messages of the recipient are still unread: what marking them read changes."""
    rows = await conn.fetch(
        "SELECT id::text FROM notify.inbox WHERE recipient_id = $1 AND id = ANY($2::uuid[]) "
        "AND read_at IS NULL ORDER BY id",
        recipient_id,
        list(message_ids),
    )
    return [row["id"] for row in rows]


async def preferences(conn: Connection, person_id: str) -> asyncpg.Record | None:
    """A person's choices, with their version (the row's xmin, new with every change)."""
    return await conn.fetchrow(
        "SELECT *, xmin::text AS version FROM notify.preferences WHERE person_id = $1", person_id
    )


async def delivery_version(conn: Connection, delivery_id: uuid.UUID) -> str | None:
    """What resending a delivery changes: a key derived from it joins a double click, while a
    delivery that failed again after its resend is a new request."""
    found = await conn.fetchval("SELECT xmin::text FROM notify.deliveries WHERE id = $1", delivery_id)
    return None if found is None else str(found)


async def template_version(
    conn: Connection, festival_id: uuid.UUID, community_id: str, kind: str
) -> str | None:
    """What setting or clearing one message template changes (its row's xmin; none when cleared)."""
    found = await conn.fetchval(
        "SELECT xmin::text FROM notify.message_templates "
        "WHERE festival_id = $1 AND community_id = $2 AND kind = $3",
        festival_id,
        community_id,
        kind,
    )
    return None if found is None else str(found)


async def _delivery_key(
    conn: Connection, column: str, communities: Sequence[str] | None, after: uuid.UUID | None
) -> asyncpg.Record | None:
    """Where a page of deliveries after delivery ``after`` starts: its ``column`` and id."""
    return await page_start(
        conn,
        after,
        f"SELECT {column} AS key, id FROM notify.deliveries "
        "WHERE id = $1 AND ($2::text[] IS NULL OR community_id = ANY($2::text[]))",
        after,
        None if communities is None else list(communities),
    )


async def dead_letters(
    conn: Connection, communities: Sequence[str] | None, limit: int, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the deliveries that ran out of attempts, most recent failure first; only those
    about ``communities`` unless None (platform admins see every one)."""
    start = await _delivery_key(conn, "updated_at", communities, after)
    return await conn.fetch(
        """
        SELECT * FROM notify.deliveries
        WHERE status = 'DEAD' AND ($1::text[] IS NULL OR community_id = ANY($1::text[]))
          AND ($3::timestamptz IS NULL OR (updated_at, id) < ($3, $4))
        ORDER BY updated_at DESC, id DESC LIMIT $2
        """,
        None if communities is None else list(communities),
        limit,
        start and start["key"],
        start and start["id"],
    )


async def deliveries(
    conn: Connection,
    status: str | None,
    recipient_id: str | None,
    communities: Sequence[str] | None,
    limit: int,
    after: uuid.UUID | None = None,
) -> list[asyncpg.Record]:
    """A page of the deliveries on every channel, newest first, optionally of one status or one
    person, and only those about ``communities`` unless None: in development, the record of
    every message that would have been sent."""
    start = await _delivery_key(conn, "created_at", communities, after)
    return await conn.fetch(
        """
        SELECT * FROM notify.deliveries
        WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR recipient_id = $2)
          AND ($3::text[] IS NULL OR community_id = ANY($3::text[]))
          AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6))
        ORDER BY created_at DESC, id DESC LIMIT $4
        """,
        status,
        recipient_id,
        None if communities is None else list(communities),
        limit,
        start and start["key"],
        start and start["id"],
    )


async def templates(
    conn: Connection, festival_id: uuid.UUID, communities: Sequence[str] | None
) -> list[asyncpg.Record]:
    """A festival's message templates, of ``communities`` only unless None."""
    return await conn.fetch(
        """
        SELECT * FROM notify.message_templates
        WHERE festival_id = $1 AND ($2::text[] IS NULL OR community_id = ANY($2::text[]))
        ORDER BY community_id, kind
        """,
        festival_id,
        None if communities is None else list(communities),
    )


def template_value(row: asyncpg.Record) -> dict[str, Any]:
    """A template row as commands reply with it (JSON-safe)."""
    return {
        "festival_id": str(row["festival_id"]),
        "community_id": row["community_id"],
        "kind": row["kind"],
        "title_zh": row["title_zh"],
        "body_zh": row["body_zh"],
        "title_en": row["title_en"],
        "body_en": row["body_en"],
        "updated_by": row["updated_by"],
        "updated_at": row["updated_at"].isoformat(),
    }


# The "to tell" order: what is still to pass on, oldest first, then what was passed on, latest
# first; as (told, a number never null) so that a page can go on from an entry's place.
_TOLD = "told_at IS NOT NULL"
_WHEN = "CASE WHEN told_at IS NULL THEN extract(epoch FROM created_at) ELSE -extract(epoch FROM told_at) END"


async def to_tell(
    conn: Connection,
    communities: Sequence[str] | None,
    include_told: bool,
    limit: int = DEFAULT_LIMIT,
    after: uuid.UUID | None = None,
) -> list[asyncpg.Record]:
    """A page of the "to tell" list of some communities (all when None): what is still to pass
    on, oldest first, then (if asked) what was passed on, latest first; after entry ``after``."""
    seen = None if communities is None else list(communities)
    start = await page_start(
        conn,
        after,
        f"SELECT {_TOLD} AS told, {_WHEN} AS key, id FROM notify.to_tell "
        "WHERE id = $1 AND ($2::text[] IS NULL OR community_id = ANY($2::text[]))",
        after,
        seen,
    )
    return await conn.fetch(
        f"""
        SELECT * FROM notify.to_tell
        WHERE ($1::text[] IS NULL OR community_id = ANY($1::text[])) AND ($2 OR told_at IS NULL)
          AND ($4::bool IS NULL OR ({_TOLD}, {_WHEN}, id) > ($4, $5, $6))
        ORDER BY {_TOLD}, {_WHEN}, id
        LIMIT $3
        """,
        seen,
        include_told,
        limit,
        start and start["told"],
        start and start["key"],
        start and start["id"],
    )


async def to_tell_entry(conn: Connection, entry_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM notify.to_tell WHERE id = $1", entry_id)


async def subscriptions_left(conn: Connection, person_id: str) -> dict[str, int]:
    """The one-time WeChat subscriptions a person has left, per template."""
    rows = await conn.fetch(
        "SELECT template_id, remaining FROM notify.wechat_subscriptions WHERE person_id = $1", person_id
    )
    return {row["template_id"]: row["remaining"] for row in rows}


async def personal_data(conn: Connection, person_id: str) -> dict[str, Any]:
    """What notify holds about a person: their inbox and how they want to be reached."""
    inbox = await conn.fetch(
        "SELECT kind, title_zh, body_zh, created_at, read_at FROM notify.inbox "
        "WHERE recipient_id = $1 ORDER BY created_at, id",
        person_id,
    )
    prefs = await conn.fetch(
        "SELECT channels, phone, email, wechat_openid, quiet_start, quiet_end FROM notify.preferences "
        "WHERE person_id = $1",
        person_id,
    )
    return {"inbox": [row_as_dict(row) for row in inbox], "preferences": [row_as_dict(row) for row in prefs]}
