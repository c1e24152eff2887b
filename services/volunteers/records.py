"""Read model of a community's service records for export (read-only): per volunteer and shift,
the minutes the ledger credits (attendance and corrections), when they actually came and left,
who confirmed the record, and the certificates that cover it."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg

from services.common.db import Connection
from services.common.errors import Refusal

MAX_RECORDS = 20_000


async def service_records(
    conn: Connection, community_id: str, since: datetime, until: datetime
) -> list[asyncpg.Record]:
    """The community's records of shifts that started in [since, until), oldest first; a shift
    a volunteer's entries net to nothing for is left out."""
    rows = await conn.fetch(
        """
        SELECT l.volunteer_id, s.id AS shift_id, s.role, s.venue, s.starts_at, s.ends_at, s.festival_id,
               sum(l.minutes) AS minutes,
               min(c.checked_in_at) AS arrived_at, max(c.checked_out_at) AS left_at,
               max(l.confirmed_at) AS confirmed_at,
               (array_agg(l.confirmed_by ORDER BY l.confirmed_at DESC NULLS LAST))[1] AS confirmed_by
        FROM volunteers.ledger l
        JOIN volunteers.shifts s ON s.id = l.shift_id
        LEFT JOIN volunteers.check_ins c ON c.id = l.check_in_id AND c.undone_at IS NULL
        WHERE s.community_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3
        GROUP BY l.volunteer_id, s.id
        HAVING sum(l.minutes) <> 0
        ORDER BY s.starts_at, s.id, l.volunteer_id
        LIMIT $4
        """,
        community_id,
        since,
        until,
        MAX_RECORDS + 1,
    )
    if len(rows) > MAX_RECORDS:  # an export that silently left some out would mislead
        raise Refusal(
            "REPORT_TOO_LARGE", "记录过多，请缩短导出期间", "Too many records: choose a shorter period"
        )
    return rows


async def valid_certificates(
    conn: Connection, community_id: str, volunteer_ids: list[str]
) -> dict[str, list[tuple[date, date, str]]]:
    """Per volunteer: (starts_on, ends_on, number) of the community's valid certificates."""
    rows = await conn.fetch(
        "SELECT volunteer_id, starts_on, ends_on, number FROM volunteers.certificates "
        "WHERE issuer_id = $1 AND volunteer_id = ANY($2::text[]) AND status = 'VALID' ORDER BY issued_at",
        community_id,
        volunteer_ids,
    )
    found: dict[str, list[tuple[date, date, str]]] = {}
    for row in rows:
        found.setdefault(row["volunteer_id"], []).append((row["starts_on"], row["ends_on"], row["number"]))
    return found
