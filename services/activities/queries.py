"""Read models of the activities schema, for the gateway (read-only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from services.common.db import Connection, row_as_dict

_SESSION_COLUMNS = """
    s.id, s.activity_id, s.community_id, s.venue, s.starts_at, s.ends_at, s.capacity, s.taken,
    s.status, s.cancel_reason, s.venue_id, s.registration_opens_at, s.registration_closes_at,
    s.max_party_size, s.cancellation_deadline, s.rescheduled_at,
    (SELECT count(*) FROM activities.signups w
      WHERE w.session_id = s.id AND w.status = 'WAITLISTED') AS waitlist_length
"""


async def festivals(conn: Connection, organiser_of: Sequence[str], everything: bool) -> list[asyncpg.Record]:
    """Published festivals, plus unpublished ones of the communities the viewer organises
    (all of them when ``everything``)."""
    return await conn.fetch(
        "SELECT * FROM activities.festivals "
        "WHERE published OR $2 OR community_ids && $1::text[] ORDER BY starts_on, id",
        list(organiser_of),
        everything,
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


async def venues(conn: Connection, community_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM activities.venues WHERE community_id = $1 ORDER BY name, id", community_id
    )


async def venue(conn: Connection, venue_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM activities.venues WHERE id = $1", venue_id)


async def activities_of(conn: Connection, festival_ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    """The activities of these festivals (one read for a whole festival list), oldest first."""
    return await conn.fetch(
        "SELECT * FROM activities.activities WHERE festival_id = ANY($1::uuid[]) ORDER BY created_at, id",
        list(festival_ids),
    )


async def sessions_of(conn: Connection, activity_ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    """The sessions of these activities (one read for all a page shows), earliest first."""
    return await conn.fetch(
        f"SELECT {_SESSION_COLUMNS} FROM activities.sessions s "
        "WHERE s.activity_id = ANY($1::uuid[]) ORDER BY s.starts_at, s.id",
        list(activity_ids),
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


async def signups_of_resident(conn: Connection, resident_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_SIGNUP_COLUMNS} FROM activities.signups g "
        "WHERE g.resident_id = $1 ORDER BY g.arrival DESC",
        resident_id,
    )


async def signups_with_sessions(conn: Connection, resident_id: str) -> list[asyncpg.Record]:
    """A resident's sign-ups, each with its session and activity title, soonest session first."""
    return await conn.fetch(
        f"""
        SELECT {_SIGNUP_COLUMNS}, g.proxy_id, a.title AS activity_title, s.venue, s.starts_at,
               s.ends_at, s.status AS session_status
        FROM activities.signups g
        JOIN activities.sessions s ON s.id = g.session_id
        JOIN activities.activities a ON a.id = s.activity_id
        WHERE g.resident_id = $1
        ORDER BY g.status = 'CANCELLED', s.starts_at, g.arrival
        """,
        resident_id,
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
