"""Identity's background work, which the gateway runs (identity has no worker of its own):
relaying identity's outbox to its consumers (and sending again what Redis lost), and pruning
identity's schema every hour.

Several gateways may run it at once: the relay takes rows with SKIP LOCKED, and pruning twice
prunes nothing more.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import asyncpg
from arq.connections import ArqRedis

from services.common.clock import now
from services.common.db import Connection
from services.common.outbox import run_relay
from services.common.redelivery import run_redelivery
from services.common.retention import prune_event_plumbing, update_in_batches
from services.common.settings import Settings
from services.identity.contracts import SERVICE, STAFF_LOG_IN_BURST

log = logging.getLogger("linli.identity")

# consumer service -> identity's events it takes
ROUTES = {"notify": (STAFF_LOG_IN_BURST,)}
PRUNE_EVERY_S = 3600.0


async def prune_audit_details(conn: Connection, settings: Settings, at: datetime) -> int:
    """Audit rows past their period keep what was done, by whom, to whom and when; their
    details and the client's address are emptied."""
    before = at - timedelta(days=settings.retention_audit_details_days)
    return await update_in_batches(
        conn,
        "identity.audit_log",
        "id",
        "details = '{}'::jsonb, client_ip = NULL",
        "at < $2 AND (details <> '{}'::jsonb OR client_ip IS NOT NULL)",
        before,
    )


async def prune(pool: asyncpg.Pool, settings: Settings, at: datetime | None = None) -> int:
    """One pruning of identity's schema; rows deleted or emptied."""
    at = at or now()
    async with pool.acquire() as conn:
        done = await prune_event_plumbing(conn, SERVICE, settings, at)
        done += await prune_audit_details(conn, settings, at)
    if done:
        log.info("pruned %s rows of identity past their retention", done)
    return done


async def _prune_hourly(pool: asyncpg.Pool, settings: Settings) -> None:
    while True:
        await asyncio.sleep(PRUNE_EVERY_S)
        try:
            await prune(pool, settings)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("pruning identity failed; trying again in an hour", exc_info=True)


async def run_upkeep(pool: asyncpg.Pool, redis: ArqRedis, settings: Settings) -> None:
    """Relay and prune until cancelled."""
    await asyncio.gather(
        run_relay(pool, redis, settings, SERVICE, ROUTES),
        # notify records every event it handles: one Redis lost on the way is sent again
        run_redelivery(pool, redis, settings, SERVICE, ROUTES, tuple(ROUTES)),
        _prune_hourly(pool, settings),
    )
