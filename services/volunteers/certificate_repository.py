"""SQL for certificates (志愿服务记录证明), their numbering, and correction requests (volunteers
schema only). Every function takes a connection; the read models at the end serve the gateway."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime

import asyncpg

from services.common.clock import LOCAL_TZ
from services.common.db import Connection
from services.common.paging import DEFAULT_LIMIT, page_start
from services.volunteers.certificates import Activity, CorrectionStatus


async def next_serial(conn: Connection, issuer_id: str, year: int) -> int:
    """The next number of an issuer's year. The counter row stays locked until the caller's
    transaction ends, so concurrent issues queue here and a rolled-back one gives its number back."""
    serial = await conn.fetchval(
        """
        INSERT INTO volunteers.certificate_counters AS c (issuer_id, year, last) VALUES ($1, $2, 1)
        ON CONFLICT (issuer_id, year) DO UPDATE SET last = c.last + 1
        RETURNING last
        """,
        issuer_id,
        year,
    )
    return int(serial)


async def service_lines(
    conn: Connection, volunteer_id: str, community_id: str, since: datetime, until: datetime
) -> list[Activity]:
    """What the ledger credits a volunteer for each of the community's shifts that started in
    [since, until): attendance and corrections alike; shifts netting nothing are left out."""
    rows = await conn.fetch(
        """
        SELECT s.role, s.venue, s.starts_at, sum(l.minutes) AS minutes
        FROM volunteers.ledger l JOIN volunteers.shifts s ON s.id = l.shift_id
        WHERE l.volunteer_id = $1 AND s.community_id = $2 AND s.starts_at >= $3 AND s.starts_at < $4
        GROUP BY s.id, s.role, s.venue, s.starts_at
        HAVING sum(l.minutes) <> 0
        ORDER BY s.starts_at, s.id
        """,
        volunteer_id,
        community_id,
        since,
        until,
    )
    return [
        Activity(row["role"], row["venue"], row["starts_at"].astimezone(LOCAL_TZ).date(), int(row["minutes"]))
        for row in rows
    ]


async def insert_certificate(
    conn: Connection,
    certificate_id: uuid.UUID,
    number: str,
    issuer_id: str,
    year: int,
    serial: int,
    volunteer: dict[str, str],
    period: tuple[date, date],
    activities: list[Activity],
    issuer: dict[str, str],
    issued_at: datetime,
    issued_on: date,
    requested_by: str,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO volunteers.certificates (id, number, issuer_id, year, serial, volunteer_id,
            volunteer_name, volunteer_identity, starts_on, ends_on, minutes, activities, issuer_name,
            person_in_charge, handler, contact, issued_on, issued_at, requested_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14, $15, $16, $17, $18, $19)
        RETURNING *
        """,
        certificate_id,
        number,
        issuer_id,
        year,
        serial,
        volunteer["id"],
        volunteer["name"],
        volunteer["identity"],
        period[0],
        period[1],
        sum(activity.minutes for activity in activities),
        json.dumps([activity.as_json() for activity in activities], ensure_ascii=False),
        issuer["name"],
        issuer["person_in_charge"],
        issuer["handler"],
        issuer["contact"],
        issued_on,
        issued_at,
        requested_by,
    )
    assert row is not None
    return row


