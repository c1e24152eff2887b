"""SQL for attendance (``activities.attendance``) and the reads built on it: the ticket at the
door, rosters, no-shows, calendars and live seat counts. Every function takes a connection.

Kept apart from ``repository``/``queries`` so tickets and rosters grow without touching the
sign-up path; the only writer here is ``record_check_in`` (run by the activities worker).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.common.db import Connection
from services.common.paging import DEFAULT_LIMIT, page_start


async def session_at_door(conn: Connection, session_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT s.id, s.community_id, s.venue, s.starts_at, s.ends_at, s.status,
               s.created_at, s.rescheduled_at, a.title AS activity_title, a.category AS activity_category,
               CASE WHEN v.kind = 'STATION' THEN v.name ELSE '' END AS station
        FROM activities.sessions s JOIN activities.activities a ON a.id = s.activity_id
        LEFT JOIN activities.venues v ON v.id = s.venue_id
        WHERE s.id = $1
        """,
        session_id,
    )


async def lock_ticket(conn: Connection, signup_id: uuid.UUID) -> asyncpg.Record | None:
    """The sign-up a ticket names with its check-in, if any, locked until the caller's
    transaction ends: two scans of one ticket take turns, and a cancellation waits. (The
    session is not locked: see migration 004.)"""
    return await conn.fetchrow(
        """
        SELECT g.id, g.session_id, g.resident_id, g.party_size, g.status,
               t.id AS check_in_id, t.checked_in_at, t.admitted
        FROM activities.signups g LEFT JOIN activities.attendance t ON t.signup_id = g.id
        WHERE g.id = $1
        FOR NO KEY UPDATE OF g
        """,
        signup_id,
    )


async def checked_in_at(conn: Connection, signup_id: uuid.UUID) -> datetime | None:
    """When the sign-up's party checked in at the door, if it has."""
    at: datetime | None = await conn.fetchval(
        "SELECT checked_in_at FROM activities.attendance WHERE signup_id = $1", signup_id
    )
    return at


