"""SQL for the ``activities`` schema, and nothing else. Every function takes a connection."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
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


async def get_signups(conn: Connection, signup_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, asyncpg.Record]:
    rows = await conn.fetch("SELECT * FROM activities.signups WHERE id = ANY($1::uuid[])", list(signup_ids))
    return {row["id"]: row for row in rows}


async def lock_sessions_for_signup(
    conn: Connection, session_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, asyncpg.Record]:
    """Sessions about to take sign-ups, locked in id order (so two batches never deadlock),
    with their waitlist length and what messages say about them."""
    rows = await conn.fetch(
        """
        SELECT s.*, a.title AS activity_title,
               (SELECT count(*) FROM activities.signups w
                 WHERE w.session_id = s.id AND w.status = 'WAITLISTED') AS waiting
        FROM activities.sessions s JOIN activities.activities a ON a.id = s.activity_id
        WHERE s.id = ANY($1::uuid[])
        ORDER BY s.id
        FOR UPDATE OF s
        """,
        sorted(set(session_ids)),
    )
    return {row["id"]: row for row in rows}


async def live_signups_among(
    conn: Connection, session_ids: Sequence[uuid.UUID], resident_ids: Sequence[str]
) -> set[tuple[uuid.UUID, str]]:
    """Which of these residents already hold a live sign-up for which of these sessions."""
    rows = await conn.fetch(
        "SELECT session_id, resident_id FROM activities.signups "
        "WHERE session_id = ANY($1::uuid[]) AND resident_id = ANY($2::text[]) AND status <> 'CANCELLED'",
        list(set(session_ids)),
        list(set(resident_ids)),
    )
    return {(row["session_id"], row["resident_id"]) for row in rows}


async def set_seats_taken(conn: Connection, taken: dict[uuid.UUID, int]) -> None:
    """Write seat counts decided under the sessions' locks (the database still checks capacity)."""
    await conn.execute(
        "UPDATE activities.sessions s SET taken = v.taken "
        "FROM unnest($1::uuid[], $2::int[]) AS v(id, taken) WHERE s.id = v.id",
        list(taken),
        list(taken.values()),
    )


@dataclass(frozen=True)
class NewSignup:
    signup_id: uuid.UUID
    session_id: uuid.UUID
    resident_id: str
    party_size: int
    status: SignupStatus
    idempotency_key: str


async def insert_signups(conn: Connection, signups: Sequence[NewSignup]) -> list[asyncpg.Record]:
    """Insert many sign-ups in one statement; arrival order follows the given order."""
    return await conn.fetch(
        """
        INSERT INTO activities.signups
            (id, session_id, resident_id, party_size, status, idempotency_key)
        SELECT id, session_id, resident_id, party_size, status, idempotency_key
        FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::text[])
             WITH ORDINALITY AS t(id, session_id, resident_id, party_size, status, idempotency_key, n)
        ORDER BY n
        RETURNING *
        """,
        [s.signup_id for s in signups],
        [s.session_id for s in signups],
        [s.resident_id for s in signups],
        [s.party_size for s in signups],
        [s.status.value for s in signups],
        [s.idempotency_key for s in signups],
    )


async def get_signup(conn: Connection, signup_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM activities.signups WHERE id = $1", signup_id)


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
