"""Events Redis lost after the relay marked them sent are found and sent again.

The relay marks an event sent once its consumer's job is in Redis, and Redis can still lose that
job: a failover to a replica that had not received it, a ``kill -9`` that took the last second
of the append-only file, a flush. Two ways to close the gap were weighed:

- ``WAIT`` for a replica's acknowledgement before marking sent. It covers a failover to the
  replica that acknowledged, and nothing else: not a lone Redis killed before its fsync, not a
  failover to another replica, not a flush; it adds a replica round trip to every batch, and a
  Redis without replicas (development, a small site) has to turn it off or stall the relay.
- Ask the consumers. Each records every event it handles in its ``processed_events``, in the
  transaction of its effect: that record, not Redis, says what was delivered. So some time after
  relaying (``LINLI_OUTBOX_RESEND_AFTER_S``, longer than a failover and a busy queue), each
  event is checked once against the consumers that keep such a record, and sent again to any
  that lacks it, with the wait doubling each time, ``LINLI_OUTBOX_RESENDS`` times at most.

The second is what runs: it repairs whatever way the job vanished, costs one index lookup per
event, and a copy sent to a consumer that was merely slow changes nothing (it records events
once). What it cannot repair it reports: an event still missing after the last try is logged
and counted (``linli_events_resent_total{outcome="given_up"}``).

It reads the consumers' ``processed_events``, the one table every schema keeps alike for this
contract; consumers that keep no record (the live seat counts) are never checked.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from arq.connections import ArqRedis

from services.common.clock import now
from services.common.db import Connection
from services.common.ids import new_id
from services.common.observability import EVENTS_RESENT
from services.common.outbox import EVENT_HANDLER, event_envelope, relaying
from services.common.settings import Settings

log = logging.getLogger("linli.redelivery")

CHECK_BATCH = 500


@dataclass(frozen=True)
class Checked:
    """One pass: events found handled by every consumer, sent again, given up on."""

    confirmed: int = 0
    resent: int = 0
    given_up: int = 0

    @property
    def total(self) -> int:
        return self.confirmed + self.resent + self.given_up


async def resend_unconsumed(
    conn: Connection,
    redis: ArqRedis,
    settings: Settings,
    schema: str,
    routes: Mapping[str, Sequence[str]],
    confirmed_by: Sequence[str],
    at: datetime | None = None,
    batch: int = CHECK_BATCH,
) -> Checked:
    """Check one batch of relayed events due for it, in the caller's transaction: sent again to
    each consumer in ``confirmed_by`` that has no record of them, else marked checked."""
    at = at or now()
    rows = await conn.fetch(
        f"SELECT id, type, payload, created_at, correlation_id, traceparent, resends FROM {schema}.outbox "
        "WHERE sent_at IS NOT NULL AND checked_at IS NULL "
        "AND sent_at <= $1::timestamptz - make_interval(secs => $2::float8 * power(2, resends)) "
        "ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED",
        at,
        settings.outbox_resend_after_s,
        batch,
    )
    if not rows:
        return Checked()
    missing: dict[uuid.UUID, list[str]] = {}  # event -> consumers without a record of it
    for consumer in confirmed_by:
        wanted = [row["id"] for row in rows if row["type"] in routes[consumer]]
        held = await conn.fetch(
            f"SELECT event_id FROM {consumer}.processed_events WHERE event_id = ANY($1::uuid[])", wanted
        )
        for event_id in set(wanted) - {row["event_id"] for row in held}:
            missing.setdefault(event_id, []).append(consumer)
    again = [row for row in rows if row["id"] in missing and row["resends"] < settings.outbox_resends]
    lost = [row for row in rows if row["id"] in missing and row["resends"] >= settings.outbox_resends]
    lost_ids = {row["id"] for row in lost}
    for consumer in confirmed_by:
        unsent = [event_envelope(row, schema) for row in again if consumer in missing[row["id"]]]
        if not unsent:
            continue
        with relaying(schema, unsent) as envelopes:  # in each event's trace, as its first relay was
            await redis.enqueue_job(
                EVENT_HANDLER,
                envelopes,
                _job_id=f"{settings.namespace}:events:{consumer}:again:{new_id()}",
                _queue_name=settings.queue(consumer),
            )
        EVENTS_RESENT.labels(schema, consumer, "resent").inc(len(unsent))
        log.warning("%d %s events that %s has no record of are sent again", len(unsent), schema, consumer)
    for row in lost:
        for consumer in missing[row["id"]]:
            EVENTS_RESENT.labels(schema, consumer, "given_up").inc()
            log.error(
                "event %s (%s) of %s never reached %s after %d resends: see its jobs' failures",
                row["id"],
                row["type"],
                schema,
                consumer,
                row["resends"],
            )
    await conn.execute(
        f"UPDATE {schema}.outbox SET sent_at = $2, resends = resends + 1 WHERE id = ANY($1::uuid[])",
        [row["id"] for row in again],
        at,
    )
    await conn.execute(
        f"UPDATE {schema}.outbox SET checked_at = $2 WHERE id = ANY($1::uuid[])",
        [row["id"] for row in rows if row["id"] not in missing or row["id"] in lost_ids],
        at,
    )
    return Checked(len(rows) - len(again) - len(lost), len(again), len(lost))


async def run_redelivery(
    pool: asyncpg.Pool,
    redis: ArqRedis,
    settings: Settings,
    schema: str,
    routes: Mapping[str, Sequence[str]],
    confirmed_by: Sequence[str],
) -> None:
    """Check relayed events for ever, a few times per resend period."""
    pause = max(1.0, settings.outbox_resend_after_s / 4)
    while True:
        try:
            while True:
                async with pool.acquire() as conn, conn.transaction():
                    checked = await resend_unconsumed(conn, redis, settings, schema, routes, confirmed_by)
                if checked.total < CHECK_BATCH:
                    break
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("redelivery check of %s failed; will retry", schema, exc_info=True)
        await asyncio.sleep(pause)
