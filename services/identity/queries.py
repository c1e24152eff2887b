"""Read models of the ``identity`` schema, for the gateway (read-only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from services.common.db import Connection, row_as_dict
from services.common.paging import DEFAULT_LIMIT, page_start


async def resident(conn: Connection, resident_id: uuid.UUID) -> asyncpg.Record | None:
    """A resident whose account was not deleted."""
    return await conn.fetchrow(
        "SELECT * FROM identity.residents WHERE id = $1 AND erased_at IS NULL", resident_id
    )


async def consents_of(conn: Connection, resident_id: uuid.UUID) -> list[asyncpg.Record]:
    """The consents a resident gave (privacy notice, a guardian's for a child), oldest first."""
    return await conn.fetch(
        "SELECT * FROM identity.consents WHERE resident_id = $1 ORDER BY given_at, id", resident_id
    )


async def residents(conn: Connection, resident_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, asyncpg.Record]:
    """Many residents at once (a roster's, the door's), by id; ids with no resident are absent."""
    rows = await conn.fetch(
        "SELECT * FROM identity.residents WHERE id = ANY($1::uuid[])", list(set(resident_ids))
    )
    return {row["id"]: row for row in rows}


async def staff_accounts(
    conn: Connection, account_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, asyncpg.Record]:
    rows = await conn.fetch(
        "SELECT id, username, display_name FROM identity.staff_accounts WHERE id = ANY($1::uuid[])",
        list(set(account_ids)),
    )
    return {row["id"]: row for row in rows}


async def household_of(conn: Connection, resident_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM identity.household_members WHERE resident_id = $1 ORDER BY created_at, id",
        resident_id,
    )


async def staff_account(conn: Connection, account_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, username, display_name FROM identity.staff_accounts WHERE id = $1", account_id
    )


async def audit_trail(conn: Connection, subject: str, limit: int = 50) -> list[asyncpg.Record]:
    """What happened to one account (or masked number, or username), newest first."""
    return await conn.fetch(
        "SELECT * FROM identity.audit_log WHERE subject = $1 ORDER BY at DESC, id DESC LIMIT $2",
        subject,
        limit,
    )


async def community_audit_trail(
    conn: Connection, community_id: str, limit: int = 100, after: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """A page of the staff actions in one community, newest first, after entry ``after``."""
    start = await page_start(
        conn,
        after,
        "SELECT at, id FROM identity.audit_log WHERE id = $1 AND community_id = $2",
        after,
        community_id,
    )
    return await conn.fetch(
        "SELECT * FROM identity.audit_log WHERE community_id = $1 "
        "AND ($3::timestamptz IS NULL OR (at, id) < ($3, $4)) ORDER BY at DESC, id DESC LIMIT $2",
        community_id,
        limit,
        start and start["at"],
        start and start["id"],
    )


# --- the directory of places -------------------------------------------------------------

_COMMUNITY_COLUMNS = """
    c.id, c.name, c.short_name, c.street_id, c.desk_phone,
    coalesce(s.name, '') AS street_name, coalesce(s.district, '') AS district
"""


async def directory(
    conn: Connection, pattern: str | None = None, limit: int = 50, placed_only: bool = False
) -> list[asyncpg.Record]:
    """Communities with their street, grouped by street (district, street, then name); with a
    LIKE ``pattern`` only those whose name, short name or street's name holds it; ``placed_only``
    leaves out those in no street yet (entries named after an id, awaiting an admin)."""
    return await conn.fetch(
        f"""
        SELECT {_COMMUNITY_COLUMNS}
        FROM identity.communities c LEFT JOIN identity.streets s ON s.id = c.street_id
        WHERE ($1::text IS NULL OR c.name LIKE $1 OR c.short_name LIKE $1 OR s.name LIKE $1)
          AND (NOT $3 OR c.street_id IS NOT NULL)
        ORDER BY s.district NULLS LAST, s.name NULLS LAST, c.name, c.id
        LIMIT $2
        """,
        pattern,
        limit,
        placed_only,
    )


async def community(conn: Connection, community_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        SELECT {_COMMUNITY_COLUMNS}
        FROM identity.communities c LEFT JOIN identity.streets s ON s.id = c.street_id
        WHERE c.id = $1
        """,
        community_id,
    )


async def certificate_issuer(conn: Connection, community_id: str) -> asyncpg.Record | None:
    """What a 志愿服务记录证明 names of its issuing community besides its name and phone."""
    return await conn.fetchrow(
        "SELECT person_in_charge, certificate_handler, certificate_code FROM identity.communities "
        "WHERE id = $1",
        community_id,
    )


async def community_names(conn: Connection, community_ids: list[str] | None = None) -> dict[str, str]:
    """id → name of the given communities (of all, without ids); unknown ids are left out."""
    rows = await conn.fetch(
        "SELECT id, name FROM identity.communities WHERE $1::text[] IS NULL OR id = any($1)",
        community_ids,
    )
    return {row["id"]: row["name"] for row in rows}


async def street_communities(conn: Connection, street_id: str) -> list[str] | None:
    """The ids of a street's communities; None: no such street."""
    rows = await conn.fetch(
        "SELECT s.id AS street, c.id FROM identity.streets s "
        "LEFT JOIN identity.communities c ON c.street_id = s.id WHERE s.id = $1 ORDER BY c.id",
        street_id,
    )
    if not rows:
        return None
    return [row["id"] for row in rows if row["id"] is not None]


async def streets(
    conn: Connection, limit: int = DEFAULT_LIMIT, after: str | None = None
) -> list[asyncpg.Record]:
    """A page of the streets, by district, name and id, after street ``after``."""
    start = await page_start(
        conn, after, "SELECT district, name, id FROM identity.streets WHERE id = $1", after
    )
    return await conn.fetch(
        "SELECT * FROM identity.streets WHERE ($2::text IS NULL OR (district, name, id) > ($2, $3, $4)) "
        "ORDER BY district, name, id LIMIT $1",
        limit,
        start and start["district"],
        start and start["name"],
        start and start["id"],
    )


async def stations_of(conn: Connection, community_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM identity.stations WHERE community_id = $1 ORDER BY name, id", community_id
    )


async def station(conn: Connection, station_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM identity.stations WHERE id = $1", station_id)


async def grids_of(conn: Connection, community_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM identity.grids WHERE community_id = $1 ORDER BY name, id", community_id
    )


async def resident_by_phone(conn: Connection, phone: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM identity.residents WHERE phone = $1", phone)


async def building_leaders(conn: Connection, community_id: str) -> list[asyncpg.Record]:
    """The community's 楼栋长: building, resident id and name."""
    return await conn.fetch(
        "SELECT b.building, b.resident_id, r.name FROM identity.building_leaders b "
        "JOIN identity.residents r ON r.id = b.resident_id WHERE b.community_id = $1 ORDER BY b.building",
        community_id,
    )


async def grid_workers(conn: Connection, community_id: str) -> list[asyncpg.Record]:
    """Staff accounts with the grid-worker role in the community (or its street): id and name."""
    return await conn.fetch(
        """
        SELECT DISTINCT a.id, a.username, a.display_name FROM identity.staff_accounts a
        WHERE a.id IN (SELECT account_id FROM identity.staff_roles
                       WHERE role = 'grid_worker' AND community_id = $1)
           OR a.id IN (SELECT s.account_id FROM identity.staff_street_roles s
                       JOIN identity.communities c ON c.street_id = s.street_id
                       WHERE s.role = 'grid_worker' AND c.id = $1)
        ORDER BY a.display_name, a.username
        """,
        community_id,
    )


async def personal_data(conn: Connection, resident_id: uuid.UUID) -> dict[str, Any]:
    """What identity holds about a resident, for them to see and download (PIPL)."""
    row = await resident(conn, resident_id)
    if row is None:
        return {}
    profile = {
        key: row[key]
        for key in (
            "name",
            "phone",
            "community_id",
            "building",
            "unit",
            "contact_kind",
            "contact_phone",
            "contact_owner",
            "created_at",
            "last_login_at",
            "created_by",
        )
    }
    return {
        "profile": row_as_dict(profile),  # type: ignore[arg-type]
        "household": [
            row_as_dict(m)
            for m in await conn.fetch(
                "SELECT name, relation, age_band, created_at FROM identity.household_members "
                "WHERE resident_id = $1 ORDER BY created_at, id",
                resident_id,
            )
        ],
        "consents": [
            row_as_dict(c)
            for c in await conn.fetch(
                "SELECT kind, notice_version, member_id, recorded_by, given_at FROM identity.consents "
                "WHERE resident_id = $1 ORDER BY given_at, id",
                resident_id,
            )
        ],
    }