async def get_certificate(conn: Connection, certificate_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM volunteers.certificates WHERE id = $1", certificate_id)


async def certificate_by_number(
    conn: Connection, number: str, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT * FROM volunteers.certificates WHERE number = $1{lock}", number)


async def revoke_certificate(
    conn: Connection, certificate_id: uuid.UUID, reason: str, revoked_by: str, at: datetime
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "UPDATE volunteers.certificates SET status = 'REVOKED', revoke_reason = $2, revoked_by = $3, "
        "revoked_at = $4 WHERE id = $1 RETURNING *",
        certificate_id,
        reason,
        revoked_by,
        at,
    )
    assert row is not None
    return row


async def credited_for_shift(conn: Connection, volunteer_id: str, shift_id: uuid.UUID) -> int:
    total = await conn.fetchval(
        "SELECT coalesce(sum(minutes), 0) FROM volunteers.ledger WHERE volunteer_id = $1 AND shift_id = $2",
        volunteer_id,
        shift_id,
    )
    return int(total)


async def has_record(conn: Connection, volunteer_id: str, shift_id: uuid.UUID) -> bool:
    """Whether the volunteer has anything to correct on the shift: a sign-up or a ledger entry."""
    found = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM volunteers.shift_signups WHERE volunteer_id = $1 AND shift_id = $2) "
        "OR EXISTS (SELECT 1 FROM volunteers.ledger WHERE volunteer_id = $1 AND shift_id = $2)",
        volunteer_id,
        shift_id,
    )
    return bool(found)


