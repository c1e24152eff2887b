"""SQL for the ``volunteers`` schema, and nothing else. Every function takes a connection."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.common.db import Connection
from services.volunteers.domain import CheckInMethod, LedgerKind, ShiftPlan, Span
from services.volunteers.profiles import PartyMember, PartyMemberStatus, Profile, unit_key


async def lock_volunteer(conn: Connection, volunteer_id: str) -> None:
    """Serialise, until the transaction ends, the decisions that read a volunteer's other
    rows: overlapping sign-ups and the ledger's running total."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('volunteers:volunteer:' || $1, 0))",
        volunteer_id,
    )


async def insert_shift(
    conn: Connection, shift_id: uuid.UUID, plan: ShiftPlan, venue_key: str, created_by: str
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO volunteers.shifts (id, community_id, festival_id, venue, venue_key, role,
            starts_at, ends_at, headcount, required_skill, created_by, contact_phone)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
        RETURNING *
        """,
        shift_id,
        plan.community_id,
        plan.festival_id,
        plan.venue,
        venue_key,
        plan.role,
        plan.starts_at,
        plan.ends_at,
        plan.headcount,
        plan.required_skill,
        created_by,
        plan.contact_phone,
    )
    assert row is not None
    return row


async def units_of(conn: Connection, volunteer_id: str) -> dict[str, Any]:
    """For the dashboard's hours per unit: the work unit a party member reported (双报到) from
    (None if not a party member) and the partner organisations (共建单位) the volunteer is a
    member of, by name. Never the person: these go into events beside the minutes."""
    row = await conn.fetchrow(
        """
        SELECT (SELECT work_unit FROM volunteers.party_members WHERE volunteer_id = $1) AS work_unit,
               coalesce((SELECT array_agg(o.name ORDER BY o.name) FROM volunteers.partner_members m
                 JOIN volunteers.partner_organisations o ON o.id = m.organisation_id
                 WHERE m.volunteer_id = $1), '{}') AS partners
        """,
        volunteer_id,
    )
    assert row is not None  # a SELECT without FROM answers one row
    return {"work_unit": row["work_unit"], "partners": list(row["partners"])}


async def get_shift(conn: Connection, shift_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM volunteers.shifts WHERE id = $1", shift_id)


def shift_span(shift: asyncpg.Record) -> Span:
    return Span(shift["starts_at"], shift["ends_at"])


async def has_skill(conn: Connection, volunteer_id: str, skill: str, community_id: str) -> bool:
    """Whether ``community_id`` recorded ``skill`` for the volunteer (another community's word
    unlocks nothing here)."""
    found = await conn.fetchval(
        "SELECT 1 FROM volunteers.skills WHERE volunteer_id = $1 AND skill = $2 AND community_id = $3",
        volunteer_id,
        skill,
        community_id,
    )
    return bool(found)


async def insert_skill(
    conn: Connection, volunteer_id: str, skill: str, community_id: str, recorded_by: str
) -> None:
    await conn.execute(
        "INSERT INTO volunteers.skills (volunteer_id, skill, community_id, recorded_by) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        volunteer_id,
        skill,
        community_id,
        recorded_by,
    )


async def get_signup(conn: Connection, signup_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM volunteers.shift_signups WHERE id = $1", signup_id)


async def is_signed_up(conn: Connection, shift_id: uuid.UUID, volunteer_id: str) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM volunteers.shift_signups WHERE shift_id = $1 AND volunteer_id = $2",
        shift_id,
        volunteer_id,
    )
    return bool(found)


async def signed_up_spans(conn: Connection, volunteer_id: str) -> list[Span]:
    rows = await conn.fetch(
        "SELECT s.starts_at, s.ends_at FROM volunteers.shift_signups g "
        "JOIN volunteers.shifts s ON s.id = g.shift_id WHERE g.volunteer_id = $1",
        volunteer_id,
    )
    return [Span(row["starts_at"], row["ends_at"]) for row in rows]


async def take_place(conn: Connection, shift_id: uuid.UUID) -> bool:
    """Take one place if one is free: one conditional update, the only writer of ``taken``."""
    taken = await conn.fetchval(
        "UPDATE volunteers.shifts SET taken = taken + 1 WHERE id = $1 AND taken < headcount RETURNING taken",
        shift_id,
    )
    return taken is not None


async def insert_signup(
    conn: Connection, signup_id: uuid.UUID, shift_id: uuid.UUID, volunteer_id: str, key: str
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO volunteers.shift_signups (id, shift_id, volunteer_id, idempotency_key) "
        "VALUES ($1, $2, $3, $4) RETURNING *",
        signup_id,
        shift_id,
        volunteer_id,
        key,
    )
    assert row is not None
    return row


async def get_open_check_in(
    conn: Connection, shift_id: uuid.UUID, volunteer_id: str, for_update: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM volunteers.check_ins "
        "WHERE shift_id = $1 AND volunteer_id = $2 AND checked_out_at IS NULL"
        + (" FOR UPDATE" if for_update else ""),
        shift_id,
        volunteer_id,
    )


async def has_closed_check_in(conn: Connection, shift_id: uuid.UUID, volunteer_id: str) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM volunteers.check_ins "
        "WHERE shift_id = $1 AND volunteer_id = $2 AND checked_out_at IS NOT NULL AND undone_at IS NULL",
        shift_id,
        volunteer_id,
    )
    return bool(found)


async def insert_check_in(
    conn: Connection,
    check_in_id: uuid.UUID,
    shift_id: uuid.UUID,
    volunteer_id: str,
    method: CheckInMethod,
    scanned_by: str,
    at: datetime,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO volunteers.check_ins "
        "(id, shift_id, volunteer_id, method, scanned_by, checked_in_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        check_in_id,
        shift_id,
        volunteer_id,
        method.value,
        scanned_by,
        at,
    )
    assert row is not None
    return row


# --- check-ins in batches (check_in_handlers) --------------------------------------------------

Attendee = tuple[uuid.UUID, str]  # a shift and a volunteer


async def shifts_by_id(conn: Connection, shift_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, asyncpg.Record]:
    rows = await conn.fetch("SELECT * FROM volunteers.shifts WHERE id = ANY($1::uuid[])", list(shift_ids))
    return {row["id"]: row for row in rows}


def _columns(pairs: Sequence[Attendee]) -> tuple[list[uuid.UUID], list[str]]:
    return [shift_id for shift_id, _ in pairs], [volunteer_id for _, volunteer_id in pairs]


async def signed_up_among(conn: Connection, pairs: Sequence[Attendee]) -> set[Attendee]:
    """Which of these volunteers are signed up for the shift they name."""
    rows = await conn.fetch(
        "SELECT g.shift_id, g.volunteer_id FROM volunteers.shift_signups g "
        "JOIN unnest($1::uuid[], $2::text[]) AS p (shift_id, volunteer_id) "
        "ON g.shift_id = p.shift_id AND g.volunteer_id = p.volunteer_id",
        *_columns(pairs),
    )
    return {(row["shift_id"], row["volunteer_id"]) for row in rows}


async def open_check_ins_among(conn: Connection, pairs: Sequence[Attendee]) -> dict[Attendee, asyncpg.Record]:
    """The open check-in of each of these volunteers at the shift they name, if any."""
    rows = await conn.fetch(
        "SELECT c.* FROM volunteers.check_ins c "
        "JOIN unnest($1::uuid[], $2::text[]) AS p (shift_id, volunteer_id) "
        "ON c.shift_id = p.shift_id AND c.volunteer_id = p.volunteer_id WHERE c.checked_out_at IS NULL",
        *_columns(pairs),
    )
    return {(row["shift_id"], row["volunteer_id"]): row for row in rows}


@dataclass(frozen=True)
class NewCheckIn:
    check_in_id: uuid.UUID
    shift_id: uuid.UUID
    volunteer_id: str
    method: CheckInMethod
    scanned_by: str
    at: datetime


async def insert_check_ins(conn: Connection, new: Sequence[NewCheckIn]) -> dict[Attendee, asyncpg.Record]:
    """Open these check-ins in one statement; one whose volunteer is already checked in to the
    shift (a concurrent scan that committed first) is left out of the answer. Rows go in in
    (shift, volunteer) order, so two batches holding the same two people cannot deadlock."""
    rows = await conn.fetch(
        "INSERT INTO volunteers.check_ins (id, shift_id, volunteer_id, method, scanned_by, checked_in_at) "
        "SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[]) "
        "ORDER BY 2, 3 ON CONFLICT DO NOTHING RETURNING *",
        [c.check_in_id for c in new],
        [c.shift_id for c in new],
        [c.volunteer_id for c in new],
        [c.method.value for c in new],
        [c.scanned_by for c in new],
        [c.at for c in new],
    )
    return {(row["shift_id"], row["volunteer_id"]): row for row in rows}


async def close_check_in(
    conn: Connection, check_in_id: uuid.UUID, at: datetime, auto_closed: bool = False
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "UPDATE volunteers.check_ins SET checked_out_at = greatest($2, checked_in_at), auto_closed = $3 "
        "WHERE id = $1 RETURNING *",
        check_in_id,
        at,
        auto_closed,
    )
    assert row is not None
    return row


async def attendance(conn: Connection, volunteer_id: str) -> list[asyncpg.Record]:
    """A volunteer's completed check-ins with their shifts' times."""
    return await conn.fetch(
        "SELECT c.id, c.checked_in_at, c.checked_out_at, s.starts_at, s.ends_at "
        "FROM volunteers.check_ins c JOIN volunteers.shifts s ON s.id = c.shift_id "
        "WHERE c.volunteer_id = $1 AND c.checked_out_at IS NOT NULL AND c.undone_at IS NULL",
        volunteer_id,
    )


async def credited_total(conn: Connection, volunteer_id: str) -> int:
    total = await conn.fetchval(
        "SELECT coalesce(sum(minutes), 0) FROM volunteers.ledger WHERE volunteer_id = $1",
        volunteer_id,
    )
    return int(total)


async def insert_ledger_entry(
    conn: Connection,
    entry_id: uuid.UUID,
    volunteer_id: str,
    shift_id: uuid.UUID | None,
    kind: LedgerKind,
    minutes: int,
    recorded_by: str,
    check_in_id: uuid.UUID | None = None,
    reason: str | None = None,
    auto_closed: bool = False,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO volunteers.ledger
            (id, volunteer_id, shift_id, check_in_id, kind, minutes, reason, recorded_by, auto_closed)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        RETURNING *
        """,
        entry_id,
        volunteer_id,
        shift_id,
        check_in_id,
        kind.value,
        minutes,
        reason,
        recorded_by,
        auto_closed,
    )
    assert row is not None
    return row


