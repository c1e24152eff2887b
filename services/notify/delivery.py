"""Delivering messages on people's channels: planning (which channel, where, when), the
``deliver`` job with its retries, per-provider rate limit and dead letters.

A delivery is a row in ``notify.deliveries`` and an arq job named by the row's id. The job is
enqueued before the row's transaction commits (so a crash between the two cannot lose it); a
job that finds no row yet waits briefly for the commit.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections.abc import Callable, Container, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from arq.connections import ArqRedis
from arq.worker import Retry, func

from services.common import tracing
from services.common.clock import now
from services.common.ids import derived_id
from services.common.observability import NOTIFICATIONS, WITHOUT_TEMPLATE
from services.common.settings import Settings
from services.notify import repository as repo
from services.notify.channels import (
    DEVELOPMENT,
    Channel,
    DeliveryFailed,
    NoApprovedTemplate,
    Outgoing,
    Unsendable,
    UserDeclined,
    WeChatChannel,
    channels_from,
)
from services.notify.domain import Message
from services.notify.jobs import QueuedJob, enqueue_jobs, job_id_in_queue_slot
from services.notify.preferences import PERSONAL_CHANNELS, WEBHOOK, Preferences, next_send_time

log = logging.getLogger("linli.notify")

DELIVER = "deliver"
_ID_NAMESPACE = uuid.UUID("b5a0f1c2-6d7e-4f21-9a3b-8c4d2e1f0a57")
_MAX_BACKOFF_S = 6 * 3600
# How long a job waits for the transaction that enqueued it to commit.
_UNCOMMITTED_TRIES = 20
# Longer than any one send may take (channels time out after 10 s).
_SENDING_TTL_S = 120


def delivery_id(source_id: uuid.UUID, recipient_id: str, channel: str) -> uuid.UUID:
    return derived_id(_ID_NAMESPACE, str(source_id), recipient_id, channel)


def plan_deliveries(
    source_id: uuid.UUID,
    message: Message,
    prefs: Preferences,
    urgent: bool,
    at: datetime,
    webhook_url: str | None,
    community_id: str | None = None,
    approved: Mapping[str, Container[str]] | None = None,
) -> list[dict[str, Any]]:
    """The deliveries one message needs besides the inbox: one per channel the recipient
    chose (held back by their quiet hours unless urgent), and one to the partner webhook.
    ``community_id``: the community the message is about, whose organisers may see them.
    ``approved``: per templated channel (SMS, WeChat), the template keys it has an approved
    template for (a channel not named takes anything: the development channel); a message
    without one is not sent there, and operators hear of it (a log line and
    ``linli_messages_without_template_total``)."""
    send_at = next_send_time(at, prefs.quiet_start, prefs.quiet_end, urgent)
    planned = []
    for channel in PERSONAL_CHANNELS:
        address = prefs.address(channel)
        keys = (approved or {}).get(channel)
        if address is not None and keys is not None and message.template_key not in keys:
            report_without_template(channel, message.template_key)
            continue
        if address is not None:
            planned.append(
                {
                    "id": delivery_id(source_id, message.recipient_id, channel),
                    "channel": channel,
                    "recipient_id": message.recipient_id,
                    "address": address,
                    "kind": message.kind,
                    "subject": message.title_zh,
                    "body": message.body_zh,
                    "urgent": urgent,
                    "not_before": send_at,
                    "community_id": community_id,
                    "template": message.template_key,
                    "params": dict(message.params),
                }
            )
    if webhook_url:
        body = {
            "id": str(delivery_id(source_id, message.recipient_id, WEBHOOK)),
            "kind": message.kind,
            "recipient_id": message.recipient_id,
            "title": message.title_zh,
            "body": message.body_zh,
            "title_en": message.title_en,
            "body_en": message.body_en,
        }
        planned.append(
            {
                "id": delivery_id(source_id, message.recipient_id, WEBHOOK),
                "channel": WEBHOOK,
                "recipient_id": message.recipient_id,
                "address": webhook_url,
                "kind": message.kind,
                "subject": message.title_zh,
                "body": json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                "urgent": urgent,
                "not_before": at,  # machines have no quiet hours
                "community_id": community_id,
            }
        )
    return planned


def report_without_template(channel: str, template_key: str) -> None:
    """A message of this kind stays in the inbox: the channel's provider sends approved
    templates only, and none is configured for it (LINLI_NOTIFY_SMS_TEMPLATES or
    LINLI_NOTIFY_WECHAT_TEMPLATES)."""
    WITHOUT_TEMPLATE.labels(channel, template_key).inc()
    log.warning("no approved %s template for %s: not sent there, inbox only", channel, template_key)


def backoff_s(attempt: int, base_s: float, rand: float) -> float:
    """Exponential backoff with jitter after the ``attempt``-th failure: half the doubled
    delay is fixed, half random (``rand`` in [0, 1)), so many failures do not retry in step."""
    delay = min(base_s * 2.0 ** (attempt - 1), _MAX_BACKOFF_S)
    return delay / 2 + delay / 2 * rand


def delivery_job_id(settings: Settings, row_id: uuid.UUID, attempt_tag: str = "") -> str:
    return job_id_in_queue_slot(settings.queue("notify"), f"deliver:{row_id}{attempt_tag}")


def delivery_job(
    settings: Settings,
    row_id: uuid.UUID,
    not_before: datetime,
    attempt_tag: str = "",
    traceparent: str | None = None,
) -> QueuedJob:
    """The job sending one delivery; ``traceparent``: the trace of the event that caused it."""
    return QueuedJob(
        DELIVER,
        (str(row_id), traceparent) if traceparent else (str(row_id),),
        delivery_job_id(settings, row_id, attempt_tag),
        settings.queue("notify"),
        not_before if not_before > now() else None,
    )


async def enqueue_deliveries(redis: ArqRedis, settings: Settings, planned: Sequence[dict[str, Any]]) -> None:
    parent = tracing.current_traceparent()
    await enqueue_jobs(
        redis, [delivery_job(settings, row["id"], row["not_before"], traceparent=parent) for row in planned]
    )


async def enqueue_delivery(
    redis: ArqRedis, settings: Settings, row_id: uuid.UUID, not_before: datetime, attempt_tag: str = ""
) -> None:
    parent = tracing.current_traceparent()
    await enqueue_jobs(redis, [delivery_job(settings, row_id, not_before, attempt_tag, parent)])


async def within_rate(redis: ArqRedis, namespace: str, provider: str, per_second: int, at: float) -> bool:
    """Whether one more send to ``provider`` fits this second (``at``, Unix time): a fixed
    one-second window shared by every notify worker."""
    key = f"{namespace}:notify-rate:{provider}:{int(at)}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, 5)
        count, _ = await pipe.execute()
    return int(count) <= per_second


def _channels(ctx: dict[str, Any]) -> dict[str, Channel]:
    channels: dict[str, Channel] | None = ctx.get("channels")
    if channels is None:
        channels = ctx["channels"] = channels_from(ctx["settings"], ctx["redis"])
    return channels


async def deliver(ctx: dict[str, Any], delivery_id: str, traceparent: str | None = None) -> str:
    """Send one delivery on its channel; a failure is retried with backoff until the attempts
    run out, then the delivery is a dead letter. Returns the delivery's status. The send is a
    span in the trace of the event that caused it (``traceparent``), when tracing is on."""
    pool: asyncpg.Pool = ctx["pool"]
    settings: Settings = ctx["settings"]
    row_id = uuid.UUID(delivery_id)
    async with pool.acquire() as conn:
        row = await repo.delivery(conn, row_id)
    if row is None:
        if ctx.get("job_try", 1) < _UNCOMMITTED_TRIES:
            raise Retry(defer=0.2)
        return "MISSING"  # the transaction that planned it rolled back
    if row["status"] != repo.QUEUED:
        return str(row["status"])
    channel = _channels(ctx)[row["channel"]]
    if channel.provider != DEVELOPMENT and not await within_rate(
        ctx["redis"], settings.namespace, channel.provider, settings.notify_rate_per_s, now().timestamp()
    ):
        raise Retry(defer=1 + random.random())  # the next second's window; not a failed attempt
    # Two jobs may hold one delivery (a resend, or a sweep after a lost job): one sends.
    sending = f"{settings.namespace}:notify-sending:{delivery_id}"
    if not await ctx["redis"].set(sending, ctx.get("job_id", "-"), nx=True, ex=_SENDING_TTL_S):
        raise Retry(defer=5)
    attributes = {
        "linli.channel": row["channel"],
        "linli.provider": channel.provider,
        "linli.kind": row["kind"],
    }
    try:
        with tracing.span(
            f"send {row['channel']}", "notify", tracing.SpanKind.CLIENT, traceparent, attributes
        ):
            return await _send(ctx, channel, row)
    finally:
        await ctx["redis"].delete(sending)


async def _send(ctx: dict[str, Any], channel: Channel, row: asyncpg.Record) -> str:
    pool: asyncpg.Pool = ctx["pool"]
    clock: Callable[[], datetime] = ctx.get("clock", now)
    async with pool.acquire() as conn:  # the row again, now that no one else is sending it
        fresh = await repo.delivery(conn, row["id"])
    if fresh is None or fresh["status"] != repo.QUEUED:
        return str(fresh["status"]) if fresh else "MISSING"
    outgoing = Outgoing(
        str(row["id"]),
        row["channel"],
        row["address"],
        row["subject"],
        row["body"],
        row["template"] or row["kind"],
        row["params"],
    )
    subscription = channel.template_id(outgoing.template) if isinstance(channel, WeChatChannel) else None
    if subscription is not None:
        async with pool.acquire() as conn:
            if not await repo.spend_subscription(conn, row["recipient_id"], subscription, clock()):
                return await _not_sent(ctx, row, "no one-time subscription left for this message")
    try:
        await channel.send(outgoing)
    except UserDeclined as exc:  # WeChat counts the refusal: the subscription is not given back
        return await _not_sent(ctx, row, str(exc))
    except Exception as exc:
        if subscription is not None:
            async with pool.acquire() as conn:
                await repo.give_back_subscription(conn, row["recipient_id"], subscription, clock())
        if isinstance(exc, Unsendable):
            return await _unsendable(ctx, row, outgoing, exc)
        return await _failed(ctx, row, fresh["attempts"], exc)
    async with pool.acquire() as conn:
        await repo.record_sent(conn, row["id"], channel.provider, clock())
    NOTIFICATIONS.labels(row["channel"], "delivered").inc()
    return repo.SENT


async def _not_sent(ctx: dict[str, Any], row: asyncpg.Record, reason: str) -> str:
    """The resident turned this channel off for this message: not an error, nothing to retry."""
    clock: Callable[[], datetime] = ctx.get("clock", now)
    async with ctx["pool"].acquire() as conn:
        await repo.record_not_sent(conn, row["id"], reason, clock())
    log.info("delivery %s on %s not sent: %s", row["id"], row["channel"], reason)
    NOTIFICATIONS.labels(row["channel"], "not_sent").inc()
    return repo.NOT_SENT


async def _unsendable(ctx: dict[str, Any], row: asyncpg.Record, outgoing: Outgoing, exc: Unsendable) -> str:
    """Trying again will not help (say, the template table changed since it was planned): a
    dead letter at once, for an operator to see."""
    clock: Callable[[], datetime] = ctx.get("clock", now)
    if isinstance(exc, NoApprovedTemplate):
        report_without_template(row["channel"], outgoing.template)
    log.warning("delivery %s on %s cannot be sent: %s", row["id"], row["channel"], exc)
    async with ctx["pool"].acquire() as conn:
        at = clock()
        await repo.record_failure(conn, row["id"], str(exc), 0, at, at)
    NOTIFICATIONS.labels(row["channel"], "dead").inc()
    return repo.DEAD


async def _failed(ctx: dict[str, Any], row: asyncpg.Record, attempts: int, exc: Exception) -> str:
    """Retried with backoff until the attempts run out, then a dead letter."""
    pool: asyncpg.Pool = ctx["pool"]
    settings: Settings = ctx["settings"]
    clock: Callable[[], datetime] = ctx.get("clock", now)
    error = (str(exc) if isinstance(exc, DeliveryFailed) else f"{type(exc).__name__}: {exc}")[:500]
    delay = backoff_s(attempts + 1, settings.notify_retry_base_s, random.random())
    at = clock()
    async with pool.acquire() as conn:
        failed = await repo.record_failure(
            conn, row["id"], error, settings.notify_max_attempts, at, at + timedelta(seconds=delay)
        )
    NOTIFICATIONS.labels(row["channel"], "failed").inc()
    if failed["status"] == repo.DEAD:
        log.warning("delivery %s on %s is a dead letter: %s", row["id"], row["channel"], error)
        NOTIFICATIONS.labels(row["channel"], "dead").inc()
        return repo.DEAD
    log.info("delivery %s failed (attempt %s), retry in %.1fs", row["id"], failed["attempts"], delay)
    raise Retry(defer=delay) from exc


# Attempts are counted in the row, not by arq: a rate-limited try is not a failed one.
DELIVERY_HANDLERS = [func(deliver, name=DELIVER, max_tries=1000, keep_result=60)]
