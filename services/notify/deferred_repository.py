"""SQL of notify.deferred_events: events put off during a command burst (services/notify/deferral.py)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from services.common.db import Connection

Event = dict[str, Any]


async def defer(conn: Connection, events: Sequence[tuple[Event, str | None]], at: datetime) -> None:
    """Keep events (each with its subject) to handle later, in their order; one statement."""
    if not events:
        return
    await conn.execute(
        """
        INSERT INTO notify.deferred_events (event_id, subject, envelope, deferred_at)
        SELECT e.id, e.subject, e.envelope, $4
        FROM unnest($1::uuid[], $2::text[], $3::jsonb[]) WITH ORDINALITY AS e (id, subject, envelope, n)
        ORDER BY e.n
        ON CONFLICT (event_id) DO NOTHING
        """,
        [event["id"] for event, _ in events],
        [subject for _, subject in events],
        [event for event, _ in events],
        at,
    )


async def take_about(conn: Connection, subjects: Collection[str]) -> list[Event]:
    """Take out (in the caller's transaction) the events put off about these subjects, in the
    order they came in."""
    if not subjects:
        return []
    rows = await conn.fetch(
        "DELETE FROM notify.deferred_events WHERE subject = ANY($1::text[]) RETURNING seq, envelope",
        list(subjects),
    )
    return [row["envelope"] for row in sorted(rows, key=lambda row: row["seq"])]


async def take_oldest(conn: Connection, limit: int) -> list[Event]:
    """Take out (in the caller's transaction) up to ``limit`` of the events put off, oldest
    first; rows another drain holds are skipped."""
    rows = await conn.fetch(
        """
        DELETE FROM notify.deferred_events WHERE seq IN (
            SELECT seq FROM notify.deferred_events ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
        )
        RETURNING seq, envelope
        """,
        limit,
    )
    return [row["envelope"] for row in sorted(rows, key=lambda row: row["seq"])]


async def oldest(conn: Connection) -> datetime | None:
    """When the oldest event still put off was put off (None: none is)."""
    found: datetime | None = await conn.fetchval(
        "SELECT deferred_at FROM notify.deferred_events ORDER BY seq LIMIT 1"
    )
    return found