async def get_ledger_entry(conn: Connection, entry_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM volunteers.ledger WHERE id = $1", entry_id)


async def open_check_ins_of_ended_shifts(conn: Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Check-ins nobody closed although their shift has ended: forgotten check-outs."""
    return await conn.fetch(
        "SELECT c.id, c.shift_id, c.volunteer_id FROM volunteers.check_ins c "
        "JOIN volunteers.shifts s ON s.id = c.shift_id "
        "WHERE c.checked_out_at IS NULL AND s.ends_at <= $1 ORDER BY s.ends_at, c.id LIMIT $2",
        now,
        limit,
    )


async def open_check_ins_of_shift(conn: Connection, shift_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id FROM volunteers.check_ins WHERE shift_id = $1 AND checked_out_at IS NULL ORDER BY id",
        shift_id,
    )


async def get_check_in(
    conn: Connection, check_in_id: uuid.UUID, for_update: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM volunteers.check_ins WHERE id = $1" + (" FOR UPDATE" if for_update else ""),
        check_in_id,
    )


# --- profiles, party members, partner organisations ----------------------------------------


async def upsert_profile(conn: Connection, volunteer_id: str, profile: Profile) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO volunteers.profiles
            (volunteer_id, community_id, display_name, availability, availability_slots, updated_at)
        VALUES ($1, $2, $3, $4, $5, now())
        ON CONFLICT (volunteer_id) DO UPDATE SET community_id = EXCLUDED.community_id,
            display_name = EXCLUDED.display_name, availability = EXCLUDED.availability,
            availability_slots = EXCLUDED.availability_slots, updated_at = now()
        RETURNING *
        """,
        volunteer_id,
        profile.community_id,
        profile.display_name,
        profile.availability,
        [slot.as_json() for slot in profile.slots],
    )
    assert row is not None
    return row


async def get_party_member(conn: Connection, volunteer_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM volunteers.party_members WHERE volunteer_id = $1", volunteer_id)


async def upsert_party_member(
    conn: Connection,
    volunteer_id: str,
    member: PartyMember,
    registered_by: str,
    may_move: bool,
    status: PartyMemberStatus,
) -> asyncpg.Record | None:
    """Register (or update) a party member's 双报到 in ``status``. An existing registration
    with another community is replaced only if ``may_move`` (the member themself moves it);
    else None. One registered APPROVED (by the community's organiser) is reviewed by them.

    A registration the member made themself stays theirs when their community's organiser
    corrects it: it is what ties them to that community (``reports.communities_of``)."""
    return await conn.fetchrow(
        """
        INSERT INTO volunteers.party_members (volunteer_id, name, work_unit, work_unit_key, party_branch,
            community_id, reported_on, registered_by, status, reviewed_by, reviewed_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10,
                CASE WHEN $10 = 'APPROVED' AND $8 <> $1 THEN $8 END,
                CASE WHEN $10 = 'APPROVED' AND $8 <> $1 THEN now() END)
        ON CONFLICT (volunteer_id) DO UPDATE SET name = EXCLUDED.name, work_unit = EXCLUDED.work_unit,
            work_unit_key = EXCLUDED.work_unit_key, party_branch = EXCLUDED.party_branch,
            community_id = EXCLUDED.community_id, reported_on = EXCLUDED.reported_on,
            registered_by = CASE
                WHEN party_members.registered_by = party_members.volunteer_id
                     AND party_members.community_id = EXCLUDED.community_id
                THEN party_members.registered_by ELSE EXCLUDED.registered_by END,
            registered_at = now(),
            status = EXCLUDED.status,
            decline_reason = NULL,
            reviewed_by = CASE WHEN EXCLUDED.status = party_members.status AND EXCLUDED.reviewed_by IS NULL
                               THEN party_members.reviewed_by ELSE EXCLUDED.reviewed_by END,
            reviewed_at = CASE WHEN EXCLUDED.status = party_members.status AND EXCLUDED.reviewed_by IS NULL
                               THEN party_members.reviewed_at ELSE EXCLUDED.reviewed_at END
        WHERE party_members.community_id = EXCLUDED.community_id OR $9
        RETURNING *
        """,
        volunteer_id,
        member.name,
        member.work_unit,
        unit_key(member.work_unit),
        member.party_branch,
        member.community_id,
        member.reported_on,
        registered_by,
        may_move,
        status.value,
    )


async def review_party_member(
    conn: Connection,
    volunteer_id: str,
    status: PartyMemberStatus,
    reason: str | None,
    reviewed_by: str,
    at: datetime,
) -> asyncpg.Record | None:
    """Decide a pending registration; None if it was no longer pending."""
    return await conn.fetchrow(
        "UPDATE volunteers.party_members SET status = $2, decline_reason = $3, reviewed_by = $4, "
        "reviewed_at = $5 WHERE volunteer_id = $1 AND status = 'PENDING' RETURNING *",
        volunteer_id,
        status.value,
        reason,
        reviewed_by,
        at,
    )


async def insert_partner_organisation(
    conn: Connection, organisation_id: uuid.UUID, community_id: str, name: str, created_by: str
) -> asyncpg.Record | None:
    """The organisation (the same one again for a retried command); None if the community
    already has another organisation of that name."""
    row = await conn.fetchrow(
        "INSERT INTO volunteers.partner_organisations (id, community_id, name, name_key, created_by) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING *",
        organisation_id,
        community_id,
        name,
        unit_key(name),
        created_by,
    )
    return row or await get_partner_organisation(conn, organisation_id)


async def get_partner_organisation(conn: Connection, organisation_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM volunteers.partner_organisations WHERE id = $1", organisation_id
    )


async def insert_partner_member(
    conn: Connection, organisation_id: uuid.UUID, volunteer_id: str, added_by: str
) -> None:
    await conn.execute(
        "INSERT INTO volunteers.partner_members (organisation_id, volunteer_id, added_by) "
        "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        organisation_id,
        volunteer_id,
        added_by,
    )


async def latest_closed_check_in(
    conn: Connection, shift_id: uuid.UUID, volunteer_id: str
) -> asyncpg.Record | None:
    """The volunteer's last check-out of the shift that still counts, with what it credited;
    locked, for undoing it."""
    return await conn.fetchrow(
        "SELECT c.*, l.minutes AS minutes_credited FROM volunteers.check_ins c "
        "LEFT JOIN volunteers.ledger l ON l.check_in_id = c.id "
        "WHERE c.shift_id = $1 AND c.volunteer_id = $2 AND c.checked_out_at IS NOT NULL "
        "AND c.undone_at IS NULL ORDER BY c.checked_out_at DESC, c.id DESC LIMIT 1 FOR UPDATE OF c",
        shift_id,
        volunteer_id,
    )


# --- withdrawals -------------------------------------------------------------------------------


async def signup_of(conn: Connection, shift_id: uuid.UUID, volunteer_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM volunteers.shift_signups WHERE shift_id = $1 AND volunteer_id = $2 FOR UPDATE",
        shift_id,
        volunteer_id,
    )


async def undo_check_out(
    conn: Connection, closed: asyncpg.Record, new_id: uuid.UUID, by: str, at: datetime
) -> asyncpg.Record:
    """Mark ``closed`` undone and open its continuation from the same arrival."""
    await conn.execute(
        "UPDATE volunteers.check_ins SET undone_at = $2, undone_by = $3 WHERE id = $1", closed["id"], at, by
    )
    row = await conn.fetchrow(
        "INSERT INTO volunteers.check_ins "
        "(id, shift_id, volunteer_id, method, scanned_by, checked_in_at, continues) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        new_id,
        closed["shift_id"],
        closed["volunteer_id"],
        closed["method"],
        closed["scanned_by"],
        closed["checked_in_at"],
        closed["id"],
    )
    assert row is not None
    return row


async def has_check_in(conn: Connection, shift_id: uuid.UUID, volunteer_id: str) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM volunteers.check_ins WHERE shift_id = $1 AND volunteer_id = $2 LIMIT 1",
        shift_id,
        volunteer_id,
    )
    return bool(found)


async def shift_signups_not_yet_over(
    conn: Connection, volunteer_id: str, at: datetime
) -> list[tuple[asyncpg.Record, asyncpg.Record]]:
    """The volunteer's sign-ups, each with its shift, for shifts that have not ended and that
    they have not checked in on."""
    rows = await conn.fetch(
        """
        SELECT g.id AS signup_id FROM volunteers.shift_signups g
        JOIN volunteers.shifts s ON s.id = g.shift_id
        WHERE g.volunteer_id = $1 AND s.ends_at > $2
          AND NOT EXISTS (SELECT 1 FROM volunteers.check_ins c
                          WHERE c.shift_id = g.shift_id AND c.volunteer_id = g.volunteer_id)
        ORDER BY g.shift_id
        """,
        volunteer_id,
        at,
    )
    found = []
    for row in rows:
        signup = await get_signup(conn, row["signup_id"])
        shift = await get_shift(conn, signup["shift_id"]) if signup else None
        if signup is not None and shift is not None:
            found.append((signup, shift))
    return found


async def withdraw(
    conn: Connection,
    withdrawal_id: uuid.UUID,
    signup: asyncpg.Record,
    reason: str | None,
    at: datetime,
) -> asyncpg.Record:
    """Move a sign-up to the withdrawals and free its place (the only other writer of ``taken``
    is ``take_place``; both run under the shift's row lock)."""
    await conn.execute("DELETE FROM volunteers.shift_signups WHERE id = $1", signup["id"])
    await conn.execute("UPDATE volunteers.shifts SET taken = taken - 1 WHERE id = $1", signup["shift_id"])
    row = await conn.fetchrow(
        """
        INSERT INTO volunteers.shift_withdrawals
            (id, signup_id, shift_id, volunteer_id, reason, signed_up_at, withdrawn_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        RETURNING *
        """,
        withdrawal_id,
        signup["id"],
        signup["shift_id"],
        signup["volunteer_id"],
        reason,
        signup["created_at"],
        at,
    )
    assert row is not None
    return row
