"""Live seat counts: after each committed change to a session's seats or waitlist, publish its
fresh counts on the session's Redis channel, where the gateway's ``sessionCounts``
subscriptions listen.

Fed by the activities outbox (the relay routes the events below back to this service), so a
count goes out only after its change committed, whichever handler made it, and one relay
batch of a registration burst costs one read and one publish per session. Counts are read
fresh when published and stamped with the time they were read, so a subscriber can drop a
message overtaken by a newer one (two jobs may publish in either order).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
from arq.worker import func

from services.activities import attendance, contracts
from services.common.outbox import EVENT_HANDLER
from services.common.settings import Settings

# Every event that moves seats, capacity or the waitlist of a session (a move may change the
# capacity with the venue).
EVENTS: tuple[str, ...] = (
    contracts.SIGNUP_CONFIRMED,
    contracts.SIGNUP_WAITLISTED,
    contracts.SIGNUP_CANCELLED,
    contracts.WAITLIST_PROMOTED,
    contracts.SESSION_CANCELLED,
    "session.rescheduled",
    "session.capacity_changed",
    contracts.SIGNUP_PARTY_REDUCED,
)


def counts_message(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "session_id": str(row["id"]),
        "capacity": row["capacity"],
        "taken": row["taken"],
        "waitlist_length": row["waitlist_length"],
        "status": row["status"],
        "as_of": row["as_of"].isoformat(),
    }


async def publish_counts(ctx: dict[str, Any], events: list[dict[str, Any]]) -> int:
    """Publish the current counts of every session these events touched; how many sessions."""
    settings: Settings = ctx["settings"]
    pool: asyncpg.Pool = ctx["pool"]
    session_ids = {
        uuid.UUID(event["payload"]["session_id"])
        for event in events
        if event["type"] in EVENTS and "session_id" in event["payload"]
    }
    if not session_ids:
        return 0
    async with pool.acquire() as conn:
        rows = await attendance.seat_counts(conn, sorted(session_ids))
    pipe = ctx["redis"].pipeline(transaction=False)
    for row in rows:
        channel = contracts.counts_channel(settings.namespace, str(row["id"]))
        pipe.publish(channel, json.dumps(counts_message(row)))
    await pipe.execute()
    return len(rows)


LIVE_COUNT_JOBS = [func(publish_counts, name=EVENT_HANDLER, max_tries=3)]
