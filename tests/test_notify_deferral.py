"""Notifications out of the burst: while residents sign up by the hundred, confirmations wait
and a session called off does not; what waited is delivered once the burst is over, once
each, even across a restart of the worker."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from arq.connections import ArqRedis

from services.common.commands import stream_key
from services.common.db import create_pool, drop_database, ensure_database
from services.common.ids import new_id
from services.common.migrations import migrate
from services.common.outbox import EVENT_HANDLER
from services.common.settings import Settings
from services.common.worker import ServiceProcess, build_worker
from services.notify.backlog import WATCHED, BacklogWatch
from services.notify.contracts import CONSUMES
from services.notify.deferral import (
    DEFERRABLE,
    REMINDER_DUE,
    URGENT,
    Backlog,
    Bounds,
    deferred_now,
    drain_due,
    observed,
    split,
    subject,
)
from services.notify.handlers import handle_deferred, handle_events, instant, send_reminder
from services.notify.worker import NOTIFY_WORKER
from tests.conftest import RUN_ID, eventually
from tests.dates import at

STARTS_AT = at(39, "09:00")
BOUNDS = Bounds(busy_backlog=10, busy_rate_per_s=20, settle_s=3, max_defer_s=120)
T0 = at(30, "12:00")


def _s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


# --- the policy (no I/O) -----------------------------------------------------------------


def test_every_event_notify_takes_in_is_either_urgent_or_may_wait_never_both() -> None:
    assert URGENT | DEFERRABLE == {*CONSUMES, REMINDER_DUE}
    assert not URGENT & DEFERRABLE
    assert {"session.cancelled", "session.rescheduled"} <= URGENT
    assert {"signup.confirmed", "signup.waitlisted", "waitlist.promoted"} <= DEFERRABLE


def test_a_confirmation_waits_in_a_burst_a_called_off_session_never_does() -> None:
    burst = observed(None, 50, 0, T0, BOUNDS)
    calm = observed(None, 3, 0, T0, BOUNDS)
    assert deferred_now("signup.confirmed", burst, BOUNDS)
    assert not deferred_now("session.cancelled", burst, BOUNDS)
    assert not deferred_now("session.rescheduled", burst, BOUNDS)
    assert not deferred_now("signup.confirmed", calm, BOUNDS)
    assert not deferred_now("signup.confirmed", burst, Bounds(0, 0, 3, 120))  # turned off


def test_commands_arriving_fast_are_a_burst_even_when_few_wait() -> None:
    first = observed(None, 0, 1000, T0, BOUNDS)
    fast = observed(first, 2, 1100, T0 + _s(1), BOUNDS)  # 100 a second, answered as they come
    slow = observed(fast, 0, 1105, T0 + _s(2), BOUNDS)
    started_over = observed(slow, 0, 3, T0 + _s(3), BOUNDS)  # the stream was made again

    assert first.rate_per_s == 0 and not first.busy(BOUNDS)  # nothing to compare with yet
    assert fast.rate_per_s == 100 and fast.busy(BOUNDS)
    assert slow.rate_per_s == 5 and slow.quiet_since == T0 + _s(2)
    assert started_over.rate_per_s == 0 and started_over.quiet_since == T0 + _s(2)
    assert not fast.busy(Bounds(10, 0, 3, 120))  # the rate turned off


def test_a_batch_is_split_in_order_and_without_a_backlog_nothing_waits() -> None:
    confirmed, cancelled, waitlisted = (
        _event("signup.confirmed"),
        _event("session.cancelled"),
        _event("signup.waitlisted"),
    )
    burst = observed(None, 10, 0, T0, BOUNDS)
    assert split([confirmed, cancelled, waitlisted], burst, BOUNDS) == ([confirmed, waitlisted], [cancelled])
    assert split([confirmed, cancelled], None, BOUNDS) == ([], [confirmed, cancelled])


def test_the_burst_is_over_once_the_backlog_stayed_low_for_the_settle_time() -> None:
    busy = observed(None, 40, 0, T0, BOUNDS)
    dipped = observed(busy, 2, 0, T0 + _s(1), BOUNDS)
    busy_again = observed(dipped, 40, 0, T0 + _s(2), BOUNDS)
    low = observed(busy_again, 0, 0, T0 + _s(3), BOUNDS)
    still_low = observed(low, 1, 0, T0 + _s(5), BOUNDS)
    settled = observed(still_low, 0, 0, T0 + _s(6), BOUNDS)
    oldest = T0

    assert busy.quiet_since is None
    assert not drain_due(dipped, oldest, BOUNDS)
    assert busy_again.quiet_since is None  # a dip between two batches does not end the burst
    assert low.quiet_since == still_low.quiet_since == T0 + _s(3)
    assert not drain_due(still_low, oldest, BOUNDS)
    assert drain_due(settled, oldest, BOUNDS)
    assert not drain_due(settled, None, BOUNDS)  # nothing waits


def test_no_event_waits_longer_than_the_longest_wait_whatever_the_backlog() -> None:
    backlog = Backlog(500, 0, T0 + _s(119), None)
    assert not drain_due(backlog, T0, BOUNDS)
    assert drain_due(Backlog(500, 0, T0 + _s(120), None), T0, BOUNDS)


def test_messages_about_a_session_or_shift_share_its_subject() -> None:
    assert subject({"session_id": "s-1", "signup_id": "x"}) == "s-1"
    assert subject({"shift_id": "f-1"}) == "f-1"
    assert subject({"wish_id": "w-1"}) is None


# --- against PostgreSQL and Redis --------------------------------------------------------


def _event(event_type: str, session_id: str | None = None, resident: str | None = None) -> dict[str, Any]:
    payload = {
        "signup_id": str(uuid.uuid4()),
        "session_id": session_id or str(uuid.uuid4()),
        "resident_id": resident or f"resident-{uuid.uuid4().hex[:8]}",
        "party_size": 1,
        "activity_title": "义诊",
        "venue": "朔方社区邻里驿家",
        "starts_at": STARTS_AT.isoformat(),
        "position": 2,
    }
    if event_type == "session.cancelled":
        payload["reason"] = "场地维修"
    return {"id": str(new_id()), "type": event_type, "source": "activities", "payload": payload}


@pytest.fixture(scope="module")
async def deferring(settings: Settings) -> AsyncIterator[Settings]:
    """A database and a namespace of their own, so no other notify worker drains what these
    tests put off, and small bounds."""
    assert settings.database_url
    database = f"linli_test_{RUN_ID}_defer"
    database_url = await ensure_database(settings.database_url, database)
    await migrate(database_url)
    yield settings.model_copy(
        update={
            "database_url": database_url,
            "namespace": f"{settings.namespace}-defer",
            "notify_defer_busy_backlog": 5,
            "notify_defer_busy_rate_per_s": 0.0,  # the tests make bursts of waiting commands
            "notify_defer_settle_s": 0.2,
            "notify_defer_max_s": 600.0,
            "notify_defer_tick_s": 0.1,
            "notify_backlog_cache_s": 0.0,
        }
    )
    await drop_database(settings.database_url, database)


@pytest.fixture
async def db(deferring: Settings) -> AsyncIterator[asyncpg.Pool]:
    assert deferring.database_url
    pool = await create_pool(deferring.database_url, 1, 5)
    yield pool
    await pool.close()


async def _burst(redis: ArqRedis, settings: Settings, commands: int = 20) -> None:
    """Residents' commands waiting on the activities stream (nobody reads this namespace's)."""
    for _ in range(commands):
        await redis.xadd(stream_key(settings, "activities"), {"c": b"{}"})


async def _burst_over(redis: ArqRedis, settings: Settings) -> None:
    await redis.delete(*(stream_key(settings, service) for service in WATCHED))


async def _inbox(pool: asyncpg.Pool, *residents: str) -> list[tuple[str, str]]:
    rows = await pool.fetch(
        "SELECT recipient_id, kind FROM notify.inbox WHERE recipient_id = ANY($1::text[]) ORDER BY id",
        list(residents),
    )
    return [(row["recipient_id"], row["kind"]) for row in rows]


async def _waiting(pool: asyncpg.Pool, events: list[dict[str, Any]]) -> int:
    found: int = await pool.fetchval(
        "SELECT count(*) FROM notify.deferred_events WHERE event_id = ANY($1::uuid[])",
        [uuid.UUID(e["id"]) for e in events],
    )
    return found


def _ctx(pool: asyncpg.Pool, redis: ArqRedis, settings: Settings) -> dict[str, Any]:
    return {"pool": pool, "redis": redis, "settings": settings}


async def test_the_backlog_is_what_waits_on_the_activities_and_volunteers_streams(
    redis: ArqRedis, deferring: Settings
) -> None:
    watch = BacklogWatch(redis, deferring)
    assert not (await watch.current()).busy(watch.bounds)  # no stream made yet
    await _burst(redis, deferring, 3)
    await redis.xadd(stream_key(deferring, "volunteers"), {"c": b"{}"})
    await redis.xadd(stream_key(deferring, "volunteers"), {"c": b"{}"})
    try:
        seen = await watch.current()
        assert seen.commands == 5
        assert seen.busy(watch.bounds)
    finally:
        await _burst_over(redis, deferring)
    assert (await watch.current()).quiet_since is not None


async def test_commands_answered_as_fast_as_they_come_still_make_a_burst(
    redis: ArqRedis, deferring: Settings
) -> None:
    watch = BacklogWatch(redis, deferring.model_copy(update={"notify_defer_busy_rate_per_s": 20.0}))
    stream = stream_key(deferring, "activities")
    await redis.xadd(stream, {"c": b"{}"})
    try:
        await watch.current()
        for _ in range(50):  # answered at once: the stream stays short
            await redis.xdel(stream, await redis.xadd(stream, {"c": b"{}"}))
        seen = await watch.current()
        assert seen.commands == 1
        assert seen.busy(watch.bounds)  # 50 within a moment is well over 20 a second
    finally:
        await _burst_over(redis, deferring)


async def test_in_a_burst_a_called_off_session_is_told_at_once_and_confirmations_wait(
    db: asyncpg.Pool, redis: ArqRedis, deferring: Settings
) -> None:
    ctx = _ctx(db, redis, deferring)
    confirmed, waitlisted = _event("signup.confirmed"), _event("signup.waitlisted")
    # A resident confirmed for a session that is then called off, in the same burst.
    session = str(uuid.uuid4())
    theirs = _event("signup.confirmed", session)
    called_off = _event("session.cancelled", session, theirs["payload"]["resident_id"])
    await _burst(redis, deferring)
    try:
        assert await handle_events(ctx, [confirmed, waitlisted, theirs]) == 0
        assert await _waiting(db, [confirmed, waitlisted, theirs]) == 3

        assert await handle_events(ctx, [called_off]) == 2  # at once, and what it makes sense of first

        resident = theirs["payload"]["resident_id"]
        assert await _inbox(db, resident) == [(resident, "signup.confirmed"), (resident, "session.cancelled")]
        assert await _waiting(db, [confirmed, waitlisted]) == 2
        assert await _inbox(db, confirmed["payload"]["resident_id"]) == []
        assert await handle_events(ctx, [called_off, theirs]) == 0  # redelivered: nothing twice
    finally:
        await _burst_over(redis, deferring)
    assert await handle_deferred(ctx) >= 2
    for event in (confirmed, waitlisted):
        resident = event["payload"]["resident_id"]
        assert await _inbox(db, resident) == [(resident, event["type"])]


async def test_a_reminder_falling_due_in_a_burst_waits_for_its_end_and_is_sent_once(
    db: asyncpg.Pool, redis: ArqRedis, deferring: Settings
) -> None:
    ctx = _ctx(db, redis, deferring)
    confirmed = _event("signup.confirmed")
    signup, resident = confirmed["payload"]["signup_id"], confirmed["payload"]["resident_id"]
    assert await handle_events(ctx, [confirmed]) == 1  # no burst yet: told at once
    await _burst(redis, deferring)
    try:
        assert not await send_reminder(ctx, signup, instant(STARTS_AT), 120)
        assert not await send_reminder(ctx, signup, instant(STARTS_AT), 120)  # arq ran it twice
        assert await _inbox(db, resident) == [(resident, "signup.confirmed")]
    finally:
        await _burst_over(redis, deferring)
    await handle_deferred(ctx)
    assert await _inbox(db, resident) == [(resident, "signup.confirmed"), (resident, "signup.reminder")]


async def _running(settings: Settings) -> tuple[ServiceProcess, asyncio.Task[None]]:
    worker = build_worker(NOTIFY_WORKER, settings)
    return worker, asyncio.create_task(worker.async_run())


async def _stopped(worker: ServiceProcess, task: asyncio.Task[None]) -> None:
    await worker.close()
    await task


async def _relayed(redis: ArqRedis, settings: Settings, events: list[dict[str, Any]]) -> None:
    """As the producers' relays hand notify a batch of events."""
    await redis.enqueue_job(EVENT_HANDLER, events, _queue_name=settings.queue("notify"))


