"""Read models of the volunteers schema, for the gateway (read-only)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import asyncpg

from services.common.db import Connection, row_as_dict
from services.common.paging import DEFAULT_LIMIT, page_start


async def shift(conn: Connection, shift_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM volunteers.shifts WHERE id = $1", shift_id)


async def shifts_of_community(
    conn: Connection, community_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the community's shifts, earliest first, after shift ``after``."""
    start = await page_start(
        conn,
        after,
        "SELECT starts_at, id FROM volunteers.shifts WHERE id = $1 AND community_id = $2",
        after,
        community_id,
    )
    return await conn.fetch(
        "SELECT * FROM volunteers.shifts WHERE community_id = $1 "
        "AND ($3::timestamptz IS NULL OR (starts_at, id) > ($3, $4)) ORDER BY starts_at, id LIMIT $2",
        community_id,
        limit,
        start and start["starts_at"],
        start and start["id"],
    )


async def communities_at_venue(conn: Connection, venue_key: str) -> list[str]:
    """The communities that run shifts at a venue: their organisers may show its station code."""
    rows = await conn.fetch(
        "SELECT DISTINCT community_id FROM volunteers.shifts WHERE venue_key = $1", venue_key
    )
    return [row["community_id"] for row in rows]


async def signups_of_volunteer(
    conn: Connection, volunteer_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the volunteer's shift sign-ups, earliest shift first, after sign-up ``after``."""
    start = await page_start(
        conn,
        after,
        "SELECT s.starts_at, g.id FROM volunteers.shift_signups g "
        "JOIN volunteers.shifts s ON s.id = g.shift_id WHERE g.id = $1 AND g.volunteer_id = $2",
        after,
        volunteer_id,
    )
    return await conn.fetch(
        "SELECT g.* FROM volunteers.shift_signups g JOIN volunteers.shifts s ON s.id = g.shift_id "
        "WHERE g.volunteer_id = $1 AND ($3::timestamptz IS NULL OR (s.starts_at, g.id) > ($3, $4)) "
        "ORDER BY s.starts_at, g.id LIMIT $2",
        volunteer_id,
        limit,
        start and start["starts_at"],
        start and start["id"],
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


async def attendance_version(conn: Connection, shift_id: uuid.UUID) -> str:
    """What any check-in, check-out or undone check-out of the shift changes: a key derived
    from it joins a double click or a retry, never the next arrival or departure."""
    row = await conn.fetchrow(
        "SELECT count(*) AS n, max(checked_in_at) AS i, max(checked_out_at) AS o, max(undone_at) AS u "
        "FROM volunteers.check_ins WHERE shift_id = $1",
        shift_id,
    )
    assert row is not None
    return f"{row['n']}:{row['i']}:{row['o']}:{row['u']}"


async def volunteer_version(conn: Connection, volunteer_id: str) -> str:
    """What a volunteer's profile and 双报到 commands change (each row's xmin, new with every
    change): a key derived from it joins a double click, never the same request made again later."""
    found = await conn.fetchval(
        "SELECT coalesce((SELECT xmin::text FROM volunteers.profiles WHERE volunteer_id = $1), '') || ':' || "
        "coalesce((SELECT xmin::text FROM volunteers.party_members WHERE volunteer_id = $1), '')",
        volunteer_id,
    )
    return str(found)


async def ledger_of(
    conn: Connection, volunteer_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of a volunteer's records, oldest first, after entry ``after``: each entry with
    its shift's content (role), place and end."""
    start = await page_start(
        conn,
        after,
        "SELECT created_at, id FROM volunteers.ledger WHERE id = $1 AND volunteer_id = $2",
        after,
        volunteer_id,
    )
    return await conn.fetch(
        "SELECT l.*, s.role AS content, s.venue AS place, s.starts_at AS shift_starts_at, "
        "s.ends_at AS shift_ends_at FROM volunteers.ledger l "
        "LEFT JOIN volunteers.shifts s ON s.id = l.shift_id "
        "WHERE l.volunteer_id = $1 AND ($3::timestamptz IS NULL OR (l.created_at, l.id) > ($3, $4)) "
        "ORDER BY l.created_at, l.id LIMIT $2",
        volunteer_id,
        limit,
        start and start["created_at"],
        start and start["id"],
    )


async def minutes_of(conn: Connection, volunteer_id: str) -> int:
    """A volunteer's service minutes: the sum of every ledger entry."""
    return int(
        await conn.fetchval(
            "SELECT coalesce(sum(minutes), 0) FROM volunteers.ledger WHERE volunteer_id = $1", volunteer_id
        )
    )


async def roster(
    conn: Connection, shift_id: uuid.UUID, limit: int = DEFAULT_LIMIT, after: str | None = None
) -> list[asyncpg.Record]:
    """A page of who signed up for a shift, in the order they did, after volunteer ``after``:
    each with their latest check-in and what the shift credited them."""
    start = await page_start(
        conn,
        after,
        "SELECT created_at, volunteer_id FROM volunteers.shift_signups "
        "WHERE shift_id = $1 AND volunteer_id = $2",
        shift_id,
        after,
    )
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
          AND ($3::timestamptz IS NULL OR (g.created_at, g.volunteer_id) > ($3, $4))
        ORDER BY g.created_at, g.volunteer_id
        LIMIT $2
        """,
        shift_id,
        limit,
        start and start["created_at"],
        start and start["volunteer_id"],
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


# --- 微心愿: the wall, my wishes, the review queue, call-backs --------------------------


async def wish(conn: Connection, wish_id: uuid.UUID) -> asyncpg.Record | None:
    """A wish, with its version (the row's xmin, new with every change): a command's key
    derived from it names one state of the wish."""
    return await conn.fetchrow(
        "SELECT *, xmin::text AS version FROM volunteers.wishes WHERE id = $1", wish_id
    )


async def wish_claim(conn: Connection, claim_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM volunteers.wish_claims WHERE id = $1", claim_id)


async def lapsed_claims(conn: Connection, community_id: str, at: datetime) -> list[str]:
    """The community's wishes whose claims lapsed, each with its version."""
    rows = await conn.fetch(
        "SELECT id::text || ':' || xmin::text AS version FROM volunteers.wishes "
        "WHERE status = 'CLAIMED' AND started_at IS NULL AND claim_expires_at <= $1 AND community_id = $2 "
        "ORDER BY id LIMIT 500",
        at,
        community_id,
    )
    return [row["version"] for row in rows]


async def call_back_of_claim(conn: Connection, claim_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM volunteers.wish_call_backs WHERE claim_id = $1", claim_id)


_ON_THE_WALL = "status IN ('PUBLISHED', 'CLAIMED', 'DONE', 'MET')"


async def wall(
    conn: Connection,
    community_id: str,
    at: datetime,
    limit: int = DEFAULT_LIMIT,
    after: uuid.UUID | None = None,
) -> list[asyncpg.Record]:
    """A page of the community's wish wall, latest published first, after wish ``after``:
    published wishes, and claimed ones whose claim lapsed."""
    start = await page_start(
        conn,
        after,
        "SELECT published_at, id FROM volunteers.wishes "
        f"WHERE id = $1 AND community_id = $2 AND {_ON_THE_WALL}",
        after,
        community_id,
    )
    return await conn.fetch(
        f"""
        SELECT id, community_id, festival_id, category, description, building, published_at,
               CASE WHEN status = 'CLAIMED' AND started_at IS NULL AND claim_expires_at <= $2
                    THEN 'PUBLISHED' ELSE status END AS status
        FROM volunteers.wishes
        WHERE community_id = $1 AND {_ON_THE_WALL}
          AND ($4::timestamptz IS NULL OR (published_at, id) < ($4, $5))
        ORDER BY published_at DESC, id DESC
        LIMIT $3
        """,
        community_id,
        at,
        limit,
        start and start["published_at"],
        start and start["id"],
    )


async def _newest_first(
    conn: Connection, where: str, who: str, limit: int, after: uuid.UUID | None
) -> list[asyncpg.Record]:
    """A page of the wishes ``where`` picks (``$1`` is ``who``), newest first, after ``after``."""
    start = await page_start(
        conn, after, f"SELECT created_at, id FROM volunteers.wishes WHERE id = $2 AND ({where})", who, after
    )
    return await conn.fetch(
        f"SELECT * FROM volunteers.wishes WHERE ({where}) "
        "AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4)) "
        "ORDER BY created_at DESC, id DESC LIMIT $2",
        who,
        limit,
        start and start["created_at"],
        start and start["id"],
    )


async def wishes_of(
    conn: Connection, person_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the wishes a person made or posted for someone (a grid worker), newest first."""
    return await _newest_first(conn, "resident_id = $1 OR posted_by = $1", person_id, limit, after)


async def wishes_claimed_by(
    conn: Connection, claimant_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the wishes a person holds a claim on now, or met, newest first."""
    return await _newest_first(conn, "claimant_id = $1", claimant_id, limit, after)


async def wishes_to_review(
    conn: Connection, community_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the community's wishes waiting for review, or approved, oldest first."""
    start = await page_start(
        conn,
        after,
        "SELECT created_at, id FROM volunteers.wishes WHERE id = $1 AND community_id = $2",
        after,
        community_id,
    )
    return await conn.fetch(
        "SELECT * FROM volunteers.wishes WHERE community_id = $1 AND status IN ('POSTED', 'APPROVED') "
        "AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4)) ORDER BY created_at, id LIMIT $2",
        community_id,
        limit,
        start and start["created_at"],
        start and start["id"],
    )


async def counts(
    conn: Connection, community_id: str, festival_id: str | None, since: date, until: date
) -> dict[str, Any]:
    """Wishes posted, claimed and met in [since, until) (days in UTC+8), with the met ones by
    partner organisation and by the work unit of the party members who met them."""
    params = (community_id, festival_id, since, until)
    window = "($2::text IS NULL OR w.festival_id = $2) AND w.community_id = $1"
    local = "AT TIME ZONE 'Asia/Shanghai'"
    posted = await conn.fetchval(
        f"SELECT count(*) FROM volunteers.wishes w WHERE {window} "
        f"AND (w.created_at {local})::date >= $3 AND (w.created_at {local})::date < $4",
        *params,
    )
    claimed = await conn.fetchval(
        f"SELECT count(DISTINCT c.wish_id) FROM volunteers.wish_claims c "
        f"JOIN volunteers.wishes w ON w.id = c.wish_id WHERE {window} "
        f"AND (c.claimed_at {local})::date >= $3 AND (c.claimed_at {local})::date < $4",
        *params,
    )
    met_rows = await conn.fetch(
        f"SELECT c.claimant_kind, c.organisation, count(*) AS met FROM volunteers.wishes w "
        f"JOIN volunteers.wish_claims c ON c.id = w.claim_id WHERE {window} AND w.status = 'MET' "
        f"AND (w.met_at {local})::date >= $3 AND (w.met_at {local})::date < $4 "
        "GROUP BY c.claimant_kind, c.organisation ORDER BY c.claimant_kind, c.organisation",
        *params,
    )
    return {
        "posted": int(posted),
        "claimed": int(claimed),
        "met": sum(int(r["met"]) for r in met_rows),
        "by_partner": [
            (r["organisation"], int(r["met"])) for r in met_rows if r["claimant_kind"] == "PARTNER"
        ],
        "by_work_unit": [
            (r["organisation"], int(r["met"])) for r in met_rows if r["claimant_kind"] == "PARTY_MEMBER"
        ],
    }


async def volunteer_names(conn: Connection, volunteer_ids: list[str]) -> dict[str, str]:
    """The names volunteers gave: a party member's registered name, else their profile's."""
    rows = await conn.fetch(
        """
        SELECT v.id, coalesce(pm.name, p.display_name) AS name
        FROM unnest($1::text[]) AS v(id)
        LEFT JOIN volunteers.party_members pm ON pm.volunteer_id = v.id
        LEFT JOIN volunteers.profiles p ON p.volunteer_id = v.id
        """,
        volunteer_ids,
    )
    return {row["id"]: row["name"] for row in rows if row["name"]}


_CALL_BACKS = """
        SELECT b.*, w.category, w.building, w.resident_id, w.status AS wish_status,
               c.planned_visit_at, c.claimant_id, c.organisation
        FROM volunteers.wish_call_backs b
        JOIN volunteers.wishes w ON w.id = b.wish_id
        JOIN volunteers.wish_claims c ON c.id = b.claim_id
"""


async def call_back_for_staff(conn: Connection, call_back_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(_CALL_BACKS + " WHERE b.id = $1", call_back_id)


async def call_backs_of_community(
    conn: Connection, community_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the call-back requests: open ones first (oldest first), then those handled in
    the last seven days, after request ``after``."""
    start = await page_start(
        conn,
        after,
        "SELECT handled_at IS NOT NULL AS handled, requested_at, id FROM volunteers.wish_call_backs "
        "WHERE id = $1 AND community_id = $2",
        after,
        community_id,
    )
    return await conn.fetch(
        _CALL_BACKS
        + """
        WHERE b.community_id = $1
          AND (b.handled_at IS NULL OR b.handled_at > now() - interval '7 days')
          AND ($3::bool IS NULL OR (b.handled_at IS NOT NULL, b.requested_at, b.id) > ($3, $4, $5))
        ORDER BY b.handled_at IS NOT NULL, b.requested_at, b.id
        LIMIT $2
        """,
        community_id,
        limit,
        start and start["handled"],
        start and start["requested_at"],
        start and start["id"],
    )


async def personal_data(conn: Connection, person_id: str) -> dict[str, Any]:
    """What volunteers holds about a person: profile, 双报到, shifts, hours, wishes, skills."""

    async def rows(sql: str) -> list[dict[str, Any]]:
        return [row_as_dict(row) for row in await conn.fetch(sql, person_id)]

    return {
        "volunteerProfile": await rows(
            "SELECT community_id, display_name, availability, availability_slots, updated_at "
            "FROM volunteers.profiles WHERE volunteer_id = $1"
        ),
        "partyMember": await rows(
            "SELECT name, work_unit, party_branch, community_id, reported_on, status, registered_at "
            "FROM volunteers.party_members WHERE volunteer_id = $1"
        ),
        "skills": await rows(
            "SELECT skill, community_id, recorded_at FROM volunteers.skills WHERE volunteer_id = $1"
        ),
        "shifts": await rows(
            "SELECT s.role, s.venue, s.starts_at, s.ends_at, g.created_at AS signed_up_at "
            "FROM volunteers.shift_signups g JOIN volunteers.shifts s ON s.id = g.shift_id "
            "WHERE g.volunteer_id = $1 ORDER BY s.starts_at, g.id"
        ),
        "serviceHours": await rows(
            "SELECT kind, minutes, reason, created_at FROM volunteers.ledger "
            "WHERE volunteer_id = $1 ORDER BY created_at, id"
        ),
        "wishes": await rows(
            "SELECT category, description, building, status, created_at, met_at FROM volunteers.wishes "
            "WHERE resident_id = $1 ORDER BY created_at, id"
        ),
    }