async def record_check_in(
    conn: Connection,
    check_in_id: uuid.UUID,
    signup_id: uuid.UUID,
    scanned_by: str,
    at: datetime,
    people: int,
    first: bool,
    offline: dict[str, Any] | None = None,
) -> int:
    """Let ``people`` more of the sign-up's party in (the caller holds ``lock_ticket``'s lock and
    decided they may come in); ``first`` when none of them is in yet. How many are in now."""
    if first:
        await conn.execute(
            """
            INSERT INTO activities.attendance (signup_id, id, scanned_by, checked_in_at, admitted)
            VALUES ($1, $2, $3, $4, $5)
            """,
            signup_id,
            check_in_id,
            scanned_by,
            at,
            people,
        )
        admitted = people
    else:
        admitted = await conn.fetchval(
            "UPDATE activities.attendance SET admitted = admitted + $2 "
            "WHERE signup_id = $1 RETURNING admitted",
            signup_id,
            people,
        )
    await conn.execute(
        """
        INSERT INTO activities.admissions
            (id, signup_id, people, admitted, scanned_by, admitted_at, device_id, offline_at, override)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        check_in_id,
        signup_id,
        people,
        admitted,
        scanned_by,
        at,
        offline["device_id"] if offline else None,
        datetime.fromisoformat(offline["offline_at"]) if offline else None,
        bool(offline and offline.get("override")),
    )
    return int(admitted)


async def offline_conflict(conn: Connection, conflict_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM activities.offline_conflicts WHERE id = $1", conflict_id)


async def record_conflict(
    conn: Connection,
    conflict_id: uuid.UUID,
    session_id: uuid.UUID,
    signup_id: uuid.UUID,
    scanned_by: str,
    offline: dict[str, Any],
    at: datetime,
) -> asyncpg.Record:
    """Keep an offline scan of a party already in beside the admission that let it in first."""
    row = await conn.fetchrow(
        """
        INSERT INTO activities.offline_conflicts
        SELECT $1, $2, $3, $4, $5, $6, $7, a.id, a.scanned_by, a.admitted_at, a.device_id, a.override, $8
        FROM activities.admissions a WHERE a.signup_id = $3
        ORDER BY a.admitted_at, a.id LIMIT 1
        RETURNING *
        """,
        conflict_id,
        session_id,
        signup_id,
        offline["device_id"],
        scanned_by,
        datetime.fromisoformat(offline["offline_at"]),
        bool(offline.get("override")),
        at,
    )
    assert row is not None  # the party is in, so its first admission exists
    return row


async def offline_conflicts(conn: Connection, session_id: uuid.UUID) -> list[asyncpg.Record]:
    """A session's offline conflicts, oldest first, with the sign-up's holder."""
    return await conn.fetch(
        """
        SELECT c.*, g.resident_id, g.party_size FROM activities.offline_conflicts c
        JOIN activities.signups g ON g.id = c.signup_id
        WHERE c.session_id = $1 ORDER BY c.reported_at, c.id
        """,
        session_id,
    )


async def offline_roster(conn: Connection, session_id: uuid.UUID) -> list[asyncpg.Record]:
    """What a door device takes offline: every sign-up of the session with its state and how
    many of its party are in (cancelled ones become the revocation list)."""
    return await conn.fetch(
        """
        SELECT g.id AS signup_id, g.resident_id, g.party_size, g.status, g.attendees,
               s.status AS session_status, coalesce(t.admitted, 0) AS admitted
        FROM activities.signups g
        JOIN activities.sessions s ON s.id = g.session_id
        LEFT JOIN activities.attendance t ON t.signup_id = g.id
        WHERE g.session_id = $1 AND g.status <> 'WAITLISTED'
        ORDER BY g.arrival
        """,
        session_id,
    )


async def admission(conn: Connection, admission_id: uuid.UUID) -> asyncpg.Record | None:
    """One scan that let (part of) a party in, by the id its idempotency key gives it."""
    return await conn.fetchrow("SELECT * FROM activities.admissions WHERE id = $1", admission_id)


async def confirmed_at_door(conn: Connection, session_id: uuid.UUID) -> list[asyncpg.Record]:
    """The session's confirmed sign-ups with how many of each party are in: the door's search."""
    return await conn.fetch(
        """
        SELECT g.id AS signup_id, g.resident_id, g.party_size, g.attendees,
               t.checked_in_at, coalesce(t.admitted, 0) AS admitted
        FROM activities.signups g LEFT JOIN activities.attendance t ON t.signup_id = g.id
        WHERE g.session_id = $1 AND g.status = 'CONFIRMED'
        ORDER BY g.arrival
        """,
        session_id,
    )


async def roster(
    conn: Connection, session_id: uuid.UUID, limit: int | None = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the session's live sign-ups: confirmed in arrival order, then the waitlist in
    order, after sign-up ``after`` (every one when ``limit`` is None: the CSV export)."""
    start = await page_start(
        conn,
        after,
        "SELECT status = 'WAITLISTED' AS waiting, arrival FROM activities.signups "
        "WHERE id = $1 AND session_id = $2",  # one cancelled since keeps its place
        after,
        session_id,
    )
    return await conn.fetch(
        """
        SELECT g.id AS signup_id, g.resident_id, g.party_size, g.status, g.created_at,
               g.attendees, t.checked_in_at, coalesce(t.admitted, 0) AS admitted
        FROM activities.signups g LEFT JOIN activities.attendance t ON t.signup_id = g.id
        WHERE g.session_id = $1 AND g.status <> 'CANCELLED'
          AND ($3::bool IS NULL OR (g.status = 'WAITLISTED', g.arrival) > ($3, $4))
        ORDER BY g.status = 'WAITLISTED', g.arrival
        LIMIT $2
        """,
        session_id,
        limit,
        start and start["waiting"],
        start and start["arrival"],
    )


async def no_shows(
    conn: Connection, community_id: str, now: datetime, limit: int = DEFAULT_LIMIT
) -> list[asyncpg.Record]:
    """The ``limit`` residents who missed most: per resident, how many confirmed sign-ups of the
    community's ended sessions were never checked in (a session called off is nobody's no-show:
    its sign-ups are cancelled)."""
    return await conn.fetch(
        """
        SELECT g.resident_id, count(*) AS no_shows, max(s.ends_at) AS last_missed_at
        FROM activities.signups g
        JOIN activities.sessions s ON s.id = g.session_id
        LEFT JOIN activities.attendance t ON t.signup_id = g.id
        WHERE s.community_id = $1 AND s.ends_at <= $2
          AND g.status = 'CONFIRMED' AND t.signup_id IS NULL
        GROUP BY g.resident_id
        ORDER BY count(*) DESC, g.resident_id
        LIMIT $3
        """,
        community_id,
        now,
        limit,
    )


_CALENDAR_COLUMNS = """
    s.id, s.venue, s.starts_at, s.ends_at, s.status, s.cancel_reason, s.community_id,
    a.title AS activity_title, a.description, f.name AS festival_name,
    f.published, f.community_ids AS festival_communities,
    (SELECT v.address FROM activities.venues v WHERE v.id = s.venue_id) AS venue_address
"""


async def session_for_calendar(conn: Connection, session_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        SELECT {_CALENDAR_COLUMNS}
        FROM activities.sessions s
        JOIN activities.activities a ON a.id = s.activity_id
        JOIN activities.festivals f ON f.id = a.festival_id
        WHERE s.id = $1
        """,
        session_id,
    )


async def confirmed_sessions_of(conn: Connection, resident_id: str) -> list[asyncpg.Record]:
    """The sessions a resident holds confirmed seats for, earliest first."""
    return await conn.fetch(
        f"""
        SELECT {_CALENDAR_COLUMNS}, g.party_size
        FROM activities.signups g
        JOIN activities.sessions s ON s.id = g.session_id
        JOIN activities.activities a ON a.id = s.activity_id
        JOIN activities.festivals f ON f.id = a.festival_id
        WHERE g.resident_id = $1 AND g.status = 'CONFIRMED'
        ORDER BY s.starts_at, s.id
        """,
        resident_id,
    )


async def seat_counts(conn: Connection, session_ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    """Sessions' seat counts, with the database's time of reading them (``as_of``): a later
    read never sees less than an earlier one, so readers can drop counts that arrive late."""
    return await conn.fetch(
        """
        SELECT s.id, s.capacity, s.taken, s.status, statement_timestamp() AS as_of,
               (SELECT count(*) FROM activities.signups w
                 WHERE w.session_id = s.id AND w.status = 'WAITLISTED') AS waitlist_length,
               f.published, f.community_ids AS festival_communities
        FROM activities.sessions s
        JOIN activities.activities a ON a.id = s.activity_id
        JOIN activities.festivals f ON f.id = a.festival_id
        WHERE s.id = ANY($1::uuid[])
        """,
        list(session_ids),
    )
