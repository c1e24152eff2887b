"""Read models of the volunteers schema, for the gateway (read-only)."""

from __future__ import annotations

import uuid

import asyncpg

from services.common.db import Connection


async def shift(conn: Connection, shift_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM volunteers.shifts WHERE id = $1", shift_id)


async def shifts_of_community(conn: Connection, community_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM volunteers.shifts WHERE community_id = $1 ORDER BY starts_at, id", community_id
    )


async def communities_at_venue(conn: Connection, venue_key: str) -> list[str]:
    """The communities that run shifts at a venue: their organisers may show its station code."""
    rows = await conn.fetch(
        "SELECT DISTINCT community_id FROM volunteers.shifts WHERE venue_key = $1", venue_key
    )
    return [row["community_id"] for row in rows]


async def signups_of_volunteer(conn: Connection, volunteer_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT g.* FROM volunteers.shift_signups g JOIN volunteers.shifts s ON s.id = g.shift_id "
        "WHERE g.volunteer_id = $1 ORDER BY s.starts_at, g.id",
        volunteer_id,
    )


async def latest_check_in(conn: Connection, shift_id: uuid.UUID, volunteer_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT c.*, l.minutes AS minutes_credited FROM volunteers.check_ins c "
        "LEFT JOIN volunteers.ledger l ON l.check_in_id = c.id "
        "WHERE c.shift_id = $1 AND c.volunteer_id = $2 AND c.undone_at IS NULL "
        "ORDER BY c.checked_in_at DESC, c.id DESC LIMIT 1",
        shift_id,
        volunteer_id,
    )


async def ledger_of(conn: Connection, volunteer_id: str) -> list[asyncpg.Record]:
    """A volunteer's records: each entry with its shift's content (role), place and end."""
    return await conn.fetch(
        "SELECT l.*, s.role AS content, s.venue AS place, s.starts_at AS shift_starts_at, "
        "s.ends_at AS shift_ends_at FROM volunteers.ledger l "
        "LEFT JOIN volunteers.shifts s ON s.id = l.shift_id "
        "WHERE l.volunteer_id = $1 ORDER BY l.created_at, l.id",
        volunteer_id,
    )


async def roster(conn: Connection, shift_id: uuid.UUID) -> list[asyncpg.Record]:
    """Who signed up for a shift, with their latest check-in and what the shift credited them."""
    return await conn.fetch(
        """
        SELECT g.volunteer_id, g.created_at AS signed_up_at,
               c.checked_in_at, c.checked_out_at, c.method,
               (SELECT coalesce(sum(l.minutes), 0) FROM volunteers.ledger l
                 WHERE l.shift_id = g.shift_id AND l.volunteer_id = g.volunteer_id) AS minutes_credited
        FROM volunteers.shift_signups g
        LEFT JOIN LATERAL (
            SELECT * FROM volunteers.check_ins c
            WHERE c.shift_id = g.shift_id AND c.volunteer_id = g.volunteer_id AND c.undone_at IS NULL
            ORDER BY c.checked_in_at DESC, c.id DESC LIMIT 1
        ) c ON true
        WHERE g.shift_id = $1
        ORDER BY g.created_at, g.volunteer_id
        """,
        shift_id,
    )


async def open_check_in(conn: Connection, shift_id: uuid.UUID, volunteer_id: str) -> asyncpg.Record | None:
    """The volunteer's check-in for the shift that is not closed yet, if any."""
    return await conn.fetchrow(
        "SELECT * FROM volunteers.check_ins "
        "WHERE shift_id = $1 AND volunteer_id = $2 AND checked_out_at IS NULL",
        shift_id,
        volunteer_id,
    )


async def completed_attendance(conn: Connection, volunteer_id: str) -> list[asyncpg.Record]:
    """A volunteer's closed check-ins with their shifts' times (what later credits merge with)."""
    return await conn.fetch(
        "SELECT c.id, c.checked_in_at, c.checked_out_at, s.starts_at, s.ends_at "
        "FROM volunteers.check_ins c JOIN volunteers.shifts s ON s.id = c.shift_id "
        "WHERE c.volunteer_id = $1 AND c.checked_out_at IS NOT NULL AND c.undone_at IS NULL",
        volunteer_id,
    )
