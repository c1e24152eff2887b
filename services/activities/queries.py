"""Read models of the activities schema, for the gateway (read-only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from services.common.db import Connection, row_as_dict
from services.common.paging import DEFAULT_LIMIT, page_start

_SESSION_COLUMNS = """
    s.id, s.activity_id, s.community_id, s.venue, s.starts_at, s.ends_at, s.capacity, s.taken,
    s.status, s.cancel_reason, s.venue_id, s.registration_opens_at, s.registration_closes_at,
    s.max_party_size, s.cancellation_deadline, s.rescheduled_at,
    (SELECT count(*) FROM activities.signups w
      WHERE w.session_id = s.id AND w.status = 'WAITLISTED') AS waitlist_length
"""


async def festivals(
    conn: Connection,
    organiser_of: Sequence[str],
    everything: bool,
    limit: int = DEFAULT_LIMIT,
    after: uuid.UUID | None = None,
) -> list[asyncpg.Record]:
    """A page of the published festivals, plus unpublished ones of the communities the viewer
    organises (all of them when ``everything``), by first day then id, after festival ``after``."""
    start = await page_start(
        conn, after, "SELECT starts_on, id FROM activities.festivals WHERE id = $1", after
    )
    return await conn.fetch(
        "SELECT * FROM activities.festivals "
        "WHERE (published OR $2 OR community_ids && $1::text[]) "
        "AND ($4::date IS NULL OR (starts_on, id) > ($4, $5)) ORDER BY starts_on, id LIMIT $3",
        list(organiser_of),
        everything,
        limit,
        start and start["starts_on"],
        start and start["id"],
    )


async def festival(conn: Connection, festival_id: uuid.UUID) -> asyncpg.Record | None:
    # version: the row's xmin, new with every change: a key derived from it names one state.
    return await conn.fetchrow(
        "SELECT *, xmin::text AS version FROM activities.festivals WHERE id = $1", festival_id
    )


async def festival_of_session(conn: Connection, session_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT f.* FROM activities.festivals f "
        "JOIN activities.activities a ON a.festival_id = f.id "
        "JOIN activities.sessions s ON s.activity_id = a.id WHERE s.id = $1",
        session_id,
    )


async def venues(
    conn: Connection, community_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the community's venues, by name then id, after venue ``after``."""
    start = await page_start(
        conn,
        after,
        "SELECT name, id FROM activities.venues WHERE id = $1 AND community_id = $2",
        after,
        community_id,
    )
    return await conn.fetch(
        "SELECT * FROM activities.venues WHERE community_id = $1 "
        "AND ($3::text IS NULL OR (name, id) > ($3, $4)) ORDER BY name, id LIMIT $2",
        community_id,
        limit,
        start and start["name"],
        start and start["id"],
    )


async def venue(conn: Connection, venue_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM activities.venues WHERE id = $1", venue_id)


async def activities_of(
    conn: Connection,
    festival_ids: Sequence[uuid.UUID],
    limit: int = DEFAULT_LIMIT,
    after: uuid.UUID | None = None,
) -> list[asyncpg.Record]:
    """A page of the activities of each of these festivals (one read for a whole festival
    list), oldest first; with ``after``, of its festival only, after that activity."""
    start = await page_start(
        conn,
        after,
        "SELECT created_at, id FROM activities.activities WHERE id = $1 AND festival_id = ANY($2::uuid[])",
        after,
        list(festival_ids),
    )
    return await conn.fetch(
        "SELECT a.* FROM unnest($1::uuid[]) AS p(id) CROSS JOIN LATERAL ("
        "  SELECT * FROM activities.activities a WHERE a.festival_id = p.id"
        "  AND ($3::timestamptz IS NULL OR (a.created_at, a.id) > ($3, $4))"
        "  ORDER BY a.created_at, a.id LIMIT $2) a",
        list(festival_ids),
        limit,
        start and start["created_at"],
        start and start["id"],
    )


async def sessions_of(
    conn: Connection,
    activity_ids: Sequence[uuid.UUID],
    limit: int = DEFAULT_LIMIT,
    after: uuid.UUID | None = None,
) -> list[asyncpg.Record]:
    """A page of the sessions of each of these activities (one read for all a page shows),
    earliest first; with ``after``, of its activity only, after that session."""
    start = await page_start(
        conn,
        after,
        "SELECT starts_at, id FROM activities.sessions WHERE id = $1 AND activity_id = ANY($2::uuid[])",
        after,
        list(activity_ids),
    )
    return await conn.fetch(
        f"SELECT s.* FROM unnest($1::uuid[]) AS p(id) CROSS JOIN LATERAL ("
        f"  SELECT {_SESSION_COLUMNS} FROM activities.sessions s WHERE s.activity_id = p.id"
        "  AND ($3::timestamptz IS NULL OR (s.starts_at, s.id) > ($3, $4))"
        "  ORDER BY s.starts_at, s.id LIMIT $2) s",
        list(activity_ids),
        limit,
        start and start["starts_at"],
        start and start["id"],
    )


async def session(conn: Connection, session_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_SESSION_COLUMNS} FROM activities.sessions s WHERE s.id = $1", session_id
    )


