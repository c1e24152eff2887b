"""Read models of the ``identity`` schema, for the gateway (read-only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

from services.common.db import Connection


async def resident(conn: Connection, resident_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM identity.residents WHERE id = $1", resident_id)


async def residents(conn: Connection, resident_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, asyncpg.Record]:
    """Many residents at once (a roster's, the door's), by id; ids with no resident are absent."""
    rows = await conn.fetch(
        "SELECT * FROM identity.residents WHERE id = ANY($1::uuid[])", list(set(resident_ids))
    )
    return {row["id"]: row for row in rows}


async def staff_accounts(
    conn: Connection, account_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, asyncpg.Record]:
    rows = await conn.fetch(
        "SELECT id, username, display_name FROM identity.staff_accounts WHERE id = ANY($1::uuid[])",
        list(set(account_ids)),
    )
    return {row["id"]: row for row in rows}


async def household_of(conn: Connection, resident_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM identity.household_members WHERE resident_id = $1 ORDER BY created_at, id",
        resident_id,
    )


async def staff_account(conn: Connection, account_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, username, display_name FROM identity.staff_accounts WHERE id = $1", account_id
    )


async def audit_trail(conn: Connection, subject: str, limit: int = 50) -> list[asyncpg.Record]:
    """What happened to one account (or masked number, or username), newest first."""
    return await conn.fetch(
        "SELECT * FROM identity.audit_log WHERE subject = $1 ORDER BY at DESC, id DESC LIMIT $2",
        subject,
        limit,
    )


async def community_audit_trail(
    conn: Connection, community_id: str, limit: int = 100
) -> list[asyncpg.Record]:
    """Staff actions in one community, newest first."""
    return await conn.fetch(
        "SELECT * FROM identity.audit_log WHERE community_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
        community_id,
        limit,
    )
