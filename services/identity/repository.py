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


async def erase_resident(
    conn: Connection, resident_id: uuid.UUID, pseudonym: str, needles: list[str], now: datetime
) -> bool:
    """The account deleted: the row stays (sign-ups, hours and audit rows name it) with nothing
    personal left but the pseudonym and community; household and log-in code go. Whether there
    was an account to delete."""
    row = await conn.fetchrow(
        """
        UPDATE identity.residents
        SET name = $2, phone = NULL, contact_kind = 'none', contact_phone = NULL,
            contact_owner = '', building = '', unit = '', created_by = NULL,
            erased_at = $3, updated_at = $3
        WHERE id = $1 AND erased_at IS NULL
        RETURNING id
        """,
        resident_id,
        pseudonym,
        now,
    )
    if row is None:
        return False
    await conn.execute("DELETE FROM identity.household_members WHERE resident_id = $1", resident_id)
    await conn.execute("DELETE FROM identity.login_codes WHERE phone = ANY($1::text[])", needles)
    await conn.execute("DELETE FROM identity.wechat_accounts WHERE resident_id = $1", resident_id)
    await conn.execute("DELETE FROM identity.building_leaders WHERE resident_id = $1", resident_id)
    return True


async def accepted_notice(conn: Connection, phone: str, version: str) -> bool:
    """Whether the resident with this number accepted this version of the privacy notice."""
    found = await conn.fetchval(
        """
        SELECT true FROM identity.consents c JOIN identity.residents r ON r.id = c.resident_id
        WHERE r.phone = $1 AND c.kind = 'PRIVACY_NOTICE' AND c.notice_version = $2 LIMIT 1
        """,
        phone,
        version,
    )
    return bool(found)


async def record_consent(
    conn: Connection,
    resident_id: uuid.UUID,
    kind: str,
    notice_version: str,
    recorded_by: str,
    now: datetime,
    member_id: uuid.UUID | None = None,
) -> None:
    await conn.execute(
        """
        INSERT INTO identity.consents
            (id, resident_id, kind, notice_version, member_id, recorded_by, given_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        new_id(),
        resident_id,
        kind,
        notice_version,
        member_id,
        recorded_by,
        now,
    )


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


async def resident_by_wechat(conn: Connection, app_id: str, openid: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT r.* FROM identity.wechat_accounts w JOIN identity.residents r ON r.id = w.resident_id
        WHERE w.app_id = $1 AND w.openid = $2
        """,
        app_id,
        openid,
    )


async def link_wechat(
    conn: Connection, app_id: str, openid: str, resident_id: uuid.UUID, at: datetime
) -> None:
    """The OpenID logs this resident in from now on (whoever proved a phone with it last)."""
    await conn.execute(
        """
        INSERT INTO identity.wechat_accounts (app_id, openid, resident_id, linked_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (app_id, openid) DO UPDATE SET resident_id = $3, linked_at = $4
        """,
        app_id,
        openid,
        resident_id,
        at,
    )


async def touch_resident(conn: Connection, resident_id: uuid.UUID, at: datetime) -> None:
    await conn.execute("UPDATE identity.residents SET last_login_at = $2 WHERE id = $1", resident_id, at)


async def get_resident(conn: Connection, resident_id: uuid.UUID) -> asyncpg.Record | None:
    """A resident whose account was not deleted."""
    return await conn.fetchrow(
        "SELECT * FROM identity.residents WHERE id = $1 AND erased_at IS NULL", resident_id
    )


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


async def household_names(conn: Connection, resident_id: uuid.UUID) -> list[str]:
    rows = await conn.fetch("SELECT name FROM identity.household_members WHERE resident_id = $1", resident_id)
    return [row["name"] for row in rows]


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


