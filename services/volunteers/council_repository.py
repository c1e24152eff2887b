"""SQL for the 邻里议事会 (concerns, meetings, invitations, tasks, notes, ratings) in the
``volunteers`` schema. Every function takes a connection."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import asyncpg

from services.common.db import Connection
from services.common.paging import DEFAULT_LIMIT, page_start
from services.volunteers.council import ConcernStatus, CostSplit, Tally


async def insert_concern(
    conn: Connection,
    concern_id: uuid.UUID,
    community_id: str,
    building: str,
    words: str,
    photo_url: str | None,
    resident_id: str,
    raised_by: str,
    at: datetime,
) -> tuple[asyncpg.Record, bool]:
    """The concern, and whether this call made it (a retried request finds the first)."""
    row = await conn.fetchrow(
        """
        INSERT INTO volunteers.concerns (id, community_id, building, words, photo_url, resident_id,
            raised_by, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
        ON CONFLICT (id) DO NOTHING
        RETURNING *
        """,
        concern_id,
        community_id,
        building,
        words,
        photo_url,
        resident_id,
        raised_by,
        at,
    )
    if row is not None:
        return row, True
    existing = await get_concern(conn, concern_id)
    assert existing is not None
    return existing, False


async def get_concern(
    conn: Connection, concern_id: uuid.UUID, for_update: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM volunteers.concerns WHERE id = $1" + (" FOR UPDATE" if for_update else ""), concern_id
    )


async def set_concern_status(
    conn: Connection,
    concern_id: uuid.UUID,
    status: ConcernStatus,
    at: datetime,
    **fields: Any,
) -> asyncpg.Record:
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(fields, start=4))
    row = await conn.fetchrow(
        f"UPDATE volunteers.concerns SET status = $2, updated_at = $3{', ' + sets if sets else ''} "
        "WHERE id = $1 RETURNING *",
        concern_id,
        status.value,
        at,
        *fields.values(),
    )
    assert row is not None
    return row


async def _page(
    conn: Connection,
    table: str,
    where: str,
    who: str,
    order: tuple[str, bool],
    limit: int,
    after: uuid.UUID | None,
) -> list[asyncpg.Record]:
    """A page of the rows of ``table`` that ``where`` picks (``$1`` is ``who``), by the column
    ``order[0]`` then id (newest first when ``order[1]``), after row ``after``."""
    column, newest_first = order
    start = await page_start(
        conn, after, f"SELECT {column} AS key, id FROM {table} WHERE id = $2 AND ({where})", who, after
    )
    direction, beyond = ("DESC", "<") if newest_first else ("ASC", ">")
    return await conn.fetch(
        f"SELECT * FROM {table} WHERE ({where}) AND ($3::uuid IS NULL OR ({column}, id) {beyond} ($4, $3)) "
        f"ORDER BY {column} {direction}, id {direction} LIMIT $2",
        who,
        limit,
        start and start["id"],
        start and start["key"],
    )


async def concerns_of_resident(
    conn: Connection, person_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the concerns a resident raised (or a grid worker raised for one), newest first."""
    where = "resident_id = $1 OR raised_by = $1"
    return await _page(conn, "volunteers.concerns", where, person_id, ("created_at", True), limit, after)


async def concerns_of_community(
    conn: Connection, community_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the community's concerns, newest first."""
    where = "community_id = $1"
    return await _page(conn, "volunteers.concerns", where, community_id, ("created_at", True), limit, after)


async def insert_meeting(
    conn: Connection,
    meeting_id: uuid.UUID,
    community_id: str,
    title: str,
    starts_at: datetime,
    station_id: uuid.UUID,
    place: str,
    convened_by: str,
    at: datetime,
) -> asyncpg.Record | None:
    """The new meeting, or None if one with this id was convened before."""
    return await conn.fetchrow(
        """
        INSERT INTO volunteers.council_meetings
            (id, community_id, title, starts_at, station_id, place, convened_by, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (id) DO NOTHING
        RETURNING *
        """,
        meeting_id,
        community_id,
        title,
        starts_at,
        station_id,
        place,
        convened_by,
        at,
    )


async def get_meeting(
    conn: Connection, meeting_id: uuid.UUID, for_update: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM volunteers.council_meetings WHERE id = $1" + (" FOR UPDATE" if for_update else ""),
        meeting_id,
    )


async def meetings_of_community(
    conn: Connection, community_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the community's council meetings, latest first."""
    table, where = "volunteers.council_meetings", "community_id = $1"
    return await _page(conn, table, where, community_id, ("starts_at", True), limit, after)


async def link_concerns(conn: Connection, meeting_id: uuid.UUID, concern_ids: Sequence[uuid.UUID]) -> None:
    await conn.executemany(
        "INSERT INTO volunteers.meeting_concerns (meeting_id, concern_id) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING",
        [(meeting_id, c) for c in concern_ids],
    )


async def meeting_concern_ids(conn: Connection, meeting_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await conn.fetch(
        "SELECT concern_id FROM volunteers.meeting_concerns WHERE meeting_id = $1", meeting_id
    )
    return [row["concern_id"] for row in rows]


async def insert_invitation(
    conn: Connection,
    invitation_id: uuid.UUID,
    meeting_id: uuid.UUID,
    role: str,
    person_id: str | None,
    partner_id: uuid.UUID | None,
    name: str,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO volunteers.meeting_invitations (id, meeting_id, role, person_id, partner_id, name)
        VALUES ($1, $2, $3, $4, $5, $6)
        RETURNING *
        """,
        invitation_id,
        meeting_id,
        role,
        person_id,
        partner_id,
        name,
    )
    assert row is not None
    return row


async def invitations_of_meeting(conn: Connection, meeting_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM volunteers.meeting_invitations WHERE meeting_id = $1 ORDER BY role, name, id",
        meeting_id,
    )


async def get_invitation(conn: Connection, invitation_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM volunteers.meeting_invitations WHERE id = $1 FOR UPDATE", invitation_id
    )


_INVITED = """
        FROM volunteers.meeting_invitations i
        JOIN volunteers.council_meetings m ON m.id = i.meeting_id
        WHERE (i.person_id = $1
           OR i.partner_id IN
              (SELECT organisation_id FROM volunteers.partner_members WHERE volunteer_id = $1))
"""


async def invitations_of(
    conn: Connection, person_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the invitations to the person, or to a partner organisation they are a member
    of: latest meeting first, after invitation ``after``."""
    start = await page_start(
        conn, after, f"SELECT m.starts_at, i.id {_INVITED} AND i.id = $2", person_id, after
    )
    return await conn.fetch(
        f"SELECT i.* {_INVITED} AND ($3::timestamptz IS NULL OR (m.starts_at, i.id) < ($3, $4)) "
        "ORDER BY m.starts_at DESC, i.id DESC LIMIT $2",
        person_id,
        limit,
        start and start["starts_at"],
        start and start["id"],
    )


async def record_reply(
    conn: Connection, invitation_id: uuid.UUID, reply: str, by: str, at: datetime
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "UPDATE volunteers.meeting_invitations SET reply = $2, replied_by = $3, replied_at = $4 "
        "WHERE id = $1 RETURNING *",
        invitation_id,
        reply,
        by,
        at,
    )
    assert row is not None
    return row


async def partner(conn: Connection, partner_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM volunteers.partner_organisations WHERE id = $1", partner_id)


async def partners_of_community(conn: Connection, community_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM volunteers.partner_organisations WHERE community_id = $1 ORDER BY name, id",
        community_id,
    )


async def partner_member_ids(conn: Connection, partner_id: uuid.UUID) -> list[str]:
    rows = await conn.fetch(
        "SELECT volunteer_id FROM volunteers.partner_members WHERE organisation_id = $1 "
        "ORDER BY volunteer_id",
        partner_id,
    )
    return [row["volunteer_id"] for row in rows]


async def is_partner_member(conn: Connection, partner_id: uuid.UUID, person_id: str) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM volunteers.partner_members WHERE organisation_id = $1 AND volunteer_id = $2",
        partner_id,
        person_id,
    )
    return found is not None


async def record_minutes(
    conn: Connection, meeting_id: uuid.UUID, minutes: str, by: str, at: datetime
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "UPDATE volunteers.council_meetings SET minutes = $2, recorded_by = $3, recorded_at = $4 "
        "WHERE id = $1 RETURNING *",
        meeting_id,
        minutes,
        by,
        at,
    )
    assert row is not None
    return row


async def insert_task(
    conn: Connection,
    task_id: uuid.UUID,
    meeting: asyncpg.Record,
    concern: asyncpg.Record,
    decision: dict[str, Any],
    split: CostSplit,
    hands: Tally | None,
    at: datetime,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO volunteers.council_tasks (id, meeting_id, concern_id, community_id, building,
            decision, owner_person_id, owner_partner_id, owner_name, supervisor_id, supervisor_name,
            deadline, cost_total_fen, votes_for, votes_against, votes_abstain, households, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
        RETURNING *
        """,
        task_id,
        meeting["id"],
        concern["id"],
        concern["community_id"],
        concern["building"],
        decision["decision"],
        decision.get("owner_person_id"),
        decision.get("owner_partner_id"),
        decision["owner_name"],
        decision.get("supervisor_id"),
        decision.get("supervisor_name"),
        decision["deadline"],
        split.total_fen,
        hands.votes_for if hands else None,
        hands.against if hands else None,
        hands.abstain if hands else None,
        list(hands.households) if hands else None,
        at,
    )
    assert row is not None
    await conn.executemany(
        "INSERT INTO volunteers.task_cost_shares (task_id, position, party, fen) VALUES ($1, $2, $3, $4)",
        [(task_id, i, share.party, share.fen) for i, share in enumerate(split.shares)],
    )
    return row


async def get_task(conn: Connection, task_id: uuid.UUID, for_update: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM volunteers.council_tasks WHERE id = $1" + (" FOR UPDATE" if for_update else ""),
        task_id,
    )


async def tasks_of_meeting(conn: Connection, meeting_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM volunteers.council_tasks WHERE meeting_id = $1 ORDER BY created_at, id", meeting_id
    )


async def tasks_of_concerns(conn: Connection, concern_ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM volunteers.council_tasks WHERE concern_id = ANY($1::uuid[]) ORDER BY created_at, id",
        list(concern_ids),
    )


async def tasks_of_community(
    conn: Connection, community_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the community's council tasks, by deadline."""
    table, where = "volunteers.council_tasks", "community_id = $1"
    return await _page(conn, table, where, community_id, ("deadline", False), limit, after)


async def tasks_owned_by(
    conn: Connection, person_id: str, limit: int = DEFAULT_LIMIT, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the tasks a person (or their partner unit) carries out or supervises, by deadline."""
    where = (
        "owner_person_id = $1 OR supervisor_id = $1 OR owner_partner_id IN "
        "(SELECT organisation_id FROM volunteers.partner_members WHERE volunteer_id = $1)"
    )
    return await _page(conn, "volunteers.council_tasks", where, person_id, ("deadline", False), limit, after)


async def shares_of(conn: Connection, task_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[asyncpg.Record]]:
    rows = await conn.fetch(
        "SELECT * FROM volunteers.task_cost_shares WHERE task_id = ANY($1::uuid[]) "
        "ORDER BY task_id, position",
        list(task_ids),
    )
    found: dict[uuid.UUID, list[asyncpg.Record]] = {}
    for row in rows:
        found.setdefault(row["task_id"], []).append(row)
    return found


async def set_task_status(conn: Connection, task_id: uuid.UUID, status: str, **fields: Any) -> asyncpg.Record:
    sets = "".join(f", {name} = ${i}" for i, name in enumerate(fields, start=3))
    row = await conn.fetchrow(
        f"UPDATE volunteers.council_tasks SET status = $2{sets} WHERE id = $1 RETURNING *",
        task_id,
        status,
        *fields.values(),
    )
    assert row is not None
    return row


async def insert_note(
    conn: Connection,
    note_id: uuid.UUID,
    task_id: uuid.UUID,
    author_id: str,
    note: str,
    photo_url: str | None,
    at: datetime,
) -> bool:
    done = await conn.execute(
        "INSERT INTO volunteers.task_notes (id, task_id, author_id, note, photo_url, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
        note_id,
        task_id,
        author_id,
        note,
        photo_url,
        at,
    )
    return bool(done == "INSERT 0 1")


async def notes_of(conn: Connection, task_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[asyncpg.Record]]:
    rows = await conn.fetch(
        "SELECT * FROM volunteers.task_notes WHERE task_id = ANY($1::uuid[]) ORDER BY created_at, id",
        list(task_ids),
    )
    found: dict[uuid.UUID, list[asyncpg.Record]] = {}
    for row in rows:
        found.setdefault(row["task_id"], []).append(row)
    return found


async def upsert_rating(
    conn: Connection, task_id: uuid.UUID, resident_id: str, stars: int, comment: str, at: datetime
) -> None:
    """A resident rates once; rating again replaces their rating."""
    await conn.execute(
        """
        INSERT INTO volunteers.task_ratings (task_id, resident_id, stars, comment, created_at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (task_id, resident_id) DO UPDATE SET stars = $3, comment = $4, created_at = $5
        """,
        task_id,
        resident_id,
        stars,
        comment,
        at,
    )


async def ratings_of(
    conn: Connection, task_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[asyncpg.Record]]:
    rows = await conn.fetch(
        "SELECT * FROM volunteers.task_ratings WHERE task_id = ANY($1::uuid[]) ORDER BY created_at",
        list(task_ids),
    )
    found: dict[uuid.UUID, list[asyncpg.Record]] = {}
    for row in rows:
        found.setdefault(row["task_id"], []).append(row)
    return found


async def overdue_tasks(conn: Connection, today: date) -> list[uuid.UUID]:
    rows = await conn.fetch(
        "SELECT id FROM volunteers.council_tasks WHERE status <> 'DONE' AND deadline < $1 "
        "AND (last_reminded_on IS NULL OR last_reminded_on < $1) ORDER BY deadline, id LIMIT 1000",
        today,
    )
    return [row["id"] for row in rows]


async def mark_reminded(conn: Connection, task_id: uuid.UUID, today: date) -> asyncpg.Record | None:
    """Claim today's reminder of an overdue task: of two sweeps at once, one sends it."""
    return await conn.fetchrow(
        "UPDATE volunteers.council_tasks SET last_reminded_on = $2 WHERE id = $1 AND status <> 'DONE' "
        "AND deadline < $2 AND (last_reminded_on IS NULL OR last_reminded_on < $2) RETURNING *",
        task_id,
        today,
    )


# --- a resident's account deleted (PIPL) ------------------------------------------------------


async def lock_concerns_of(conn: Connection, resident_id: str) -> list[asyncpg.Record]:
    """The concerns the resident raised (or had raised for her), locked."""
    return await conn.fetch(
        "SELECT * FROM volunteers.concerns WHERE resident_id = $1 ORDER BY id FOR UPDATE", resident_id
    )


async def forget_concern_author(
    conn: Connection, concern_id: uuid.UUID, resident_id: str, words: str
) -> None:
    """The concern no longer links to its author (nor, if she typed it, to who raised it),
    shows no photo, and says ``words``."""
    await conn.execute(
        """
        UPDATE volunteers.concerns
        SET words = $3, photo_url = NULL, resident_id = NULL,
            raised_by = CASE WHEN raised_by = $2 THEN NULL ELSE raised_by END
        WHERE id = $1
        """,
        concern_id,
        resident_id,
        words,
    )


async def forget_council_person(conn: Connection, resident_id: str, pseudonym: str) -> int:
    """Her ratings keep their stars (the average stays) under the pseudonym, without her
    comment; she supervises no task any longer; her progress notes show no photo. Rows changed."""
    statuses = (
        await conn.execute(
            "UPDATE volunteers.task_ratings SET resident_id = $2, comment = '' WHERE resident_id = $1",
            resident_id,
            pseudonym,
        ),
        await conn.execute(
            "UPDATE volunteers.council_tasks SET supervisor_id = NULL WHERE supervisor_id = $1", resident_id
        ),
        await conn.execute(
            "UPDATE volunteers.task_notes SET photo_url = NULL "
            "WHERE author_id = $1 AND photo_url IS NOT NULL",
            resident_id,
        ),
        await conn.execute(
            "UPDATE volunteers.concerns SET raised_by = NULL WHERE raised_by = $1", resident_id
        ),
    )
    return sum(int(status.split()[-1]) for status in statuses)
