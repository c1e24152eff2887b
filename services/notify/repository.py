"""SQL for the ``notify`` schema, and nothing else."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.common.db import Connection
from services.common.ids import new_id
from services.common.retention import delete_in_batches
from services.common.settings import Settings
from services.notify.domain import Message
from services.notify.preferences import Preferences
from services.notify.templates import Template

QUEUED, SENT, DEAD = "QUEUED", "SENT", "DEAD"
NOT_SENT = "NOT_SENT"  # the resident turned the channel off for it (WeChat): never retried


async def insert_message(conn: Connection, event_id: uuid.UUID, message: Message) -> None:
    await insert_messages(conn, [(event_id, message)])


def _person_lock(person: str) -> str:
    return f"notify:person:{person}"


async def hold_people(conn: Connection, person_ids: Iterable[str]) -> None:
    """Until the transaction ends, no erasure of these people commits (the lock is shared:
    event batches do not wait for each other). Taken before ``erased_among``: a message is
    then either written before an erasure, which deletes it, or refused after it."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock_shared(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k",
        sorted({_person_lock(p) for p in person_ids}),
    )


async def hold_person_for_erasure(conn: Connection, person_id: str) -> None:
    """Wait for the event batches writing to the person to end, and keep new ones out until
    the erasure commits."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", _person_lock(person_id))


async def erased_among(conn: Connection, person_ids: Iterable[str]) -> set[str]:
    """Those of these people whose account was deleted."""
    rows = await conn.fetch(
        "SELECT person_id FROM notify.erased_people WHERE person_id = ANY($1::text[])", list(set(person_ids))
    )
    return {row["person_id"] for row in rows}


async def insert_messages(conn: Connection, messages: Sequence[tuple[uuid.UUID, Message]]) -> None:
    """Inbox messages; one caused by an event already handled is not written again."""
    await conn.executemany(
        """
        INSERT INTO notify.inbox
            (id, recipient_id, kind, title_zh, body_zh, title_en, body_en, event_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (event_id, recipient_id) DO NOTHING
        """,
        [
            (new_id(), m.recipient_id, m.kind, m.title_zh, m.body_zh, m.title_en, m.body_en, event_id)
            for event_id, m in messages
        ],
    )


async def mark_read(conn: Connection, recipient_id: str, ids: Sequence[uuid.UUID], at: datetime) -> int:
    """Mark some of one person's messages read; others' messages are left alone."""
    marked = await conn.fetch(
        """
        UPDATE notify.inbox SET read_at = $3
        WHERE id = ANY($2::uuid[]) AND recipient_id = $1 AND read_at IS NULL
        RETURNING id
        """,
        recipient_id,
        list(ids),
        at,
    )
    return len(marked)


# --- preferences -------------------------------------------------------------------------


def _preferences(row: asyncpg.Record) -> Preferences:
    return Preferences(
        frozenset(row["channels"]),
        row["quiet_start"],
        row["quiet_end"],
        row["email"],
        row["phone"],
        row["wechat_openid"],
    )


async def preferences_of(conn: Connection, person_ids: Iterable[str]) -> dict[str, Preferences]:
    rows = await conn.fetch(
        "SELECT * FROM notify.preferences WHERE person_id = ANY($1::text[])", list(set(person_ids))
    )
    return {row["person_id"]: _preferences(row) for row in rows}


async def save_preferences(conn: Connection, person_id: str, prefs: Preferences) -> None:
    await conn.execute(
        """
        INSERT INTO notify.preferences
            (person_id, channels, email, phone, wechat_openid, quiet_start, quiet_end, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, now())
        ON CONFLICT (person_id) DO UPDATE SET
            channels = EXCLUDED.channels, email = EXCLUDED.email, phone = EXCLUDED.phone,
            wechat_openid = EXCLUDED.wechat_openid, quiet_start = EXCLUDED.quiet_start,
            quiet_end = EXCLUDED.quiet_end, updated_at = now()
        """,
        person_id,
        sorted(prefs.channels),
        prefs.email,
        prefs.phone,
        prefs.wechat_openid,
        prefs.quiet_start,
        prefs.quiet_end,
    )


# --- residents told in person, and what to tell them -----------------------------------------


async def tell_in_person(
    conn: Connection, person_id: str, community_id: str, set_by: str, at: datetime
) -> None:
    await conn.execute(
        """
        INSERT INTO notify.told_in_person (person_id, community_id, set_by, set_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (person_id) DO UPDATE SET community_id = EXCLUDED.community_id
        """,
        person_id,
        community_id,
        set_by,
        at,
    )


async def told_in_person(conn: Connection, person_ids: Iterable[str]) -> dict[str, str]:
    """Which of these people their grid worker tells in person: person id -> their community."""
    rows = await conn.fetch(
        "SELECT person_id, community_id FROM notify.told_in_person WHERE person_id = ANY($1::text[])",
        list(set(person_ids)),
    )
    return {row["person_id"]: row["community_id"] for row in rows}


async def insert_to_tell(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Entries of the "to tell" list; one an event made before is not made again."""
    await conn.executemany(
        """
        INSERT INTO notify.to_tell
            (id, event_id, person_id, community_id, kind, title_zh, body_zh, title_en, body_en, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (event_id, person_id) DO NOTHING
        """,
        [
            (
                new_id(),
                r["event_id"],
                r["person_id"],
                r["community_id"],
                r["kind"],
                r["title_zh"],
                r["body_zh"],
                r["title_en"],
                r["body_en"],
                r["created_at"],
            )
            for r in rows
        ],
    )


async def to_tell_entry(conn: Connection, entry_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM notify.to_tell WHERE id = $1", entry_id)


async def mark_told(conn: Connection, entry_id: uuid.UUID, by: str, at: datetime) -> asyncpg.Record | None:
    """Tick an entry off; ticking it again keeps the first who and when."""
    return await conn.fetchrow(
        """
        UPDATE notify.to_tell SET told_at = coalesce(told_at, $3), told_by = coalesce(told_by, $2)
        WHERE id = $1 RETURNING *
        """,
        entry_id,
        by,
        at,
    )


async def insert_preferences_if_none(conn: Connection, person_id: str, prefs: Preferences) -> bool:
    """Store ``prefs`` unless the person already has preferences; True if stored."""
    stored = await conn.fetchval(
        """
        INSERT INTO notify.preferences
            (person_id, channels, email, phone, wechat_openid, quiet_start, quiet_end, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, now())
        ON CONFLICT (person_id) DO NOTHING
        RETURNING true
        """,
        person_id,
        sorted(prefs.channels),
        prefs.email,
        prefs.phone,
        prefs.wechat_openid,
        prefs.quiet_start,
        prefs.quiet_end,
    )
    return bool(stored)


# --- deliveries --------------------------------------------------------------------------


async def insert_deliveries(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    await conn.executemany(
        """
        INSERT INTO notify.deliveries
            (id, channel, recipient_id, address, kind, subject, body, urgent, not_before, community_id,
             template, params)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (id) DO NOTHING
        """,
        [
            (
                r["id"],
                r["channel"],
                r["recipient_id"],
                r["address"],
                r["kind"],
                r["subject"],
                r["body"],
                r["urgent"],
                r["not_before"],
                r.get("community_id"),
                r.get("template"),
                dict(r.get("params") or {}),
            )
            for r in rows
        ],
    )


async def delivery(conn: Connection, delivery_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM notify.deliveries WHERE id = $1", delivery_id)


async def record_sent(conn: Connection, delivery_id: uuid.UUID, provider: str, at: datetime) -> None:
    await conn.execute(
        """
        UPDATE notify.deliveries
        SET status = 'SENT', attempts = attempts + 1, provider = $2, sent_at = $3, updated_at = $3
        WHERE id = $1 AND status = 'QUEUED'
        """,
        delivery_id,
        provider,
        at,
    )


async def record_failure(
    conn: Connection, delivery_id: uuid.UUID, error: str, max_attempts: int, at: datetime, retry_at: datetime
) -> asyncpg.Record:
    """Count a failed attempt; the last allowed one makes the delivery a dead letter, any
    other is due again at ``retry_at``."""
    row = await conn.fetchrow(
        """
        UPDATE notify.deliveries
        SET attempts = attempts + 1, last_error = $2, updated_at = $4,
            status = CASE WHEN attempts + 1 >= $3 THEN 'DEAD' ELSE status END,
            not_before = CASE WHEN attempts + 1 >= $3 THEN not_before ELSE $5 END
        WHERE id = $1
        RETURNING attempts, status
        """,
        delivery_id,
        error,
        max_attempts,
        at,
        retry_at,
    )
    assert row is not None, f"no delivery {delivery_id}"
    return row


async def record_not_sent(conn: Connection, delivery_id: uuid.UUID, reason: str, at: datetime) -> None:
    await conn.execute(
        """
        UPDATE notify.deliveries SET status = 'NOT_SENT', last_error = $2, updated_at = $3
        WHERE id = $1 AND status = 'QUEUED'
        """,
        delivery_id,
        reason,
        at,
    )


# --- WeChat one-time subscriptions ----------------------------------------------------------


async def grant_subscriptions(
    conn: Connection, person_id: str, template_ids: Sequence[str], at: datetime
) -> None:
    """The resident allowed one more message of each template (as WeChat's page said)."""
    await conn.executemany(
        """
        INSERT INTO notify.wechat_subscriptions (person_id, template_id, remaining, updated_at)
        VALUES ($1, $2, 1, $3)
        ON CONFLICT (person_id, template_id)
        DO UPDATE SET remaining = notify.wechat_subscriptions.remaining + 1, updated_at = $3
        """,
        [(person_id, template_id, at) for template_id in template_ids],
    )


async def spend_subscription(conn: Connection, person_id: str, template_id: str, at: datetime) -> bool:
    """Take one of the resident's subscriptions to ``template_id``; False if none is left."""
    spent = await conn.fetchval(
        """
        UPDATE notify.wechat_subscriptions SET remaining = remaining - 1, updated_at = $3
        WHERE person_id = $1 AND template_id = $2 AND remaining > 0
        RETURNING true
        """,
        person_id,
        template_id,
        at,
    )
    return bool(spent)


async def give_back_subscription(conn: Connection, person_id: str, template_id: str, at: datetime) -> None:
    """The message did not go (WeChat or the network failed): the subscription is not used."""
    await grant_subscriptions(conn, person_id, [template_id], at)


async def overdue_deliveries(conn: Connection, before: datetime) -> list[asyncpg.Record]:
    """Deliveries still queued although due before ``before``: their job may be lost."""
    return await conn.fetch(
        "SELECT id, not_before FROM notify.deliveries WHERE status = 'QUEUED' AND not_before < $1",
        before,
    )


async def requeue_dead(conn: Connection, delivery_id: uuid.UUID, at: datetime) -> asyncpg.Record | None:
    """A dead letter queued again with fresh attempts; None if it is not a dead letter."""
    return await conn.fetchrow(
        """
        UPDATE notify.deliveries
        SET status = 'QUEUED', attempts = 0, not_before = $2, updated_at = $2
        WHERE id = $1 AND status = 'DEAD'
        RETURNING *
        """,
        delivery_id,
        at,
    )


# --- what notify knows of sign-ups (from activities' events) ---------------------------


async def prune_deliveries(conn: Connection, settings: Settings, at: datetime) -> int:
    """Deliveries sent or given up (dead letters) longer ago than their retention period."""
    before = at - timedelta(days=settings.retention_deliveries_days)
    return await delete_in_batches(
        conn,
        "notify.deliveries",
        "id",
        f"status IN ('{SENT}', '{DEAD}', '{NOT_SENT}') AND updated_at < $2",
        before,
    )


async def prune_sms_outbox(conn: Connection, settings: Settings, at: datetime) -> int:
    """Texts recorded longer ago than their retention period (log-in codes, mostly)."""
    before = at - timedelta(days=settings.retention_sms_outbox_days)
    return await delete_in_batches(conn, "notify.sms_outbox", "id", "created_at < $2", before)


async def prune_inbox(conn: Connection, settings: Settings, at: datetime) -> int:
    """Inbox messages older than their retention period, read or not."""
    before = at - timedelta(days=settings.retention_inbox_days)
    return await delete_in_batches(conn, "notify.inbox", "id", "created_at < $2", before)


async def project_signup(conn: Connection, event_id: uuid.UUID, status: str, payload: dict[str, Any]) -> bool:
    """Record a sign-up's state as an event tells it; an older event than the one already
    applied changes nothing. True if this event was applied."""
    return bool(await project_signups(conn, [(event_id, status, payload)]))


async def project_signups(
    conn: Connection, told: Sequence[tuple[uuid.UUID, str, dict[str, Any]]]
) -> set[uuid.UUID]:
    """``project_signup`` for many events (event id, status, payload) in one statement, each
    about another sign-up; returns the sign-ups whose event was applied."""
    if not told:
        return set()
    payloads = [payload for _, _, payload in told]
    rows = await conn.fetch(
        """
        INSERT INTO notify.signups AS s
            (signup_id, session_id, resident_id, status, starts_at, activity_title, venue,
             party_size, last_event_id, festival_id, community_id)
        SELECT * FROM unnest(
            $1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::text[],
            $7::text[], $8::int[], $9::uuid[], $10::uuid[], $11::text[]
        ) ORDER BY 1
        ON CONFLICT (signup_id) DO UPDATE SET
            status = EXCLUDED.status, starts_at = EXCLUDED.starts_at,
            activity_title = EXCLUDED.activity_title, venue = EXCLUDED.venue,
            party_size = EXCLUDED.party_size, last_event_id = EXCLUDED.last_event_id,
            festival_id = coalesce(EXCLUDED.festival_id, s.festival_id),
            community_id = coalesce(EXCLUDED.community_id, s.community_id)
        WHERE s.last_event_id < EXCLUDED.last_event_id
        RETURNING signup_id
        """,
        [uuid.UUID(p["signup_id"]) for p in payloads],
        [uuid.UUID(p["session_id"]) for p in payloads],
        [p["resident_id"] for p in payloads],
        [status for _, status, _ in told],
        [datetime.fromisoformat(p["starts_at"]) for p in payloads],
        [p["activity_title"] for p in payloads],
        [p["venue"] for p in payloads],
        [int(p["party_size"]) for p in payloads],
        [event_id for event_id, _, _ in told],
        [uuid.UUID(p["festival_id"]) if p.get("festival_id") else None for p in payloads],
        [p.get("community_id") for p in payloads],
    )
    return {row["signup_id"] for row in rows}


async def move_signup(conn: Connection, event_id: uuid.UUID, payload: dict[str, Any]) -> str | None:
    """A sign-up's session moved (time or place); returns the sign-up's status, or None if
    notify never heard of it or already applied a newer event."""
    status: str | None = await conn.fetchval(
        """
        UPDATE notify.signups SET starts_at = $3, venue = $4, last_event_id = $1
        WHERE signup_id = $2 AND last_event_id < $1
        RETURNING status
        """,
        event_id,
        uuid.UUID(payload["signup_id"]),
        datetime.fromisoformat(payload["starts_at"]),
        payload["venue"],
    )
    return status


async def signup(conn: Connection, signup_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM notify.signups WHERE signup_id = $1", signup_id)


async def project_shift_signup(
    conn: Connection, event_id: uuid.UUID, status: str, payload: dict[str, Any]
) -> bool:
    """Record a volunteer's shift sign-up as an event tells it; True if this event applied."""
    applied = await conn.fetchval(
        """
        INSERT INTO notify.shift_signups AS s
            (signup_id, shift_id, volunteer_id, status, starts_at, role, venue, last_event_id,
             community_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (signup_id) DO UPDATE SET
            status = EXCLUDED.status, starts_at = EXCLUDED.starts_at, role = EXCLUDED.role,
            venue = EXCLUDED.venue, last_event_id = EXCLUDED.last_event_id,
            community_id = coalesce(EXCLUDED.community_id, s.community_id)
        WHERE s.last_event_id < EXCLUDED.last_event_id
        RETURNING true
        """,
        uuid.UUID(payload["signup_id"]),
        uuid.UUID(payload["shift_id"]),
        payload["volunteer_id"],
        status,
        datetime.fromisoformat(payload["starts_at"]),
        payload["role"],
        payload["venue"],
        event_id,
        payload.get("community_id"),
    )
    return bool(applied)


async def shift_signup(conn: Connection, signup_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM notify.shift_signups WHERE signup_id = $1", signup_id)


async def starting_between(conn: Connection, start: datetime, end: datetime) -> list[asyncpg.Record]:
    """Confirmed sign-ups and shift sign-ups starting in [start, end)."""
    return await conn.fetch(
        """
        SELECT signup_id, starts_at, 'session' AS kind FROM notify.signups
        WHERE status = 'CONFIRMED' AND starts_at >= $1 AND starts_at < $2
        UNION ALL
        SELECT signup_id, starts_at, 'shift' AS kind FROM notify.shift_signups
        WHERE status = 'CONFIRMED' AND starts_at >= $1 AND starts_at < $2
        """,
        start,
        end,
    )


# --- organisers' message templates -------------------------------------------------------


async def templates_for(
    conn: Connection, festival_ids: Iterable[object]
) -> dict[tuple[str, str, str], Template]:
    """The overrides of these festivals, keyed as ``templates.Overrides``; an id that is no
    festival's (not even a UUID) has none."""
    ids = set()
    for festival_id in festival_ids:
        try:
            ids.add(uuid.UUID(str(festival_id)))
        except ValueError:
            continue
    if not ids:
        return {}
    rows = await conn.fetch(
        "SELECT * FROM notify.message_templates WHERE festival_id = ANY($1::uuid[])", list(ids)
    )
    return {
        (str(row["festival_id"]), row["community_id"], row["kind"]): Template(
            row["title_zh"], row["body_zh"], row["title_en"], row["body_en"]
        )
        for row in rows
    }


async def save_template(
    conn: Connection,
    festival_id: uuid.UUID,
    community_id: str,
    kind: str,
    template: Template,
    by: str,
    at: datetime,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO notify.message_templates
            (festival_id, community_id, kind, title_zh, body_zh, title_en, body_en, updated_by, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (festival_id, community_id, kind) DO UPDATE SET
            title_zh = EXCLUDED.title_zh, body_zh = EXCLUDED.body_zh, title_en = EXCLUDED.title_en,
            body_en = EXCLUDED.body_en, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at
        RETURNING *
        """,
        festival_id,
        community_id,
        kind,
        template.title_zh,
        template.body_zh,
        template.title_en,
        template.body_en,
        by,
        at,
    )
    assert row is not None
    return row


async def delete_template(conn: Connection, festival_id: uuid.UUID, community_id: str, kind: str) -> bool:
    deleted = await conn.fetchval(
        """
        DELETE FROM notify.message_templates
        WHERE festival_id = $1 AND community_id = $2 AND kind = $3
        RETURNING true
        """,
        festival_id,
        community_id,
        kind,
    )
    return bool(deleted)
