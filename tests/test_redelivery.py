"""Events Redis lost after the relay marked them sent (a failover to a replica that had not caught
up, a kill -9) are sent again once their consumer shows no record of them, and only then.

The events are written in a transaction rolled back at the end, as if relayed minutes ago; the
real notify worker of the run handles what is sent again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from arq.connections import ArqRedis

from services.activities.worker import ACTIVITIES_WORKER
from services.common.clock import now
from services.common.redelivery import resend_unconsumed
from services.common.settings import Settings
from tests.conftest import eventually
from tests.dates import FESTIVAL_DAY, at_iso


class Rollback(Exception):
    pass


@pytest.fixture
async def conn(pool: Any, workers: None) -> AsyncIterator[Any]:
    async with pool.acquire() as connection:
        try:
            async with connection.transaction():
                yield connection
                raise Rollback
        except Rollback:
            pass


async def relayed(conn: Any, resident: str, minutes_ago: float, resends: int = 0) -> uuid.UUID:
    """A sign-up's confirmation the relay handed to Redis ``minutes_ago``."""
    event_id = uuid.uuid4()
    payload = {
        "signup_id": str(uuid.uuid4()),
        "session_id": str(uuid.uuid4()),
        "resident_id": resident,
        "party_size": 1,
        "activity_title": "义诊",
        "venue": "朔方社区邻里驿家",
        "starts_at": at_iso(FESTIVAL_DAY, "09:00"),
    }
    sent = now() - timedelta(minutes=minutes_ago)
    await conn.execute(
        "INSERT INTO activities.outbox (id, type, payload, created_at, sent_at, resends) "
        "VALUES ($1, 'signup.confirmed', $2, $3, $3, $4)",
        event_id,
        payload,
        sent,
        resends,
    )
    return event_id


async def row(conn: Any, event_id: uuid.UUID) -> Any:
    return await conn.fetchrow(
        "SELECT sent_at, checked_at, resends FROM activities.outbox WHERE id = $1", event_id
    )


async def inbox_of(pool: Any, resident: str) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM notify.inbox WHERE recipient_id = $1", resident)
    return count


async def check(conn: Any, redis: ArqRedis, settings: Settings, at: Any = None) -> Any:
    routes = ACTIVITIES_WORKER.routes
    return await resend_unconsumed(conn, redis, settings, "activities", routes, ["notify"], at)


async def test_an_event_redis_lost_is_sent_again_and_reaches_the_resident_once(
    conn: Any, pool: Any, redis: ArqRedis, settings: Settings
) -> None:
    lost_for, handled_for, recent_for = (f"resident-{uuid.uuid4().hex[:8]}" for _ in range(3))
    lost = await relayed(conn, lost_for, minutes_ago=10)  # its job vanished with the old master
    handled = await relayed(conn, handled_for, minutes_ago=10)
    await conn.execute("INSERT INTO notify.processed_events (event_id) VALUES ($1)", handled)
    recent = await relayed(conn, recent_for, minutes_ago=0.5)  # its job may well be queued still
    recent_before = await row(conn, recent)
    at = now()

    await check(conn, redis, settings, at)

    assert (await row(conn, lost))["resends"] == 1 and (await row(conn, lost))["sent_at"] == at
    assert (await row(conn, handled))["checked_at"] == at
    assert await row(conn, recent) == recent_before  # not due yet: untouched
    assert await eventually(lambda: inbox_of(pool, lost_for), within_s=20) == 1
    assert await inbox_of(pool, handled_for) == 0  # notify had it: nothing sent again

    # Checked again once due: notify now records it, so it is settled and never sent again.
    later = at + timedelta(seconds=2 * settings.outbox_resend_after_s)
    await check(conn, redis, settings, later)
    assert (await row(conn, lost))["checked_at"] == later and (await row(conn, lost))["resends"] == 1
    assert await inbox_of(pool, lost_for) == 1


async def test_the_wait_doubles_and_an_event_still_missing_after_the_last_try_is_given_up(
    conn: Any, redis: ArqRedis, settings: Settings
) -> None:
    resident = f"resident-{uuid.uuid4().hex[:8]}"
    after = settings.outbox_resend_after_s
    # Sent once more already, a period ago: the next try waits two periods.
    once = await relayed(conn, resident, minutes_ago=after * 1.5 / 60, resends=1)
    last = await relayed(conn, resident, minutes_ago=600, resends=settings.outbox_resends)
    once_before = await row(conn, once)
    at = now()

    checked = await check(conn, redis, settings, at)

    assert checked.given_up >= 1
    assert await row(conn, once) == once_before  # due at two periods, not one and a half
    assert (await row(conn, last))["checked_at"] == at
    assert (await row(conn, last))["resends"] == settings.outbox_resends
