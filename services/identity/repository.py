"""SQL for the ``identity`` schema, and nothing else."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from services.common.db import Connection
from services.common.ids import new_id
from services.identity.domain import Profile

# --- login codes -------------------------------------------------------------------------


async def put_login_code(
    conn: Connection, phone: str, code_hash: str, expires_at: datetime, now: datetime
) -> None:
    """Store a fresh code for the number, replacing any earlier one (and its tries)."""
    await conn.execute(
        """
        INSERT INTO identity.login_codes (phone, code_hash, expires_at, attempts, created_at)
        VALUES ($1, $2, $3, 0, $4)
        ON CONFLICT (phone) DO UPDATE
            SET code_hash = EXCLUDED.code_hash, expires_at = EXCLUDED.expires_at,
                attempts = 0, created_at = EXCLUDED.created_at
        """,
        phone,
        code_hash,
        expires_at,
        now,
    )


async def count_try(conn: Connection, phone: str, max_tries: int) -> asyncpg.Record | None:
    """Count one try on the number's code, unless its tries are used up; the code after it."""
    return await conn.fetchrow(
        """
        UPDATE identity.login_codes SET attempts = attempts + 1
        WHERE phone = $1 AND attempts < $2
        RETURNING code_hash, expires_at, attempts
        """,
        phone,
        max_tries,
    )


async def has_login_code(conn: Connection, phone: str) -> bool:
    return bool(await conn.fetchval("SELECT true FROM identity.login_codes WHERE phone = $1", phone))


async def delete_login_code(conn: Connection, phone: str) -> None:
    await conn.execute("DELETE FROM identity.login_codes WHERE phone = $1", phone)


# --- residents ---------------------------------------------------------------------------


async def resident_logged_in(conn: Connection, phone: str, now: datetime) -> asyncpg.Record:
    """The resident with this number, created on first log-in."""
    row = await conn.fetchrow(
        """
        INSERT INTO identity.residents (id, phone, created_at, last_login_at, updated_at)
        VALUES ($1, $2, $3, $3, $3)
        ON CONFLICT (phone) DO UPDATE SET last_login_at = EXCLUDED.last_login_at
        RETURNING *
        """,
        uuid.uuid4(),
        phone,
        now,
    )
    assert row is not None
    return row


