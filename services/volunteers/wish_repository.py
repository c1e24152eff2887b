"""SQL for wishes and their claims in the ``volunteers`` schema. Every function takes a connection."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import asyncpg

from services.common.db import Connection
from services.volunteers import queries
from services.volunteers.wishes import ClaimantKind, WishDraft, WishStatus


async def insert_wish(
    conn: Connection,
    wish_id: uuid.UUID,
    draft: WishDraft,
    resident_id: str,
    posted_by: str,
    at: datetime,
) -> tuple[asyncpg.Record, bool]:
    """The wish, and whether this call made it (a retried post finds the first)."""
    row = await conn.fetchrow(
        """
        INSERT INTO volunteers.wishes (id, community_id, festival_id, category, description,
            building, resident_id, posted_by, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (id) DO NOTHING
        RETURNING *
        """,
        wish_id,
        draft.community_id,
        draft.festival_id,
        draft.category,
        draft.description,
        draft.building,
        resident_id,
        posted_by,
        at,
    )
    if row is not None:
        return row, True
    existing = await get_wish(conn, wish_id)
    assert existing is not None
    return existing, False


async def get_wish(conn: Connection, wish_id: uuid.UUID, for_update: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM volunteers.wishes WHERE id = $1" + (" FOR UPDATE" if for_update else ""), wish_id
    )


async def review(
    conn: Connection,
    wish_id: uuid.UUID,
    status: WishStatus,
    reviewed_by: str,
    reason: str | None,
    merged_into: uuid.UUID | None,
) -> asyncpg.Record | None:
    """Decide a posted wish; None if it was no longer POSTED."""
    return await conn.fetchrow(
        """
        UPDATE volunteers.wishes
        SET status = $2, reviewed_by = $3, decline_reason = $4, merged_into = $5
        WHERE id = $1 AND status = 'POSTED'
        RETURNING *
        """,
        wish_id,
        status.value,
        reviewed_by,
        reason,
        merged_into,
    )


async def publish(conn: Connection, wish_id: uuid.UUID, at: datetime) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "UPDATE volunteers.wishes SET status = 'PUBLISHED', published_at = $2 "
        "WHERE id = $1 AND status = 'APPROVED' RETURNING *",
        wish_id,
        at,
    )


async def expire_claim(conn: Connection, wish_id: uuid.UUID, at: datetime) -> asyncpg.Record | None:
    """End the wish's claim if it lapsed (nobody started it in time) and put the wish back on
    the wall; the claim ended, or None if there was no lapsed claim (or another got there)."""
    claim = await conn.fetchrow(
        """
        UPDATE volunteers.wish_claims c SET status = 'EXPIRED', ended_at = $2
        FROM volunteers.wishes w
        WHERE w.id = $1 AND c.id = w.claim_id AND c.status = 'ACTIVE' AND w.status = 'CLAIMED'
          AND w.started_at IS NULL AND w.claim_expires_at <= $2
        RETURNING c.*
        """,
        wish_id,
        at,
    )
    if claim is None:
        return None
    await conn.execute(
        "UPDATE volunteers.wishes SET status = 'PUBLISHED', claim_id = NULL, claimant_id = NULL, "
        "claim_expires_at = NULL WHERE id = $1 AND claim_id = $2",
        wish_id,
        claim["id"],
    )
    return claim


async def take_claim(
    conn: Connection,
    wish_id: uuid.UUID,
    claim_id: uuid.UUID,
    claimant_id: str,
    expires_at: datetime,
) -> asyncpg.Record | None:
    """Claim the wish if it is on the wall: one conditional update, so of two claimants racing
    exactly one gets it (the other finds it CLAIMED once the first commits)."""
    return await conn.fetchrow(
        """
        UPDATE volunteers.wishes
        SET status = 'CLAIMED', claim_id = $2, claimant_id = $3, claim_expires_at = $4,
            started_at = NULL
        WHERE id = $1 AND status = 'PUBLISHED'
        RETURNING *
        """,
        wish_id,
        claim_id,
        claimant_id,
        expires_at,
    )


async def insert_claim(
    conn: Connection,
    claim_id: uuid.UUID,
    wish_id: uuid.UUID,
    claimant_id: str,
    kind: ClaimantKind,
    organisation: str | None,
    at: datetime,
    planned_visit_at: datetime | None = None,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO volunteers.wish_claims
            (id, wish_id, claimant_id, claimant_kind, organisation, claimed_at, planned_visit_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        RETURNING *
        """,
        claim_id,
        wish_id,
        claimant_id,
        kind.value,
        organisation,
        at,
        planned_visit_at,
    )
    assert row is not None
    return row