async def insert_correction_request(
    conn: Connection,
    request_id: uuid.UUID,
    volunteer_id: str,
    shift: asyncpg.Record,
    credited: int,
    asked: int,
    reason: str,
    at: datetime,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO volunteers.correction_requests (id, volunteer_id, shift_id, community_id,
            credited_minutes, asked_minutes, reason, requested_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *
        """,
        request_id,
        volunteer_id,
        shift["id"],
        shift["community_id"],
        credited,
        asked,
        reason,
        at,
    )
    assert row is not None
    return row


async def get_correction_request(
    conn: Connection, request_id: uuid.UUID, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT * FROM volunteers.correction_requests WHERE id = $1{lock}", request_id
    )


async def decide_correction_request(
    conn: Connection,
    request_id: uuid.UUID,
    status: CorrectionStatus,
    decline_reason: str | None,
    decided_by: str,
    at: datetime,
    entry_id: uuid.UUID | None,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "UPDATE volunteers.correction_requests SET status = $2, decline_reason = $3, decided_by = $4, "
        "decided_at = $5, correction_entry = $6 WHERE id = $1 AND status = 'OPEN' RETURNING *",
        request_id,
        status.value,
        decline_reason,
        decided_by,
        at,
        entry_id,
    )
    assert row is not None  # the caller holds the row locked and saw it OPEN
    return row


async def confirm_records(conn: Connection, shift_id: uuid.UUID, confirmed_by: str, at: datetime) -> int:
    """Mark the shift's unconfirmed ledger entries confirmed by ``confirmed_by``; how many."""
    done = await conn.fetchval(
        "WITH c AS (UPDATE volunteers.ledger SET confirmed_by = $2, confirmed_at = $3 "
        "WHERE shift_id = $1 AND confirmed_at IS NULL RETURNING 1) SELECT count(*) FROM c",
        shift_id,
        confirmed_by,
        at,
    )
    return int(done)


# --- read models ----------------------------------------------------------------------------------


async def unconfirmed_entries(conn: Connection, shift_id: uuid.UUID) -> int:
    """How many of the shift's ledger entries wait for confirmation: what confirming changes."""
    found = await conn.fetchval(
        "SELECT count(*) FROM volunteers.ledger WHERE shift_id = $1 AND confirmed_at IS NULL", shift_id
    )
    return int(found)


_REQUEST_COLUMNS = """
    r.*, s.role, s.venue, s.starts_at, s.ends_at,
    (SELECT coalesce(sum(l.minutes), 0) FROM volunteers.ledger l
      WHERE l.shift_id = r.shift_id AND l.volunteer_id = r.volunteer_id) AS minutes_now
"""


async def _request_key(
    conn: Connection, column: str, who: str, after: uuid.UUID | None
) -> asyncpg.Record | None:
    """Where a page of requests after request ``after`` (one of ``column`` = ``who``) starts."""
    return await page_start(
        conn,
        after,
        f"SELECT requested_at, id FROM volunteers.correction_requests WHERE id = $1 AND {column} = $2",
        after,
        who,
    )


async def open_correction_requests(
    conn: Connection, community_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the community's open correction requests, oldest first."""
    start = await _request_key(conn, "community_id", community_id, after)
    return await conn.fetch(
        f"SELECT {_REQUEST_COLUMNS} FROM volunteers.correction_requests r "
        "JOIN volunteers.shifts s ON s.id = r.shift_id WHERE r.community_id = $1 AND r.status = 'OPEN' "
        "AND ($3::timestamptz IS NULL OR (r.requested_at, r.id) > ($3, $4)) "
        "ORDER BY r.requested_at, r.id LIMIT $2",
        community_id,
        limit,
        start and start["requested_at"],
        start and start["id"],
    )


async def correction_requests_of(
    conn: Connection, volunteer_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of a volunteer's correction requests, newest first."""
    start = await _request_key(conn, "volunteer_id", volunteer_id, after)
    return await conn.fetch(
        f"SELECT {_REQUEST_COLUMNS} FROM volunteers.correction_requests r "
        "JOIN volunteers.shifts s ON s.id = r.shift_id WHERE r.volunteer_id = $1 "
        "AND ($3::timestamptz IS NULL OR (r.requested_at, r.id) < ($3, $4)) "
        "ORDER BY r.requested_at DESC, r.id DESC LIMIT $2",
        volunteer_id,
        limit,
        start and start["requested_at"],
        start and start["id"],
    )


async def correction_request_read(conn: Connection, request_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_REQUEST_COLUMNS} FROM volunteers.correction_requests r "
        "JOIN volunteers.shifts s ON s.id = r.shift_id WHERE r.id = $1",
        request_id,
    )


async def _certificate_key(
    conn: Connection, column: str, who: str, after: uuid.UUID | None
) -> asyncpg.Record | None:
    """Where a page of certificates after certificate ``after`` (one of ``column`` = ``who``) starts."""
    return await page_start(
        conn,
        after,
        f"SELECT issued_at, id FROM volunteers.certificates WHERE id = $1 AND {column} = $2",
        after,
        who,
    )


async def certificate_register(
    conn: Connection,
    issuer_id: str,
    year: int | None,
    limit: int = DEFAULT_LIMIT,
    after: uuid.UUID | None = None,
) -> list[asyncpg.Record]:
    """A page of the issuer's register: the certificates it issued (of a year), newest first."""
    start = await _certificate_key(conn, "issuer_id", issuer_id, after)
    return await conn.fetch(
        "SELECT * FROM volunteers.certificates WHERE issuer_id = $1 AND ($2::int IS NULL OR year = $2) "
        "AND ($4::timestamptz IS NULL OR (issued_at, id) < ($4, $5)) "
        "ORDER BY issued_at DESC, id DESC LIMIT $3",
        issuer_id,
        year,
        limit,
        start and start["issued_at"],
        start and start["id"],
    )


async def certificates_of(
    conn: Connection, volunteer_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of a volunteer's certificates, newest first."""
    start = await _certificate_key(conn, "volunteer_id", volunteer_id, after)
    return await conn.fetch(
        "SELECT * FROM volunteers.certificates WHERE volunteer_id = $1 "
        "AND ($3::timestamptz IS NULL OR (issued_at, id) < ($3, $4)) "
        "ORDER BY issued_at DESC, id DESC LIMIT $2",
        volunteer_id,
        limit,
        start and start["issued_at"],
        start and start["id"],
    )


async def certificate_numbers_of(
    conn: Connection, volunteer_ids: list[str], issuer_id: str, start: date, end: date
) -> dict[str, list[str]]:
    """Per volunteer: the valid certificates the community issued for periods overlapping
    [start, end] (what a 双报告 lists beside each member)."""
    rows = await conn.fetch(
        "SELECT volunteer_id, number FROM volunteers.certificates WHERE volunteer_id = ANY($1::text[]) "
        "AND issuer_id = $2 AND status = 'VALID' AND starts_on <= $4 AND ends_on >= $3 "
        "ORDER BY issued_at, number",
        volunteer_ids,
        issuer_id,
        start,
        end,
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row["volunteer_id"], []).append(row["number"])
    return found
