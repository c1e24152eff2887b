"""Notify's event handler: each event becomes its messages exactly once."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import asyncpg
from arq.worker import func

from services.common.observability import NOTIFICATIONS, correlation_id
from services.common.outbox import EVENT_HANDLER, consume_once
from services.notify import repository as repo
from services.notify.contracts import SERVICE
from services.notify.domain import Message, messages_for
from services.notify.sms import SEND_SMS, SmsRequest
from services.notify.sms import record as record_sms

log = logging.getLogger("linli.notify")


async def handle_events(ctx: dict[str, Any], events: list[dict[str, Any]]) -> int:
    """Write the inbox messages of a batch of events in one transaction; an event handled
    before (a redelivery) writes nothing. Returns how many messages were written."""
    pool: asyncpg.Pool = ctx["pool"]
    written: list[tuple[dict[str, Any], Message]] = []
    async with pool.acquire() as conn, conn.transaction():
        for event in events:
            if not await consume_once(conn, SERVICE, event["id"]):
                log.info("event %s (%s) already handled", event["id"], event["type"])
                continue
            for message in messages_for(event["type"], event["payload"]):
                await repo.insert_message(conn, uuid.UUID(event["id"]), message)
                written.append((event, message))
    for event, message in written:
        NOTIFICATIONS.labels("inbox", "delivered").inc()
        token = correlation_id.set(event.get("correlation_id"))
        log.info("inbox message %s for event %s delivered", message.kind, event["id"])
        correlation_id.reset(token)
    return len(written)


EVENT_HANDLERS = [func(handle_events, name=EVENT_HANDLER, max_tries=10)]


async def send_sms(ctx: dict[str, Any], request: SmsRequest) -> bool:
    """Deliver one text through the SMS channel (in development: record it in the outbox)."""
    pool: asyncpg.Pool = ctx["pool"]
    async with pool.acquire() as conn:
        return await record_sms(conn, ctx["job_id"], request)


# keep_result=0: the stored result would repeat the arguments, login code included.
SMS_HANDLERS = [func(send_sms, name=SEND_SMS, max_tries=5, keep_result=0)]