async def party_registration(conn: Connection, volunteer_id: str) -> asyncpg.Record | None:
    """A party member's 双报到 (work unit, status, decline reason); None for anyone else."""
    return await conn.fetchrow(
        "SELECT work_unit, status, decline_reason FROM volunteers.party_members WHERE volunteer_id = $1",
        volunteer_id,
    )


async def partners_of(conn: Connection, volunteer_id: str, community_id: str) -> list[tuple[str, str]]:
    """The partner organisations a volunteer belongs to as (name, key), the wish's community's first."""
    rows = await conn.fetch(
        "SELECT o.name, o.name_key FROM volunteers.partner_members m "
        "JOIN volunteers.partner_organisations o ON o.id = m.organisation_id "
        "WHERE m.volunteer_id = $1 ORDER BY o.community_id <> $2, o.name, o.id",
        volunteer_id,
        community_id,
    )
    return [(row["name"], row["name_key"]) for row in rows]


async def get_claim(conn: Connection, claim_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM volunteers.wish_claims WHERE id = $1", claim_id)


async def end_claim(conn: Connection, claim_id: uuid.UUID, status: str, at: datetime) -> None:
    await conn.execute(
        "UPDATE volunteers.wish_claims SET status = $2, ended_at = $3 WHERE id = $1 AND status = 'ACTIVE'",
        claim_id,
        status,
        at,
    )


async def lapsed_claim_wishes(conn: Connection, at: datetime, community_id: str | None) -> list[uuid.UUID]:
    rows = await conn.fetch(
        """
        SELECT id FROM volunteers.wishes
        WHERE status = 'CLAIMED' AND started_at IS NULL AND claim_expires_at <= $1
          AND ($2::text IS NULL OR community_id = $2)
        ORDER BY claim_expires_at, id LIMIT 500
        """,
        at,
        community_id,
    )
    return [row["id"] for row in rows]


async def start(
    conn: Connection, wish_id: uuid.UUID, claimant_id: str, at: datetime
) -> asyncpg.Record | None:
    """Mark the claim started (so it no longer lapses), if it is this claimant's and still holds."""
    return await conn.fetchrow(
        "UPDATE volunteers.wishes SET started_at = coalesce(started_at, $3) "
        "WHERE id = $1 AND status = 'CLAIMED' AND claimant_id = $2 "
        "AND (started_at IS NOT NULL OR claim_expires_at > $3) RETURNING *",
        wish_id,
        claimant_id,
        at,
    )


async def finish(
    conn: Connection, wish_id: uuid.UUID, note: str, photo_url: str | None, at: datetime
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "UPDATE volunteers.wishes SET status = 'DONE', started_at = coalesce(started_at, $4), "
        "done_at = $4, done_note = $2, photo_url = $3 WHERE id = $1 RETURNING *",
        wish_id,
        note,
        photo_url,
        at,
    )
    assert row is not None
    return row


async def confirm(
    conn: Connection, wish_id: uuid.UUID, confirmed_by: str, at: datetime
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "UPDATE volunteers.wishes SET status = 'MET', confirmed_by = $2, met_at = $3 "
        "WHERE id = $1 AND status = 'DONE' RETURNING *",
        wish_id,
        confirmed_by,
        at,
    )


async def give_back(
    conn: Connection, wish_id: uuid.UUID, claim_id: uuid.UUID, reason: str, at: datetime
) -> asyncpg.Record | None:
    """End the claim as given back and put the wish on the wall again; the wish, or None if
    the claim no longer held it."""
    ended = await conn.fetchval(
        "UPDATE volunteers.wish_claims SET status = 'GIVEN_BACK', give_back_reason = $2, ended_at = $3 "
        "WHERE id = $1 AND status = 'ACTIVE' RETURNING id",
        claim_id,
        reason,
        at,
    )
    if ended is None:
        return None
    return await conn.fetchrow(
        "UPDATE volunteers.wishes SET status = 'PUBLISHED', claim_id = NULL, claimant_id = NULL, "
        "claim_expires_at = NULL, started_at = NULL WHERE id = $1 AND claim_id = $2 RETURNING *",
        wish_id,
        claim_id,
    )


async def lock_wishes_claimed_by(conn: Connection, claimant_id: str) -> list[asyncpg.Record]:
    """The wishes the person's claims hold now, locked."""
    return await conn.fetch(
        "SELECT * FROM volunteers.wishes WHERE claimant_id = $1 ORDER BY id FOR UPDATE", claimant_id
    )


async def plan_visit(conn: Connection, claim_id: uuid.UUID, at: datetime | None) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "UPDATE volunteers.wish_claims SET planned_visit_at = $2 WHERE id = $1 AND status = 'ACTIVE' "
        "RETURNING *",
        claim_id,
        at,
    )