async def test_confirmations_put_off_in_a_burst_are_delivered_once_it_is_over(
    db: asyncpg.Pool, redis: ArqRedis, deferring: Settings
) -> None:
    events = [_event("signup.confirmed") for _ in range(30)]
    residents = [e["payload"]["resident_id"] for e in events]
    await _burst(redis, deferring)
    worker, task = await _running(deferring)
    try:
        await _relayed(redis, deferring, events)
        assert await eventually(lambda: _put_off(db, events), within_s=30)
        assert await _inbox(db, *residents) == []  # the burst goes on: they wait

        await _burst_over(redis, deferring)
        assert await eventually(lambda: _all_told(db, residents), within_s=30)
        assert await _waiting(db, events) == 0
    finally:
        await _burst_over(redis, deferring)
        await _stopped(worker, task)


async def _put_off(pool: asyncpg.Pool, events: list[dict[str, Any]]) -> bool:
    return await _waiting(pool, events) == len(events)


async def _all_told(pool: asyncpg.Pool, residents: list[str]) -> bool:
    return len(await _inbox(pool, *residents)) == len(residents)


async def test_a_restart_while_confirmations_wait_loses_none_and_doubles_none(
    db: asyncpg.Pool, redis: ArqRedis, deferring: Settings
) -> None:
    events = [_event("signup.confirmed") for _ in range(12)]
    residents = [e["payload"]["resident_id"] for e in events]
    await _burst(redis, deferring)
    worker, task = await _running(deferring)
    try:
        await _relayed(redis, deferring, events)
        assert await eventually(lambda: _put_off(db, events), within_s=30)
    finally:
        await _stopped(worker, task)  # the worker goes away with the confirmations still waiting

    await _burst_over(redis, deferring)
    worker, task = await _running(deferring)  # another one takes over
    try:
        assert await eventually(lambda: _all_told(db, residents), within_s=30)
        await _relayed(redis, deferring, events[:4])  # redelivered: nobody hears twice
        await eventually(lambda: _queue_empty(redis, deferring), within_s=30)
    finally:
        await _stopped(worker, task)
    assert sorted(await _inbox(db, *residents)) == sorted((r, "signup.confirmed") for r in residents)


async def _queue_empty(redis: ArqRedis, settings: Settings) -> bool:
    """No job due now left (reminders wait for their day)."""
    due = await redis.zcount(settings.queue("notify"), "-inf", int(time.time() * 1000))
    return due == 0


async def test_a_burst_that_never_ends_still_delivers_after_the_longest_wait(
    db: asyncpg.Pool, redis: ArqRedis, deferring: Settings
) -> None:
    impatient = deferring.model_copy(update={"notify_defer_max_s": 0.5})
    events = [_event("waitlist.promoted") for _ in range(5)]
    residents = [e["payload"]["resident_id"] for e in events]
    await _burst(redis, impatient)
    worker, task = await _running(impatient)
    try:
        await _relayed(redis, impatient, events)
        assert await eventually(lambda: _all_told(db, residents), within_s=30)  # the burst goes on
    finally:
        await _burst_over(redis, impatient)
        await _stopped(worker, task)