async def _insert_staff_account(
    conn: Connection, username: str, password_hash: str, display_name: str, created_by: str, now: datetime
) -> asyncpg.Record | None:
    """The account row of a new staff member; None if the username is taken."""
    return await conn.fetchrow(
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
        row = await _insert_staff_account(conn, username, password_hash, display_name, created_by, now)
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
    """The account's (role, community) grants, a street's grant counted once per community of
    the street as the directory has it now. This is the one place street grants are expanded:
    every actor of a staff account (log-in, refresh) is made from it."""
    rows = await conn.fetch(
        """
        SELECT role, community_id FROM identity.staff_roles WHERE account_id = $1
        UNION
        SELECT sr.role, c.id FROM identity.staff_street_roles sr
        JOIN identity.communities c ON c.street_id = sr.street_id
        WHERE sr.account_id = $1
        ORDER BY 1, 2
        """,
        account_id,
    )
    return [(row["role"], row["community_id"]) for row in rows]


async def community_admins(conn: Connection, community_ids: list[str]) -> list[str]:
    """The accounts administering any of these communities, for the community or its street."""
    rows = await conn.fetch(
        """
        SELECT account_id FROM identity.staff_roles
        WHERE role = 'community_admin' AND community_id = ANY($1::text[])
        UNION
        SELECT sr.account_id FROM identity.staff_street_roles sr
        JOIN identity.communities c ON c.street_id = sr.street_id
        WHERE sr.role = 'community_admin' AND c.id = ANY($1::text[])
        ORDER BY 1
        """,
        community_ids,
    )
    return [str(row["account_id"]) for row in rows]


async def insert_street_staff(
    conn: Connection,
    username: str,
    password_hash: str,
    display_name: str,
    role: str,
    street_id: str,
    created_by: str,
    now: datetime,
) -> asyncpg.Record | None:
    """A new staff account whose one grant covers a whole street; None if the username is taken."""
    async with conn.transaction():
        row = await _insert_staff_account(conn, username, password_hash, display_name, created_by, now)
        if row is None:
            return None
        await conn.execute(
            "INSERT INTO identity.staff_street_roles (account_id, role, street_id) VALUES ($1, $2, $3)",
            row["id"],
            role,
            street_id,
        )
    return row


# --- the directory of places -------------------------------------------------------------


async def insert_street(conn: Connection, street_id: str, name: str, district: str) -> asyncpg.Record | None:
    """A new street; None if its id, or its name in the district, is taken."""
    return await conn.fetchrow(
        """
        INSERT INTO identity.streets (id, name, district) VALUES ($1, $2, $3)
        ON CONFLICT DO NOTHING RETURNING *
        """,
        street_id,
        name,
        district,
    )


async def street_exists(conn: Connection, street_id: str) -> bool:
    return bool(await conn.fetchval("SELECT true FROM identity.streets WHERE id = $1", street_id))


async def insert_community(
    conn: Connection, community_id: str, name: str, short_name: str, street_id: str | None, desk_phone: str
) -> asyncpg.Record | None:
    """A new community; None if the id is taken."""
    return await conn.fetchrow(
        """
        INSERT INTO identity.communities (id, name, short_name, street_id, desk_phone)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (id) DO NOTHING RETURNING *
        """,
        community_id,
        name,
        short_name,
        street_id,
        desk_phone,
    )


async def ensure_community(conn: Connection, community_id: str, name: str) -> None:
    """An entry for a community id met before it was in the directory (named after its id)."""
    await conn.execute(
        "INSERT INTO identity.communities (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        community_id,
        name,
    )


async def community_named(conn: Connection, community_id: str, name: str) -> bool:
    """Whether another community of the same street already has this name."""
    return bool(
        await conn.fetchval(
            """
            SELECT true FROM identity.communities c
            WHERE c.name = $2 AND c.id <> $1 AND c.street_id IS NOT DISTINCT FROM
                (SELECT street_id FROM identity.communities WHERE id = $1)
            """,
            community_id,
            name,
        )
    )


async def update_community(
    conn: Connection,
    community_id: str,
    name: str | None,
    short_name: str | None,
    street_id: str | None,
    desk_phone: str | None,
) -> asyncpg.Record | None:
    """Change what was given (None keeps it); None if there is no such community."""
    return await conn.fetchrow(
        """
        UPDATE identity.communities
        SET name = coalesce($2, name), short_name = coalesce($3, short_name),
            street_id = coalesce($4, street_id), desk_phone = coalesce($5, desk_phone)
        WHERE id = $1 RETURNING *
        """,
        community_id,
        name,
        short_name,
        street_id,
        desk_phone,
    )


async def set_certificate_issuer(
    conn: Connection, community_id: str, person_in_charge: str, handler: str, code: str
) -> bool:
    """What the community's certificates name of it as issuer; False if there is no such community."""
    done = await conn.fetchval(
        "UPDATE identity.communities SET person_in_charge = $2, certificate_handler = $3, "
        "certificate_code = $4 WHERE id = $1 RETURNING true",
        community_id,
        person_in_charge,
        handler,
        code,
    )
    return bool(done)


async def find_community(conn: Connection, typed: str) -> str | None:
    """The id of the community with this id, name or short name (a name shared by two
    communities of different streets matches neither)."""
    ids = await conn.fetch(
        """
        SELECT id FROM identity.communities WHERE id = $1
        UNION
        SELECT id FROM identity.communities WHERE name = $1 OR (short_name <> '' AND short_name = $1)
        LIMIT 2
        """,
        typed,
    )
    return str(ids[0]["id"]) if len(ids) == 1 else None


async def insert_station(
    conn: Connection, community_id: str, name: str, address: str, phone: str
) -> asyncpg.Record | None:
    """A 邻里驿家 station of a community; None if the community already has one of that name."""
    return await conn.fetchrow(
        """
        INSERT INTO identity.stations (id, community_id, name, address, phone)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (community_id, name) DO NOTHING RETURNING *
        """,
        uuid.uuid4(),
        community_id,
        name,
        address,
        phone,
    )


async def update_station(
    conn: Connection, station_id: uuid.UUID, address: str | None, phone: str | None
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        UPDATE identity.stations SET address = coalesce($2, address), phone = coalesce($3, phone)
        WHERE id = $1 RETURNING *
        """,
        station_id,
        address,
        phone,
    )


async def get_station(conn: Connection, station_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM identity.stations WHERE id = $1", station_id)


async def insert_grid(
    conn: Connection, community_id: str, name: str, buildings: list[str]
) -> asyncpg.Record | None:
    """A 小区/网格 of a community with its buildings; None if the name is taken there."""
    return await conn.fetchrow(
        """
        INSERT INTO identity.grids (id, community_id, name, buildings) VALUES ($1, $2, $3, $4)
        ON CONFLICT (community_id, name) DO NOTHING RETURNING *
        """,
        uuid.uuid4(),
        community_id,
        name,
        buildings,
    )


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


async def set_staff_password(conn: Connection, account_id: uuid.UUID, password_hash: str) -> None:
    await conn.execute(
        "UPDATE identity.staff_accounts SET password_hash = $2 WHERE id = $1", account_id, password_hash
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


async def set_building_leader(
    conn: Connection, community_id: str, building: str, resident_id: uuid.UUID, set_by: str, at: datetime
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO identity.building_leaders (community_id, building, resident_id, set_by, set_at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (community_id, building) DO UPDATE SET resident_id = $3, set_by = $4, set_at = $5
        RETURNING *
        """,
        community_id,
        building,
        resident_id,
        set_by,
        at,
    )
    assert row is not None
    return row