async def insert_call_back(
    conn: Connection,
    call_back_id: uuid.UUID,
    wish: asyncpg.Record,
    requested_by: str,
    note: str | None,
    at: datetime,
) -> asyncpg.Record:
    """The claim's call-back request: this one, or the one asked for before."""
    row = await conn.fetchrow(
        """
        INSERT INTO volunteers.wish_call_backs
            (id, wish_id, claim_id, community_id, requested_by, note, requested_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (claim_id) DO NOTHING
        RETURNING *
        """,
        call_back_id,
        wish["id"],
        wish["claim_id"],
        wish["community_id"],
        requested_by,
        note,
        at,
    )
    if row is not None:
        return row
    found = await queries.call_back_of_claim(conn, wish["claim_id"])
    assert found is not None
    return found


async def get_call_back(conn: Connection, call_back_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM volunteers.wish_call_backs WHERE id = $1", call_back_id)


async def handle_call_back(
    conn: Connection, call_back_id: uuid.UUID, handled_by: str, at: datetime
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "UPDATE volunteers.wish_call_backs SET handled_by = coalesce(handled_by, $2), "
        "handled_at = coalesce(handled_at, $3) WHERE id = $1 RETURNING *",
        call_back_id,
        handled_by,
        at,
    )


async def met_by_party_members(
    conn: Connection, work_unit: str, since: date, until: date
) -> list[asyncpg.Record]:
    """For the 双报告 report of a work unit: each of its party members' met wishes, by community."""
    return await conn.fetch(
        """
        SELECT c.claimant_id, w.community_id, count(*) AS met
        FROM volunteers.wishes w JOIN volunteers.wish_claims c ON c.id = w.claim_id
        WHERE w.status = 'MET' AND c.claimant_kind = 'PARTY_MEMBER' AND c.organisation = $1
          AND (w.met_at AT TIME ZONE 'Asia/Shanghai')::date >= $2
          AND (w.met_at AT TIME ZONE 'Asia/Shanghai')::date < $3
        GROUP BY c.claimant_id, w.community_id ORDER BY c.claimant_id, w.community_id
        """,
        work_unit,
        since,
        until,
    )


async def claims(conn: Connection, claim_ids: list[uuid.UUID]) -> dict[uuid.UUID, asyncpg.Record]:
    rows = await conn.fetch("SELECT * FROM volunteers.wish_claims WHERE id = ANY($1::uuid[])", claim_ids)
    return {row["id"]: row for row in rows}


async def call_backs_of_claims(
    conn: Connection, claim_ids: list[uuid.UUID]
) -> dict[uuid.UUID, asyncpg.Record]:
    rows = await conn.fetch(
        "SELECT * FROM volunteers.wish_call_backs WHERE claim_id = ANY($1::uuid[])", claim_ids
    )
    return {row["claim_id"]: row for row in rows}