_SIGNUP_COLUMNS = """
    g.id, g.session_id, g.resident_id, g.party_size, g.status, g.created_at, g.attendees,
    g.free_cancel,
    CASE WHEN g.status = 'WAITLISTED' THEN (
        SELECT count(*) FROM activities.signups w
        WHERE w.session_id = g.session_id AND w.status = 'WAITLISTED'
          AND w.arrival <= g.arrival
    ) END AS waitlist_position
"""


async def signup(conn: Connection, signup_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_SIGNUP_COLUMNS} FROM activities.signups g WHERE g.id = $1", signup_id
    )


async def signups_of_resident(
    conn: Connection, resident_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the resident's sign-ups, latest first, after sign-up ``after``."""
    start = await page_start(
        conn,
        after,
        "SELECT arrival FROM activities.signups WHERE id = $1 AND resident_id = $2",
        after,
        resident_id,
    )
    return await conn.fetch(
        f"SELECT {_SIGNUP_COLUMNS} FROM activities.signups g "
        "WHERE g.resident_id = $1 AND ($3::bigint IS NULL OR g.arrival < $3) "
        "ORDER BY g.arrival DESC LIMIT $2",
        resident_id,
        limit,
        start and start["arrival"],
    )


async def signups_with_sessions(
    conn: Connection, resident_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of a resident's sign-ups, each with its session and activity title: live ones
    first, soonest session first, after sign-up ``after``."""
    start = await page_start(
        conn,
        after,
        "SELECT g.status = 'CANCELLED' AS cancelled, s.starts_at, g.arrival FROM activities.signups g "
        "JOIN activities.sessions s ON s.id = g.session_id WHERE g.id = $1 AND g.resident_id = $2",
        after,
        resident_id,
    )
    return await conn.fetch(
        f"""
        SELECT {_SIGNUP_COLUMNS}, g.proxy_id, a.title AS activity_title, s.venue, s.starts_at,
               s.ends_at, s.status AS session_status
        FROM activities.signups g
        JOIN activities.sessions s ON s.id = g.session_id
        JOIN activities.activities a ON a.id = s.activity_id
        WHERE g.resident_id = $1
          AND ($3::bool IS NULL OR (g.status = 'CANCELLED', s.starts_at, g.arrival) > ($3, $4, $5))
        ORDER BY g.status = 'CANCELLED', s.starts_at, g.arrival
        LIMIT $2
        """,
        resident_id,
        limit,
        start and start["cancelled"],
        start and start["starts_at"],
        start and start["arrival"],
    )


async def signup_made_by(conn: Connection, signup_id: uuid.UUID) -> asyncpg.Record | None:
    """Whose sign-up it is and who made it (a grid worker, or null for the resident)."""
    return await conn.fetchrow(
        "SELECT id, session_id, resident_id, proxy_id, status FROM activities.signups WHERE id = $1",
        signup_id,
    )


async def admitted(conn: Connection, signup_id: uuid.UUID) -> int:
    """How many of a sign-up's party have been let in so far."""
    found = await conn.fetchval("SELECT admitted FROM activities.attendance WHERE signup_id = $1", signup_id)
    return int(found or 0)


async def personal_data(conn: Connection, resident_id: str) -> dict[str, Any]:
    """What activities holds about a resident: every sign-up, with whom and for what."""
    rows = await conn.fetch(
        """
        SELECT a.title AS activity, s.venue, s.starts_at, s.ends_at, g.status, g.party_size,
               g.attendees, g.created_at, g.cancelled_at, g.proxy_id AS made_by_grid_worker
        FROM activities.signups g
        JOIN activities.sessions s ON s.id = g.session_id
        JOIN activities.activities a ON a.id = s.activity_id
        WHERE g.resident_id = $1
        ORDER BY s.starts_at, g.arrival
        """,
        resident_id,
    )
    return {"signups": [row_as_dict(row) for row in rows]}
