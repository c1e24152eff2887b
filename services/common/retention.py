"""Retention: what only needs to live a while is pruned every hour, so no table grows forever.

Each worker prunes its own schema: outbox rows relayed longer ago than
``LINLI_RETENTION_OUTBOX_DAYS`` (unsent ones never), consumed-event ids older than
``LINLI_RETENTION_PROCESSED_EVENTS_DAYS`` (far beyond any redelivery: arq keeps a job's result an
hour and retries within minutes), plus whatever the service adds (notify: finished deliveries,
texts, inbox messages; identity, pruned by the gateway: the details and addresses of audit rows).
Personal data is kept no longer than the privacy notice (services/identity/privacy_notice.py) says.
Command replies and streams need nothing here: replies expire in Redis, answered entries are
deleted from their stream. Deletes go in batches so that no lock is held for long.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from arq.cron import CronJob, cron

from services.common.clock import now
from services.common.db import Connection
from services.common.settings import Settings

log = logging.getLogger("linli.retention")

PRUNE_BATCH = 5000
PRUNE_MINUTE = 41  # once an hour, away from the top of the hour when the sweeps run

# A service's own pruning step: (connection, settings, now) -> rows deleted.
PruneStep = Callable[[Connection, Settings, datetime], Awaitable[int]]


async def delete_in_batches(conn: Connection, table: str, key: str, where: str, *args: Any) -> int:
    """Delete the rows of ``table`` matching ``where`` (its parameters from $2 on), a batch at
    a time, each batch its own statement; the number deleted."""
    deleted = 0
    while True:
        status = await conn.execute(
            f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {where} LIMIT $1)",
            PRUNE_BATCH,
            *args,
        )
        count = int(status.split()[-1])
        deleted += count
        if count < PRUNE_BATCH:
            return deleted


async def update_in_batches(
    conn: Connection, table: str, key: str, changes: str, where: str, *args: Any
) -> int:
    """Apply ``changes`` (a SET clause) to the rows of ``table`` matching ``where`` (parameters
    from $2 on; it must no longer match a changed row), a batch at a time; the number changed."""
    changed = 0
    while True:
        status = await conn.execute(
            f"UPDATE {table} SET {changes} WHERE {key} IN (SELECT {key} FROM {table} WHERE {where} LIMIT $1)",
            PRUNE_BATCH,
            *args,
        )
        count = int(status.split()[-1])
        changed += count
        if count < PRUNE_BATCH:
            return changed


async def prune_event_plumbing(conn: Connection, schema: str, settings: Settings, at: datetime) -> int:
    """Relayed outbox rows and consumed-event ids of one service schema, past their periods."""
    relayed_before = at - timedelta(days=settings.retention_outbox_days)
    consumed_before = at - timedelta(days=settings.retention_processed_events_days)
    return await delete_in_batches(
        conn, f"{schema}.outbox", "id", "sent_at IS NOT NULL AND sent_at < $2", relayed_before
    ) + await delete_in_batches(
        conn, f"{schema}.processed_events", "event_id", "processed_at < $2", consumed_before
    )


def pruning(schema: str, *steps: PruneStep) -> CronJob:
    """The hourly arq cron job pruning ``schema``'s event plumbing and then running ``steps``."""

    async def prune(ctx: dict[str, Any]) -> int:
        settings: Settings = ctx["settings"]
        at = now()
        async with ctx["pool"].acquire() as conn:
            deleted = await prune_event_plumbing(conn, schema, settings, at)
            for step in steps:
                deleted += await step(conn, settings, at)
        if deleted:
            log.info("pruned %s rows of %s past their retention", deleted, schema)
        return deleted

    return cron(prune, name=f"prune-{schema}", minute=PRUNE_MINUTE, max_tries=1)
