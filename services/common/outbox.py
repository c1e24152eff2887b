"""Transactional outbox: events are written with the state change, then relayed to consumers.

Every service schema has the same two tables (created by its first migration):
``outbox`` (events it emitted) and ``processed_events`` (events it consumed). Delivery is
at least once; ``consume_new`` makes the effect exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import asyncpg
from arq.connections import ArqRedis

from services.common import tracing
from services.common.clock import now
from services.common.db import Connection
from services.common.ids import new_id
from services.common.observability import OUTBOX_LAG, correlation_id
from services.common.settings import Settings

log = logging.getLogger("linli.outbox")

# The arq job every consumer registers: it takes a batch of event envelopes.
EVENT_HANDLER = "handle_events"
# An event to write: type, payload, correlation id, traceparent (of the work that caused it).
NewEvent = tuple[str, Mapping[str, Any], str | None, str | None]
_NOTIFY_CHANNEL = "linli_outbox"
RELAY_BATCH = 200  # events per relay transaction
GATHER_MIN_S = 0.01  # how long a woken relay waits for more commits when events come one by one


def next_gather(gather_s: float, relayed: int, most_s: float) -> float:
    """How long the relay gathers commits before its next batch. Events that came one by one are
    relayed after ``GATHER_MIN_S``; while each batch holds several (a burst), the wait doubles up
    to ``most_s``, so a burst's events reach each consumer as a few large jobs, not one job per
    few events (each job costs its consumer a pick-up through Redis, whatever its size)."""
    if relayed <= 1:
        return GATHER_MIN_S
    return min(max(most_s, GATHER_MIN_S), gather_s * 2)


async def record_event(
    conn: Connection,
    schema: str,
    event_type: str,
    payload: Mapping[str, Any],
    correlation: str | None = None,
) -> uuid.UUID:
    """Write one event in the caller's transaction; it leaves only if that commits.

    ``correlation`` defaults to the current correlation id (batch handlers pass each one's own);
    the event continues the current trace.
    """
    event_id = new_id()
    await conn.execute(
        f"INSERT INTO {schema}.outbox (id, type, payload, created_at, correlation_id, traceparent) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        event_id,
        event_type,
        dict(payload),
        now(),
        correlation if correlation is not None else correlation_id.get(),
        tracing.current_traceparent(),
    )
    await conn.execute("SELECT pg_notify($1, $2)", _NOTIFY_CHANNEL, schema)
    return event_id


async def record_events(conn: Connection, schema: str, events: Sequence[NewEvent]) -> None:
    """Write many events (type, payload, correlation id, traceparent) in the caller's transaction."""
    if not events:
        return
    at = now()
    await conn.executemany(
        f"INSERT INTO {schema}.outbox (id, type, payload, created_at, correlation_id, traceparent) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        [
            (new_id(), event_type, dict(payload), at, cid, parent)
            for event_type, payload, cid, parent in events
        ],
    )
    await conn.execute("SELECT pg_notify($1, $2)", _NOTIFY_CHANNEL, schema)


async def consume_new(conn: Connection, schema: str, event_ids: Sequence[str]) -> set[str]:
    """Mark events processed in the caller's transaction, in one statement; returns the ids
    not processed before (an id given twice counts once). In id order, so two batches that
    share events cannot deadlock."""
    if not event_ids:
        return set()
    rows = await conn.fetch(
        f"INSERT INTO {schema}.processed_events (event_id) "
        "SELECT DISTINCT unnest($1::uuid[]) ORDER BY 1 ON CONFLICT DO NOTHING RETURNING event_id",
        [uuid.UUID(event_id) for event_id in event_ids],
    )
    return {str(row["event_id"]) for row in rows}


def event_envelope(row: asyncpg.Record, schema: str) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "type": row["type"],
        "source": schema,
        "payload": row["payload"],
        "created_at": row["created_at"].isoformat(),
        "correlation_id": row["correlation_id"],
        "traceparent": row["traceparent"],
    }


def _traced(envelope: dict[str, Any], traceparent: str | None) -> dict[str, Any]:
    return {**envelope, "traceparent": traceparent}


def relaying(
    schema: str, envelopes: Sequence[dict[str, Any]]
) -> AbstractContextManager[Sequence[dict[str, Any]]]:
    """A span per event relayed, in the trace of the work that wrote it; the envelopes handed on
    continue from those spans."""
    return tracing.batch_spans(
        envelopes,
        name=lambda e: f"relay {e['type']}",
        parent=lambda e: e.get("traceparent"),
        rebind=_traced,
        service=schema,
        kind=tracing.SpanKind.PRODUCER,
        attributes=lambda e: {"linli.event": e["type"], "linli.event_id": e["id"]},
    )


