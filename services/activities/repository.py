"""SQL for the ``activities`` schema, and nothing else. Every function takes a connection."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.activities.domain import FestivalPlan, SessionPlan, SignupStatus
from services.common.db import Connection


async def insert_festival(
    conn: Connection, festival_id: uuid.UUID, plan: FestivalPlan, created_by: str
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO activities.festivals (id, name, community_ids, starts_on, ends_on, created_by)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
        RETURNING *
        """,
        festival_id,
        plan.name,
        list(plan.community_ids),
        plan.starts_on,
        plan.ends_on,
        created_by,
    )
    assert row is not None
    return row


async def get_festival(conn: Connection, festival_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM activities.festivals WHERE id = $1", festival_id)


async def insert_activity(
    conn: Connection,
    activity_id: uuid.UUID,
    festival_id: uuid.UUID,
    community_id: str,
    title: str,
    category: str,
    description: str,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO activities.activities (id, festival_id, community_id, title, category, description)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
        RETURNING *
        """,
        activity_id,
        festival_id,
        community_id,
        title,
        category,
        description,
    )
    assert row is not None
    return row


async def get_activity(conn: Connection, activity_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM activities.activities WHERE id = $1", activity_id)


async def insert_session(
    conn: Connection,
    session_id: uuid.UUID,
    activity_id: uuid.UUID,
    community_id: str,
    plan: SessionPlan,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO activities.sessions
            (id, activity_id, community_id, venue, starts_at, ends_at, capacity)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
        RETURNING *
        """,
        session_id,
        activity_id,
        community_id,
        plan.venue,
        plan.starts_at,
        plan.ends_at,
        plan.capacity,
    )
    assert row is not None
    return row


async def get_session_for_signup(conn: Connection, session_id: uuid.UUID) -> asyncpg.Record | None:
    """The session with what a sign-up message needs to say about it."""
    return await conn.fetchrow(
        """
        SELECT s.id, s.venue, s.starts_at, s.ends_at, s.capacity, s.taken, s.community_id,
               s.status, a.title AS activity_title
        FROM activities.sessions s JOIN activities.activities a ON a.id = s.activity_id
        WHERE s.id = $1
        """,
        session_id,
    )


async def get_signup(conn: Connection, signup_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM activities.signups WHERE id = $1", signup_id)


async def has_live_signup(conn: Connection, session_id: uuid.UUID, resident_id: str) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM activities.signups "
        "WHERE session_id = $1 AND resident_id = $2 AND status <> 'CANCELLED'",
        session_id,
        resident_id,
    )
    return bool(found)


async def reserve_seats(conn: Connection, session_id: uuid.UUID, seats: int) -> bool:
    """Take ``seats`` if they are all free and the session still stands: one conditional
    update; with ``release_seats`` the only writers of the seat count."""
    taken = await conn.fetchval(
        "UPDATE activities.sessions SET taken = taken + $2 "
        "WHERE id = $1 AND status = 'SCHEDULED' AND taken + $2 <= capacity RETURNING taken",
        session_id,
        seats,
    )
    return taken is not None


async def release_seats(conn: Connection, session_id: uuid.UUID, seats: int) -> int | None:
    """Give back ``seats``; the seats now taken, or None if fewer than that were held."""
    taken: int | None = await conn.fetchval(
        "UPDATE activities.sessions SET taken = taken - $2 WHERE id = $1 AND taken >= $2 RETURNING taken",
        session_id,
        seats,
    )
    return taken


async def hold_session_for_waitlist(conn: Connection, session_id: uuid.UUID) -> asyncpg.Record | None:
    """Keep cancellations of this session (which lock it FOR UPDATE) out until we commit, so a
    party joining the waitlist cannot miss seats a cancellation frees meanwhile. KEY SHARE does
    not block other sign-ups' seat updates."""
    return await conn.fetchrow(
        "SELECT status, capacity, taken FROM activities.sessions WHERE id = $1 FOR KEY SHARE",
        session_id,
    )


async def lock_session(conn: Connection, session_id: uuid.UUID) -> asyncpg.Record | None:
    """The session, locked against every other writer, with what messages say about it.

    Cancellations lock the session first and its sign-ups after: one lock order, no deadlock.
    """
    return await conn.fetchrow(
        """
        SELECT s.*, a.title AS activity_title
        FROM activities.sessions s JOIN activities.activities a ON a.id = s.activity_id
        WHERE s.id = $1
        FOR UPDATE OF s
        """,
        session_id,
    )


async def lock_signup(conn: Connection, signup_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM activities.signups WHERE id = $1 FOR UPDATE", signup_id)


async def lock_waitlist(conn: Connection, session_id: uuid.UUID) -> list[asyncpg.Record]:
    """The session's waiting sign-ups in arrival order, locked."""
    return await conn.fetch(
        "SELECT * FROM activities.signups WHERE session_id = $1 AND status = 'WAITLISTED' "
        "ORDER BY arrival FOR UPDATE",
        session_id,
    )


async def lock_live_signups(conn: Connection, session_id: uuid.UUID) -> list[asyncpg.Record]:
    """The session's confirmed and waiting sign-ups in arrival order, locked."""
    return await conn.fetch(
        "SELECT * FROM activities.signups WHERE session_id = $1 AND status <> 'CANCELLED' "
        "ORDER BY arrival FOR UPDATE",
        session_id,
    )


async def confirm_signups(conn: Connection, signup_ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    """Move waiting sign-ups to confirmed (their seats are reserved by the caller)."""
    return await conn.fetch(
        "UPDATE activities.signups SET status = 'CONFIRMED' "
        "WHERE id = ANY($1::uuid[]) AND status = 'WAITLISTED' RETURNING *",
        list(signup_ids),
    )


async def cancel_signups(
    conn: Connection, signup_ids: Sequence[uuid.UUID], cancel_key: str | None, at: datetime
) -> list[asyncpg.Record]:
    return await conn.fetch(
        "UPDATE activities.signups SET status = 'CANCELLED', cancelled_at = $3, cancel_key = $2 "
        "WHERE id = ANY($1::uuid[]) AND status <> 'CANCELLED' RETURNING *",
        list(signup_ids),
        cancel_key,
        at,
    )


async def mark_session_cancelled(
    conn: Connection, session_id: uuid.UUID, reason: str, cancel_key: str, at: datetime
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "UPDATE activities.sessions "
        "SET status = 'CANCELLED', cancel_reason = $2, cancel_key = $3, cancelled_at = $4 "
        "WHERE id = $1 RETURNING *",
        session_id,
        reason,
        cancel_key,
        at,
    )
    assert row is not None
    return row


async def insert_signup(
    conn: Connection,
    signup_id: uuid.UUID,
    session_id: uuid.UUID,
    resident_id: str,
    party_size: int,
    status: SignupStatus,
    idempotency_key: str,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO activities.signups
            (id, session_id, resident_id, party_size, status, idempotency_key)
        VALUES ($1, $2, $3, $4, $5, $6)
        RETURNING *
        """,
        signup_id,
        session_id,
        resident_id,
        party_size,
        status.value,
        idempotency_key,
    )
    assert row is not None
    return row


def as_dict(row: asyncpg.Record) -> dict[str, Any]:
    """A row as JSON-friendly values, for command replies."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        out[key] = value
    return out
