"""SQL for the three lists and partner units' claims in the ``volunteers`` schema."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import asyncpg

from services.common.db import Connection
from services.common.paging import DEFAULT_LIMIT, page_start


async def insert_item(
    conn: Connection,
    item_id: uuid.UUID,
    community_id: str,
    kind: str,
    title: str,
    details: str,
    partner_id: uuid.UUID | None,
    due_on: date | None,
    created_by: str,
    at: datetime,
) -> asyncpg.Record:
    await conn.execute(
        """
        INSERT INTO volunteers.list_items
            (id, community_id, kind, title, details, partner_id, due_on, created_by, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (id) DO NOTHING
        """,
        item_id,
        community_id,
        kind,
        title,
        details,
        partner_id,
        due_on,
        created_by,
        at,
    )
    row = await get_item(conn, item_id)
    assert row is not None
    return row


async def get_item(conn: Connection, item_id: uuid.UUID, for_update: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM volunteers.list_items WHERE id = $1" + (" FOR UPDATE" if for_update else ""), item_id
    )


async def items_of(
    conn: Connection, community_id: str, kind: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of one of the community's three lists, newest first, after item ``after``."""
    start = await page_start(
        conn,
        after,
        "SELECT created_at, id FROM volunteers.list_items WHERE id = $1 AND community_id = $2 AND kind = $3",
        after,
        community_id,
        kind,
    )
    return await conn.fetch(
        "SELECT * FROM volunteers.list_items WHERE community_id = $1 AND kind = $2 "
        "AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5)) "
        "ORDER BY created_at DESC, id DESC LIMIT $3",
        community_id,
        kind,
        limit,
        start and start["created_at"],
        start and start["id"],
    )


async def claims_of(conn: Connection, item_ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT c.*, o.name AS partner_name FROM volunteers.item_claims c "
        "JOIN volunteers.partner_organisations o ON o.id = c.partner_id "
        "WHERE c.item_id = ANY($1::uuid[]) ORDER BY c.claimed_at",
        item_ids,
    )


async def insert_claim(
    conn: Connection, item_id: uuid.UUID, partner_id: uuid.UUID, part: str, by: str, at: datetime
) -> bool:
    done = await conn.execute(
        "INSERT INTO volunteers.item_claims (item_id, partner_id, part, claimed_by, claimed_at) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        item_id,
        partner_id,
        part,
        by,
        at,
    )
    return bool(done == "INSERT 0 1")


async def finish_claim(
    conn: Connection, item_id: uuid.UUID, partner_id: uuid.UUID, note: str, at: datetime
) -> bool:
    done = await conn.execute(
        "UPDATE volunteers.item_claims SET done_note = $3, done_at = $4 "
        "WHERE item_id = $1 AND partner_id = $2 AND done_at IS NULL",
        item_id,
        partner_id,
        note,
        at,
    )
    return bool(done == "UPDATE 1")


async def set_status(conn: Connection, item_id: uuid.UUID, status: str) -> None:
    await conn.execute("UPDATE volunteers.list_items SET status = $2 WHERE id = $1", item_id, status)


async def close(conn: Connection, item_id: uuid.UUID, by: str, at: datetime) -> None:
    await conn.execute(
        "UPDATE volunteers.list_items SET status = 'CLOSED', closed_by = $2, closed_at = $3 WHERE id = $1",
        item_id,
        by,
        at,
    )


async def member_partners(conn: Connection, person_id: str, community_id: str) -> list[asyncpg.Record]:
    """The community's partner units the person is a member of."""
    return await conn.fetch(
        "SELECT o.* FROM volunteers.partner_members m "
        "JOIN volunteers.partner_organisations o ON o.id = m.organisation_id "
        "WHERE m.volunteer_id = $1 AND o.community_id = $2 ORDER BY o.name",
        person_id,
        community_id,
    )


async def claim_lines(
    conn: Connection, community_id: str, partner_id: uuid.UUID | None
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT o.name AS partner, c.claimed_at, i.due_on, c.done_at, i.status = 'CLOSED' AS closed
        FROM volunteers.item_claims c
        JOIN volunteers.list_items i ON i.id = c.item_id
        JOIN volunteers.partner_organisations o ON o.id = c.partner_id
        WHERE i.community_id = $1 AND ($2::uuid IS NULL OR c.partner_id = $2)
        """,
        community_id,
        partner_id,
    )
