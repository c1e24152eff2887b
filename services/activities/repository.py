"""SQL for the ``activities`` schema, and nothing else. Every function takes a connection."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.activities.domain import ActivityPlan, FestivalPlan, SessionPlan, SignupStatus, VenuePlan
from services.common.db import Connection, row_as_dict


async def insert_festival(
    conn: Connection, festival_id: uuid.UUID, plan: FestivalPlan, created_by: str, published: bool
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO activities.festivals
            (id, name, community_ids, starts_on, ends_on, created_by, published,
             max_sessions_per_resident)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
        RETURNING *
        """,
        festival_id,
        plan.name,
        list(plan.community_ids),
        plan.starts_on,
        plan.ends_on,
        created_by,
        published,
        plan.max_sessions_per_resident,
    )
    assert row is not None
    return row


async def get_festival(conn: Connection, festival_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM activities.festivals WHERE id = $1", festival_id)


async def set_festival_published(
    conn: Connection, festival_id: uuid.UUID, published: bool
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "UPDATE activities.festivals SET published = $2 WHERE id = $1 RETURNING *",
        festival_id,
        published,
    )


async def insert_venue(
    conn: Connection, venue_id: uuid.UUID, plan: VenuePlan, created_by: str
) -> asyncpg.Record | None:
    """The venue (the same one again for a repeated request); None if the name is taken."""
    row = await conn.fetchrow(
        """
        INSERT INTO activities.venues (id, community_id, name, kind, capacity, created_by, address)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT DO NOTHING
        RETURNING *
        """,
        venue_id,
        plan.community_id,
        plan.name,
        plan.kind.value,
        plan.capacity,
        created_by,
        plan.address,
    )
    if row is None:
        row = await conn.fetchrow("SELECT * FROM activities.venues WHERE id = $1", venue_id)
    return row


async def lock_venue(conn: Connection, venue_id: uuid.UUID) -> asyncpg.Record | None:
    """The venue, locked: whoever books it waits, so two clashing bookings cannot both pass."""
    return await conn.fetchrow("SELECT * FROM activities.venues WHERE id = $1 FOR UPDATE", venue_id)


async def get_venue(conn: Connection, venue_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM activities.venues WHERE id = $1", venue_id)


async def bookings_between(
    conn: Connection, venue_id: uuid.UUID, starts_at: datetime, ends_at: datetime
) -> list[asyncpg.Record]:
    """Standing sessions in the venue that touch the given time (the domain decides clashes)."""
    return await conn.fetch(
        "SELECT id, starts_at, ends_at FROM activities.sessions "
        "WHERE venue_id = $1 AND status = 'SCHEDULED' "
        "AND tstzrange(starts_at, ends_at) && tstzrange($2, $3)",
        venue_id,
        starts_at,
        ends_at,
    )


async def insert_activity(
    conn: Connection,
    activity_id: uuid.UUID,
    festival_id: uuid.UUID,
    community_id: str,
    plan: ActivityPlan,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO activities.activities
            (id, festival_id, community_id, title, category, description, age_bands,
             children_need_adult)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
        RETURNING *
        """,
        activity_id,
        festival_id,
        community_id,
        plan.title,
        plan.category,
        plan.description,
        [band.value for band in plan.age_bands],
        plan.children_need_adult,
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
    venue_id: uuid.UUID | None,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO activities.sessions
            (id, activity_id, community_id, venue, starts_at, ends_at, capacity, venue_id,
             registration_opens_at, registration_closes_at, max_party_size, cancellation_deadline)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
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
        venue_id,
        plan.registration_opens_at,
        plan.registration_closes_at,
        plan.max_party_size,
        plan.cancellation_deadline,
    )
    assert row is not None
    return row


# What the dashboard keeps of a session (notify's dashboard_sessions, services/notify/dashboard.py):
# its activity's category and, at a 邻里驿家 station, the station's name. Needs ``a`` (the
# activity) and ``v`` (the venue, left-joined) in the query.
_DASHBOARD_FACTS = (
    "a.category AS activity_category, CASE WHEN v.kind = 'STATION' THEN v.name ELSE '' END AS station"
)


async def get_session(conn: Connection, session_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM activities.sessions WHERE id = $1", session_id)


async def get_signups(conn: Connection, signup_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, asyncpg.Record]:
    rows = await conn.fetch("SELECT * FROM activities.signups WHERE id = ANY($1::uuid[])", list(signup_ids))
    return {row["id"]: row for row in rows}


async def lock_sessions_for_signup(
    conn: Connection, session_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, asyncpg.Record]:
    """Sessions about to take sign-ups, locked in id order (so two batches never deadlock),
    with their waitlist length and what messages say about them."""
    rows = await conn.fetch(
        f"""
        SELECT s.*, a.title AS activity_title, a.festival_id, a.age_bands, a.children_need_adult,
               f.published AS festival_published, f.max_sessions_per_resident,
               (SELECT count(*) FROM activities.signups w
                 WHERE w.session_id = s.id AND w.status = 'WAITLISTED') AS waiting,
               {_DASHBOARD_FACTS}
        FROM activities.sessions s
        JOIN activities.activities a ON a.id = s.activity_id
        JOIN activities.festivals f ON f.id = a.festival_id
        LEFT JOIN activities.venues v ON v.id = s.venue_id
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


async def lock_festival_residents(conn: Connection, pairs: Sequence[tuple[uuid.UUID, str]]) -> None:
    """Serialise sign-ups of one resident within one limited festival (in one sorted order,
    so batches never deadlock), then their counts below stay true until commit."""
    keys = sorted({f"{festival_id}:{resident_id}" for festival_id, resident_id in pairs})
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
        "FROM unnest($1::text[]) WITH ORDINALITY AS t(k, n) ORDER BY n",
        keys,
    )


async def festival_signups_held(
    conn: Connection, pairs: Sequence[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], int]:
    """How many live sign-ups each (festival, resident) holds."""
    if not pairs:
        return {}
    rows = await conn.fetch(
        """
        SELECT a.festival_id, g.resident_id, count(*) AS held
        FROM activities.signups g
        JOIN activities.sessions s ON s.id = g.session_id
        JOIN activities.activities a ON a.id = s.activity_id
        JOIN unnest($1::uuid[], $2::text[]) AS p(festival_id, resident_id)
          ON p.festival_id = a.festival_id AND p.resident_id = g.resident_id
        WHERE g.status <> 'CANCELLED'
        GROUP BY a.festival_id, g.resident_id
        """,
        [festival_id for festival_id, _ in pairs],
        [resident_id for _, resident_id in pairs],
    )
    return {(row["festival_id"], row["resident_id"]): row["held"] for row in rows}


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
    attendees: tuple[dict[str, str], ...] = ()
    proxy_id: str | None = None  # the grid worker who signed the resident up


async def insert_signups(conn: Connection, signups: Sequence[NewSignup]) -> list[asyncpg.Record]:
    """Insert many sign-ups in one statement; arrival order follows the given order."""
    return await conn.fetch(
        """
        INSERT INTO activities.signups
            (id, session_id, resident_id, party_size, status, idempotency_key, attendees, proxy_id)
        SELECT id, session_id, resident_id, party_size, status, idempotency_key, attendees::jsonb, proxy_id
        FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[],
                    $8::text[])
             WITH ORDINALITY
             AS t(id, session_id, resident_id, party_size, status, idempotency_key, attendees, proxy_id, n)
        ORDER BY n
        RETURNING *
        """,
        [s.signup_id for s in signups],
        [s.session_id for s in signups],
        [s.resident_id for s in signups],
        [s.party_size for s in signups],
        [s.status.value for s in signups],
        [s.idempotency_key for s in signups],
        [json.dumps(list(s.attendees), ensure_ascii=False) for s in signups],
        [s.proxy_id for s in signups],
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
        f"""
        SELECT s.*, a.title AS activity_title, a.festival_id, v.capacity AS venue_capacity,
               {_DASHBOARD_FACTS}
        FROM activities.sessions s JOIN activities.activities a ON a.id = s.activity_id
        LEFT JOIN activities.venues v ON v.id = s.venue_id
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


async def signups_not_yet_over(conn: Connection, resident_id: str, at: datetime) -> list[asyncpg.Record]:
    """The resident's live sign-ups for sessions that have not ended and that nobody of the
    party has checked in on, in session id order (the order sessions are locked in)."""
    return await conn.fetch(
        """
        SELECT g.id, g.session_id FROM activities.signups g
        JOIN activities.sessions s ON s.id = g.session_id
        WHERE g.resident_id = $1 AND g.status <> 'CANCELLED' AND s.ends_at > $2
          AND NOT EXISTS (SELECT 1 FROM activities.attendance t WHERE t.signup_id = g.id)
        ORDER BY g.session_id, g.arrival
        """,
        resident_id,
        at,
    )


async def rename_attendees(conn: Connection, resident_id: str, name: str) -> int:
    """Every household member on the resident's sign-ups (and on what was taken off them)
    is called ``name``: the party's size and age bands stay, for the counts. Rows changed."""
    changed = 0
    for table, column, where in (
        ("activities.signups", "attendees", "resident_id = $1"),
        (
            "activities.party_changes",
            "dropped",
            "signup_id IN (SELECT id FROM activities.signups WHERE resident_id = $1)",
        ),
    ):
        status = await conn.execute(
            f"""
            UPDATE {table} SET {column} = (
                SELECT coalesce(jsonb_agg(CASE WHEN a ? 'name' AND a->>'name' <> ''
                                               THEN a || jsonb_build_object('name', $2::text)
                                               ELSE a END ORDER BY n), '[]'::jsonb)
                FROM jsonb_array_elements({column}) WITH ORDINALITY AS e(a, n))
            WHERE {where} AND jsonb_typeof({column}) = 'array' AND EXISTS (
                SELECT 1 FROM jsonb_array_elements({column}) a
                WHERE a->>'name' IS NOT NULL AND a->>'name' NOT IN ('', $2::text))
            """,
            resident_id,
            name,
        )
        changed += int(status.split()[-1])
    return changed


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


async def first_change(conn: Connection, command_key: str, session_id: uuid.UUID) -> bool:
    """Record an organiser's change request; False if it was applied before."""
    recorded = await conn.fetchval(
        "INSERT INTO activities.session_changes (command_key, session_id) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING RETURNING true",
        command_key,
        session_id,
    )
    return bool(recorded)


async def set_capacity(conn: Connection, session_id: uuid.UUID, capacity: int) -> None:
    await conn.execute("UPDATE activities.sessions SET capacity = $2 WHERE id = $1", session_id, capacity)


async def move_session(
    conn: Connection,
    session_id: uuid.UUID,
    starts_at: datetime,
    ends_at: datetime,
    venue_id: uuid.UUID | None,
    venue: str,
    at: datetime,
) -> None:
    await conn.execute(
        "UPDATE activities.sessions SET starts_at = $2, ends_at = $3, venue_id = $4, venue = $5, "
        "rescheduled_at = $6 WHERE id = $1",
        session_id,
        starts_at,
        ends_at,
        venue_id,
        venue,
        at,
    )


async def free_cancellation(conn: Connection, signup_ids: Sequence[uuid.UUID]) -> None:
    """These sign-ups may be withdrawn past the deadline: their session moved under them."""
    await conn.execute(
        "UPDATE activities.signups SET free_cancel = true WHERE id = ANY($1::uuid[])", list(signup_ids)
    )


async def party_change_made(conn: Connection, signup_id: uuid.UUID, change_key: str) -> bool:
    found = await conn.fetchval(
        "SELECT true FROM activities.party_changes WHERE signup_id = $1 AND change_key = $2",
        signup_id,
        change_key,
    )
    return bool(found)


async def reduce_party(
    conn: Connection,
    signup_id: uuid.UUID,
    attendees: Sequence[dict[str, str]],
    party_size: int,
    change: dict[str, Any],
) -> asyncpg.Record:
    """The sign-up with its smaller party, and the change recorded under its request's key."""
    await conn.execute(
        """
        INSERT INTO activities.party_changes
            (signup_id, change_key, dropped, party_before, party_after, asked_by, changed_at)
        VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7)
        """,
        signup_id,
        change["key"],
        json.dumps(change["dropped"], ensure_ascii=False),
        change["party_before"],
        party_size,
        change["asked_by"],
        change["at"],
    )
    row = await conn.fetchrow(
        "UPDATE activities.signups SET attendees = $2::jsonb, party_size = $3 WHERE id = $1 RETURNING *",
        signup_id,
        json.dumps(list(attendees), ensure_ascii=False),
        party_size,
    )
    assert row is not None
    return row


async def mark_cancelled_by_proxy(conn: Connection, signup_id: uuid.UUID, proxy_id: str) -> None:
    await conn.execute(
        "UPDATE activities.signups SET cancelled_by_proxy = $2 WHERE id = $1", signup_id, proxy_id
    )


def attendees_of(row: asyncpg.Record) -> list[dict[str, str]]:
    value = row["attendees"]
    if value is None:
        return []
    return list(json.loads(value) if isinstance(value, str) else value)


def as_dict(row: asyncpg.Record) -> dict[str, Any]:
    """A row as JSON-friendly values, for command replies (attendees as a list)."""
    out = row_as_dict(row)
    if isinstance(out.get("attendees"), str):
        out["attendees"] = json.loads(out["attendees"])
    return out