def handling(
    service: str, envelopes: Sequence[dict[str, Any]]
) -> AbstractContextManager[Sequence[dict[str, Any]]]:
    """A span per event a consumer handles, under its relay's span; the handler gets the
    envelopes rebound to them (what it causes, a delivery say, continues each event's trace)."""
    return tracing.batch_spans(
        envelopes,
        name=lambda e: f"handle {e['type']}",
        parent=lambda e: e.get("traceparent"),
        rebind=_traced,
        service=service,
        attributes=lambda e: {
            "linli.event": e["type"],
            "linli.event_id": e["id"],
            "linli.source": e["source"],
        },
    )


async def relay_once(
    pool: asyncpg.Pool,
    redis: ArqRedis,
    settings: Settings,
    schema: str,
    routes: Mapping[str, Sequence[str]],
    batch: int = RELAY_BATCH,
) -> int:
    """Move one batch of unsent events onto their consumers' queues; return how many.

    Each consumer gets the batch's events it subscribes to as one job, so it can handle
    them in one transaction. The rows stay locked until the jobs are enqueued; if Redis
    fails the transaction rolls back and the batch is relayed again later (consumers
    ignore events they have already handled).
    """
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            f"SELECT id, type, payload, created_at, correlation_id, traceparent FROM {schema}.outbox "
            "WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
            batch,
        )
        with relaying(schema, [event_envelope(row, schema) for row in rows]) as envelopes:
            for consumer, event_types in routes.items():
                wanted = [e for e in envelopes if e["type"] in event_types]
                if wanted:
                    await redis.enqueue_job(
                        EVENT_HANDLER,
                        wanted,
                        _job_id=f"{settings.namespace}:events:{consumer}:{wanted[0]['id']}:{len(wanted)}",
                        _queue_name=settings.queue(consumer),
                    )
        if rows:
            await conn.execute(
                f"UPDATE {schema}.outbox SET sent_at = $2 WHERE id = ANY($1::uuid[])",
                [row["id"] for row in rows],
                now(),
            )
        oldest = None
        if len(rows) == batch:  # more may be waiting: how long has the oldest of them waited?
            oldest = await conn.fetchval(
                f"SELECT min(created_at) FROM {schema}.outbox WHERE sent_at IS NULL AND NOT (id = ANY($1))",
                [row["id"] for row in rows],
            )
    # A batch that was not full took everything unsent but what other relays hold right now.
    OUTBOX_LAG.labels(schema).set((now() - oldest).total_seconds() if oldest else 0)
    return len(rows)


async def run_relay(
    pool: asyncpg.Pool,
    redis: ArqRedis,
    settings: Settings,
    schema: str,
    routes: Mapping[str, Sequence[str]],
) -> None:
    """Relay forever: woken by NOTIFY on commit, and by a poll as a safety net.

    LISTEN holds a session, which a pooler in transaction mode does not keep: the listener is a
    connection of its own to ``settings.direct_database_url``, outside the pool."""
    wake = asyncio.Event()

    def on_notify(_conn: object, _pid: int, _channel: str, payload: object) -> None:
        # Every schema notifies on the same channel: a relay woken by another's commits would
        # run an empty transaction for each of them (a check-in burst woke all three relays).
        if payload == schema:
            wake.set()

    listener: asyncpg.Connection[asyncpg.Record] | None = None
    gather = GATHER_MIN_S
    try:
        while True:
            wake.clear()
            try:
                if listener is None or listener.is_closed():
                    listener = await asyncpg.connect(settings.direct_database_url)
                    await listener.add_listener(_NOTIFY_CHANNEL, on_notify)
                # A batch that was not full emptied the outbox (what commits meanwhile wakes us).
                moved = await relay_once(pool, redis, settings, schema, routes, RELAY_BATCH)
                relayed = moved
                while moved == RELAY_BATCH:
                    moved = await relay_once(pool, redis, settings, schema, routes, RELAY_BATCH)
                    relayed += moved
                gather = next_gather(gather, relayed, settings.outbox_gather_max_s)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("outbox relay of %s failed; will retry", schema, exc_info=True)
                if listener is not None:
                    with contextlib.suppress(Exception):
                        await listener.close(timeout=1)
                    listener = None
                await asyncio.sleep(settings.outbox_poll_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), settings.outbox_poll_s)
                # In a burst, commits arrive in quick succession: gather them into one batch.
                await asyncio.sleep(gather)
    finally:
        if listener is not None:
            with contextlib.suppress(Exception):
                await listener.close(timeout=1)
