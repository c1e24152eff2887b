"""Read models of who volunteers are and what they did, for organisers and work units (read-only).

The 双报告 report: for a work unit and a period, each of its party members who reported to a
community (双报到) and whom the community approved (a registration waiting for review or declined
is not reported), with every shift of theirs that started in the period, whether they came,
and the minutes the ledger credits them for it (attendance and corrections alike, so the report
always adds up to the ledger), the 微心愿 wishes they met, and the numbers of the certificates
of service (志愿服务记录证明) the community issued them for the period. A period is whole days in the
deployment's local time zone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import asyncpg

from services.common.clock import LOCAL_TZ
from services.common.db import Connection
from services.common.errors import Refusal
from services.common.paging import DEFAULT_LIMIT, page_start, unknown_cursor
from services.volunteers.certificate_repository import certificate_numbers_of
from services.volunteers.profiles import unit_key

MAX_ROWS = 2000
MAX_SHIFT_LINES = 20_000


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants a period of local days covers: from ``start``'s midnight to the one after ``end``."""
    return (
        datetime.combine(start, time(), LOCAL_TZ),
        datetime.combine(end + timedelta(days=1), time(), LOCAL_TZ),
    )


# --- profiles -----------------------------------------------------------------------------------


async def profile(conn: Connection, volunteer_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM volunteers.profiles WHERE volunteer_id = $1", volunteer_id)


async def skills_of(conn: Connection, volunteer_id: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT DISTINCT skill FROM volunteers.skills WHERE volunteer_id = $1 AND community_id <> '' "
        "ORDER BY skill",
        volunteer_id,
    )
    return [row["skill"] for row in rows]


async def party_member(conn: Connection, volunteer_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM volunteers.party_members WHERE volunteer_id = $1", volunteer_id)


async def _member_key(conn: Connection, community_id: str, after: str | None) -> asyncpg.Record | None:
    """The registration a page of the community's party members goes on after."""
    return await page_start(
        conn,
        after,
        "SELECT * FROM volunteers.party_members WHERE volunteer_id = $1 AND community_id = $2",
        after,
        community_id,
    )


async def party_members(
    conn: Connection,
    community_id: str,
    work_unit: str | None,
    approved_only: bool = False,
    limit: int = MAX_ROWS,
    after: str | None = None,
) -> list[asyncpg.Record]:
    """A page of the community's 双报到 registrations (of a work unit), by work unit and name,
    after volunteer ``after``; ``approved_only``: those the community approved, the only ones
    reported to work units (pending and declined are not)."""
    start = await _member_key(conn, community_id, after)
    return await conn.fetch(
        "SELECT * FROM volunteers.party_members WHERE community_id = $1 "
        "AND ($2::text IS NULL OR work_unit_key = $2) AND (NOT $4 OR status = 'APPROVED') "
        "AND ($5::text IS NULL OR (work_unit_key, name, volunteer_id) > ($6, $7, $5)) "
        "ORDER BY work_unit_key, name, volunteer_id LIMIT $3",
        community_id,
        unit_key(work_unit) if work_unit else None,
        limit,
        approved_only,
        start and start["volunteer_id"],
        start and start["work_unit_key"],
        start and start["name"],
    )


async def party_members_to_review(
    conn: Connection, community_id: str, limit: int = DEFAULT_LIMIT, after: str | None = None
) -> list[asyncpg.Record]:
    """A page of the members' own registrations waiting for the community, oldest first."""
    start = await _member_key(conn, community_id, after)
    return await conn.fetch(
        "SELECT * FROM volunteers.party_members WHERE community_id = $1 AND status = 'PENDING' "
        "AND ($3::text IS NULL OR (registered_at, volunteer_id) > ($4, $3)) "
        "ORDER BY registered_at, volunteer_id LIMIT $2",
        community_id,
        limit,
        start and start["volunteer_id"],
        start and start["registered_at"],
    )


async def organisations_of(conn: Connection, volunteer_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT o.* FROM volunteers.partner_members m "
        "JOIN volunteers.partner_organisations o ON o.id = m.organisation_id "
        "WHERE m.volunteer_id = $1 ORDER BY o.name",
        volunteer_id,
    )


async def partner_organisation(conn: Connection, organisation_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM volunteers.partner_organisations WHERE id = $1", organisation_id
    )


async def partner_organisations(
    conn: Connection, community_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the community's partner organisations, by name then id, after ``after``."""
    start = await page_start(
        conn,
        after,
        "SELECT name, id FROM volunteers.partner_organisations WHERE id = $1 AND community_id = $2",
        after,
        community_id,
    )
    return await conn.fetch(
        "SELECT * FROM volunteers.partner_organisations WHERE community_id = $1 "
        "AND ($3::text IS NULL OR (name, id) > ($3, $4)) ORDER BY name, id LIMIT $2",
        community_id,
        limit,
        start and start["name"],
        start and start["id"],
    )


async def partner_members(conn: Connection, organisation_ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM volunteers.partner_members WHERE organisation_id = ANY($1::uuid[]) "
        "ORDER BY added_at, volunteer_id",
        organisation_ids,
    )


async def communities_of(conn: Connection, volunteer_id: str) -> set[str]:
    """The communities a volunteer tied themself to: where they keep their profile, where they
    reported as a party member themself, and those of the shifts they signed up for.

    Only these let a community's organisers see the volunteer's profile and certificate, or
    register them (双报到) and add them to a partner organisation: links an organiser makes
    (a registration on their behalf, a partner membership) grant nothing by themselves, or an
    organiser could make one for anybody and read them."""
    rows = await conn.fetch(
        """
        SELECT community_id FROM volunteers.profiles WHERE volunteer_id = $1
        UNION SELECT community_id FROM volunteers.party_members
            WHERE volunteer_id = $1 AND registered_by = volunteer_id
        UNION SELECT s.community_id FROM volunteers.shift_signups g
            JOIN volunteers.shifts s ON s.id = g.shift_id WHERE g.volunteer_id = $1
        """,
        volunteer_id,
    )
    return {row["community_id"] for row in rows}


async def credited_total(conn: Connection, volunteer_id: str) -> int:
    total = await conn.fetchval(
        "SELECT coalesce(sum(minutes), 0) FROM volunteers.ledger WHERE volunteer_id = $1", volunteer_id
    )
    return int(total)


# --- attendance as organisers watch it ------------------------------------------------------------


async def no_shows(
    conn: Connection,
    community_id: str,
    now: datetime,
    volunteer_id: str | None = None,
    limit: int = DEFAULT_LIMIT,
    after: str | None = None,
) -> list[asyncpg.Record]:
    """A page of, per volunteer, the community's shifts that ended, signed up for and never
    checked in to: most missed first, after volunteer ``after``."""
    missed = None
    if after is not None:
        found = await no_shows(conn, community_id, now, after, 1)
        if not found:
            raise unknown_cursor()
        missed = found[0]["no_shows"]
    return await conn.fetch(
        """
        SELECT g.volunteer_id, count(*) AS no_shows, array_agg(s.id ORDER BY s.starts_at) AS shift_ids,
               max(s.ends_at) AS latest
        FROM volunteers.shift_signups g
        JOIN volunteers.shifts s ON s.id = g.shift_id
        WHERE s.community_id = $1 AND s.ends_at <= $2 AND ($3::text IS NULL OR g.volunteer_id = $3)
          AND NOT EXISTS (SELECT 1 FROM volunteers.check_ins c
                          WHERE c.shift_id = g.shift_id AND c.volunteer_id = g.volunteer_id)
        GROUP BY g.volunteer_id
        HAVING $5::bigint IS NULL OR (count(*) < $5 OR (count(*) = $5 AND g.volunteer_id > $6))
        ORDER BY count(*) DESC, g.volunteer_id
        LIMIT $4
        """,
        community_id,
        now,
        volunteer_id,
        limit,
        missed,
        after,
    )


async def forgotten_check_outs(
    conn: Connection, community_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the check-ins the service closed at shift end because nobody checked out:
    latest first, after check-in ``after``."""
    start = await page_start(
        conn,
        after,
        "SELECT c.checked_out_at, c.id FROM volunteers.check_ins c "
        "JOIN volunteers.shifts s ON s.id = c.shift_id "
        "WHERE c.id = $1 AND s.community_id = $2 AND c.auto_closed",
        after,
        community_id,
    )
    return await conn.fetch(
        """
        SELECT c.id, c.shift_id, c.volunteer_id, c.method, c.checked_in_at, c.checked_out_at,
               s.venue, s.role, s.starts_at, s.ends_at, coalesce(l.minutes, 0) AS minutes_credited
        FROM volunteers.check_ins c
        JOIN volunteers.shifts s ON s.id = c.shift_id
        LEFT JOIN volunteers.ledger l ON l.check_in_id = c.id
        WHERE s.community_id = $1 AND c.auto_closed
          AND ($3::timestamptz IS NULL OR (c.checked_out_at, c.id) < ($3, $4))
        ORDER BY c.checked_out_at DESC, c.id DESC
        LIMIT $2
        """,
        community_id,
        limit,
        start and start["checked_out_at"],
        start and start["id"],
    )


# --- 双报告 ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShiftLine:
    shift_id: uuid.UUID
    festival_id: str | None
    community_id: str
    role: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    attended: bool
    auto_closed: bool
    minutes: int


@dataclass(frozen=True)
class MemberReport:
    volunteer_id: str
    name: str
    work_unit: str
    party_branch: str
    community_id: str
    reported_on: date
    shifts: list[ShiftLine] = field(default_factory=list)
    wishes_met: int = 0  # 微心愿 they claimed and the resident confirmed met in the period
    # 志愿服务记录证明 the community issued them for periods overlapping this one, still valid
    certificate_numbers: list[str] = field(default_factory=list)

    @property
    def total_minutes(self) -> int:
        return sum(line.minutes for line in self.shifts)

    @property
    def activities(self) -> list[str]:
        """What they did, in order of first doing it: the roles of the shifts they came to."""
        seen: dict[str, None] = {}
        for line in self.shifts:
            if line.attended or line.minutes:
                seen.setdefault(line.role, None)
        return list(seen)


@dataclass(frozen=True)
class UnitReport:
    community_id: str
    work_unit: str
    start: date
    end: date
    members: list[MemberReport]

    @property
    def total_minutes(self) -> int:
        return sum(member.total_minutes for member in self.members)


async def _shift_lines(
    conn: Connection, volunteer_ids: list[str], start: date, end: date
) -> dict[str, list[ShiftLine]]:
    since, until = period_bounds(start, end)
    rows = await conn.fetch(
        """
        WITH theirs AS (
            SELECT shift_id, volunteer_id FROM volunteers.shift_signups WHERE volunteer_id = ANY($1::text[])
            UNION
            SELECT shift_id, volunteer_id FROM volunteers.ledger
            WHERE volunteer_id = ANY($1::text[]) AND shift_id IS NOT NULL
        )
        SELECT t.volunteer_id, s.id, s.festival_id, s.community_id, s.role, s.venue, s.starts_at, s.ends_at,
               coalesce(c.attended, false) AS attended, coalesce(c.auto_closed, false) AS auto_closed,
               (SELECT coalesce(sum(l.minutes), 0) FROM volunteers.ledger l
                 WHERE l.shift_id = s.id AND l.volunteer_id = t.volunteer_id) AS minutes
        FROM theirs t JOIN volunteers.shifts s ON s.id = t.shift_id
        -- Looked up per (shift, member) through the index: as EXISTS sub-plans, PostgreSQL 18
        -- may hash the whole check-in table instead (a city's is millions of rows).
        LEFT JOIN LATERAL (
            SELECT true AS attended, bool_or(ci.auto_closed) AS auto_closed
            FROM volunteers.check_ins ci
            WHERE ci.shift_id = s.id AND ci.volunteer_id = t.volunteer_id
            HAVING count(*) > 0
        ) c ON true
        WHERE s.starts_at >= $2 AND s.starts_at < $3
        ORDER BY s.starts_at, s.id
        LIMIT $4
        """,
        volunteer_ids,
        since,
        until,
        MAX_SHIFT_LINES + 1,
    )
    if len(rows) > MAX_SHIFT_LINES:
        # A report that silently left some out would not add up to the ledger.
        raise Refusal(
            "REPORT_TOO_LARGE",
            "报告内容过多，请缩短报告期",
            "Too much for one report: choose a shorter period",
        )
    lines: dict[str, list[ShiftLine]] = {}
    for row in rows:
        lines.setdefault(row["volunteer_id"], []).append(
            ShiftLine(
                shift_id=row["id"],
                festival_id=row["festival_id"],
                community_id=row["community_id"],
                role=row["role"],
                venue=row["venue"],
                starts_at=row["starts_at"],
                ends_at=row["ends_at"],
                attended=row["attended"],
                auto_closed=row["auto_closed"],
                minutes=int(row["minutes"]),
            )
        )
    return lines


async def _wishes_met(conn: Connection, volunteer_ids: list[str], start: date, end: date) -> dict[str, int]:
    """Per claimant: the wishes (微心愿, see ``wishes.py``) met in the period, however they claimed."""
    since, until = period_bounds(start, end)
    rows = await conn.fetch(
        "SELECT c.claimant_id, count(*) AS met FROM volunteers.wishes w "
        "JOIN volunteers.wish_claims c ON c.id = w.claim_id "
        "WHERE w.status = 'MET' AND c.claimant_id = ANY($1::text[]) AND w.met_at >= $2 AND w.met_at < $3 "
        "GROUP BY c.claimant_id",
        volunteer_ids,
        since,
        until,
    )
    return {row["claimant_id"]: int(row["met"]) for row in rows}


def _member(
    row: asyncpg.Record, lines: list[ShiftLine], wishes_met: int = 0, certificates: list[str] | None = None
) -> MemberReport:
    return MemberReport(
        volunteer_id=row["volunteer_id"],
        name=row["name"],
        work_unit=row["work_unit"],
        party_branch=row["party_branch"],
        community_id=row["community_id"],
        reported_on=row["reported_on"],
        shifts=lines,
        wishes_met=wishes_met,
        certificate_numbers=certificates or [],
    )


async def unit_report(
    conn: Connection, community_id: str, work_unit: str, start: date, end: date
) -> UnitReport:
    """The 双报告 of one work unit's party members who reported to ``community_id`` and whose
    registration the community approved."""
    members = await party_members(conn, community_id, work_unit, approved_only=True)
    ids = [row["volunteer_id"] for row in members]
    lines = await _shift_lines(conn, ids, start, end)
    met = await _wishes_met(conn, ids, start, end)
    numbers = await certificate_numbers_of(conn, ids, community_id, start, end)
    shown = members[0]["work_unit"] if members else work_unit
    return UnitReport(
        community_id=community_id,
        work_unit=shown,
        start=start,
        end=end,
        members=[
            _member(
                row,
                lines.get(row["volunteer_id"], []),
                met.get(row["volunteer_id"], 0),
                numbers.get(row["volunteer_id"], []),
            )
            for row in members
        ],
    )


async def member_report(conn: Connection, volunteer_id: str, start: date, end: date) -> MemberReport | None:
    """One party member's service in a period, for their certificate of hours."""
    row = await party_member(conn, volunteer_id)
    if row is None:
        return None
    lines = await _shift_lines(conn, [volunteer_id], start, end)
    met = await _wishes_met(conn, [volunteer_id], start, end)
    return _member(row, lines.get(volunteer_id, []), met.get(volunteer_id, 0))


# --- totals ---------------------------------------------------------------------------------------


async def totals(
    conn: Connection, community_id: str, start: date, end: date
) -> dict[str, list[asyncpg.Record]]:
    """Minutes credited for the community's shifts that started in the period: per volunteer,
    per festival, per partner organisation (of the community) and per work unit (of the party
    members who reported to it, approved by the community, as in the 双报告)."""
    since, until = period_bounds(start, end)
    credited = """
        SELECT l.volunteer_id, l.minutes, s.festival_id FROM volunteers.ledger l
        JOIN volunteers.shifts s ON s.id = l.shift_id
        WHERE s.community_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3
    """
    by_volunteer = await conn.fetch(
        f"SELECT volunteer_id AS key, volunteer_id AS label, sum(minutes) AS minutes, 1 AS volunteers "
        f"FROM ({credited}) c GROUP BY volunteer_id ORDER BY sum(minutes) DESC, volunteer_id LIMIT $4",
        community_id,
        since,
        until,
        MAX_ROWS,
    )
    by_festival = await conn.fetch(
        f"SELECT festival_id AS key, festival_id AS label, sum(minutes) AS minutes, "
        f"count(DISTINCT volunteer_id) AS volunteers FROM ({credited}) c "
        f"GROUP BY festival_id ORDER BY sum(minutes) DESC, festival_id LIMIT $4",
        community_id,
        since,
        until,
        MAX_ROWS,
    )
    by_organisation = await conn.fetch(
        f"SELECT o.id::text AS key, o.name AS label, sum(c.minutes) AS minutes, "
        f"count(DISTINCT c.volunteer_id) AS volunteers FROM ({credited}) c "
        f"JOIN volunteers.partner_members m ON m.volunteer_id = c.volunteer_id "
        f"JOIN volunteers.partner_organisations o ON o.id = m.organisation_id AND o.community_id = $1 "
        f"GROUP BY o.id, o.name ORDER BY sum(c.minutes) DESC, o.name LIMIT $4",
        community_id,
        since,
        until,
        MAX_ROWS,
    )
    by_unit = await conn.fetch(
        f"SELECT p.work_unit_key AS key, min(p.work_unit) AS label, sum(c.minutes) AS minutes, "
        f"count(DISTINCT c.volunteer_id) AS volunteers FROM ({credited}) c "
        f"JOIN volunteers.party_members p ON p.volunteer_id = c.volunteer_id AND p.community_id = $1 "
        f"AND p.status = 'APPROVED' "
        f"GROUP BY p.work_unit_key ORDER BY sum(c.minutes) DESC, p.work_unit_key LIMIT $4",
        community_id,
        since,
        until,
        MAX_ROWS,
    )
    return {
        "volunteer": by_volunteer,
        "festival": by_festival,
        "organisation": by_organisation,
        "unit": by_unit,
    }