async def resident_by_phone(conn: Connection, phone: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM identity.residents WHERE phone = $1", phone)


async def insert_resident_for(
    conn: Connection, phone: str, profile: Profile, created_by: str, now: datetime
) -> asyncpg.Record | None:
    """A resident made by a grid worker, who has never logged in; None if the number is taken."""
    return await conn.fetchrow(
        """
        INSERT INTO identity.residents
            (id, phone, name, community_id, building, unit, created_at, updated_at, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)
        ON CONFLICT (phone) DO NOTHING
        RETURNING *
        """,
        uuid.uuid4(),
        phone,
        profile.name,
        profile.community_id,
        profile.building,
        profile.unit,
        now,
        created_by,
    )


async def resident_without_mobile(
    conn: Connection, profile: Profile, number: str | None
) -> asyncpg.Record | None:
    """The resident of the community registered without a mobile under this name: by the
    number given for them, or (with none) by their building and unit. The caller holds
    ``lock_registration`` so two desks registering the same elder make one."""
    return await conn.fetchrow(
        """
        SELECT * FROM identity.residents
        WHERE phone IS NULL AND community_id = $1 AND name = $2
          AND CASE WHEN $3::text IS NULL THEN building = $4 AND unit = $5 ELSE contact_phone = $3 END
        ORDER BY created_at, id LIMIT 1
        """,
        profile.community_id,
        profile.name,
        number,
        profile.building,
        profile.unit,
    )


async def lock_registration(conn: Connection, community_id: str, name: str) -> None:
    """Serialise registrations of residents without a mobile by community and name."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('resident-without-mobile:' || $1 || ':' || $2, 0))",
        community_id,
        name,
    )


async def insert_resident_without_mobile(
    conn: Connection,
    profile: Profile,
    kind: str,
    number: str | None,
    owner: str,
    created_by: str,
    now: datetime,
) -> asyncpg.Record:
    """A resident a grid worker registers with a landline, a family member's phone or none."""
    row = await conn.fetchrow(
        """
        INSERT INTO identity.residents
            (id, phone, name, community_id, building, unit, created_at, updated_at, created_by,
             contact_kind, contact_phone, contact_owner)
        VALUES ($1, NULL, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10)
        RETURNING *
        """,
        uuid.uuid4(),
        profile.name,
        profile.community_id,
        profile.building,
        profile.unit,
        now,
        created_by,
        kind,
        number,
        owner,
    )
    assert row is not None
    return row


async def get_resident(conn: Connection, resident_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM identity.residents WHERE id = $1", resident_id)


async def update_profile(
    conn: Connection, resident_id: uuid.UUID, profile: Profile, now: datetime
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        UPDATE identity.residents
        SET name = $2, community_id = $3, building = $4, unit = $5, updated_at = $6
        WHERE id = $1
        RETURNING *
        """,
        resident_id,
        profile.name,
        profile.community_id,
        profile.building,
        profile.unit,
        now,
    )


async def lock_resident(conn: Connection, resident_id: uuid.UUID) -> bool:
    """Hold the resident's row so two concurrent additions cannot both pass the size check."""
    found = await conn.fetchval("SELECT true FROM identity.residents WHERE id = $1 FOR UPDATE", resident_id)
    return bool(found)


async def count_household(conn: Connection, resident_id: uuid.UUID) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM identity.household_members WHERE resident_id = $1", resident_id
    )
    return count


async def insert_household_member(
    conn: Connection,
    resident_id: uuid.UUID,
    name: str,
    relation: str,
    age_band: str,
    now: datetime,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO identity.household_members (id, resident_id, name, relation, age_band, created_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        RETURNING *
        """,
        uuid.uuid4(),
        resident_id,
        name,
        relation,
        age_band,
        now,
    )
    assert row is not None
    return row


async def delete_household_member(conn: Connection, resident_id: uuid.UUID, member_id: uuid.UUID) -> bool:
    deleted = await conn.fetchval(
        "DELETE FROM identity.household_members WHERE id = $1 AND resident_id = $2 RETURNING true",
        member_id,
        resident_id,
    )
    return bool(deleted)


# --- staff -------------------------------------------------------------------------------


async def insert_staff(
    conn: Connection,
    username: str,
    password_hash: str,
    display_name: str,
    role: str,
    community_id: str,
    created_by: str,
    now: datetime,
) -> asyncpg.Record | None:
    """A new staff account with its one grant; None if the username is taken."""
    async with conn.transaction():
        row = await conn.fetchrow(
            """
            INSERT INTO identity.staff_accounts
                (id, username, password_hash, display_name, created_by, created_at)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (username) DO NOTHING
            RETURNING id, username, display_name
            """,
            uuid.uuid4(),
            username,
            password_hash,
            display_name,
            created_by,
            now,
        )
        if row is None:
            return None
        await conn.execute(
            "INSERT INTO identity.staff_roles (account_id, role, community_id) VALUES ($1, $2, $3)",
            row["id"],
            role,
            community_id,
        )
    return row


async def staff_by_username(conn: Connection, username: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM identity.staff_accounts WHERE username = $1", username)


async def staff_by_id(conn: Connection, account_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM identity.staff_accounts WHERE id = $1", account_id)


async def staff_grants(conn: Connection, account_id: uuid.UUID) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT role, community_id FROM identity.staff_roles WHERE account_id = $1 "
        "ORDER BY role, community_id",
        account_id,
    )
    return [(row["role"], row["community_id"]) for row in rows]


async def staff_logged_in(
    conn: Connection, account_id: uuid.UUID, now: datetime, new_hash: str | None
) -> None:
    await conn.execute(
        """
        UPDATE identity.staff_accounts
        SET last_login_at = $2, password_hash = coalesce($3, password_hash)
        WHERE id = $1
        """,
        account_id,
        now,
        new_hash,
    )


# --- audit -------------------------------------------------------------------------------


async def audit(
    conn: Connection,
    at: datetime,
    action: str,
    subject: str,
    actor_id: str | None = None,
    client_ip: str | None = None,
    details: dict[str, Any] | None = None,
    community_id: str | None = None,
) -> None:
    await conn.execute(
        """
        INSERT INTO identity.audit_log
            (id, at, action, actor_id, subject, client_ip, details, community_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        """,
        new_id(),
        at,
        action,
        actor_id,
        subject,
        client_ip,
        details or {},
        community_id,
    )
