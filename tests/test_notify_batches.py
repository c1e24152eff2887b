"""Notify handles a sign-up burst in batches: one statement and one Redis round trip where it
can, and still each event exactly once, the newest state of each sign-up, and arq's jobs as
arq itself would have queued them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from arq.connections import ArqRedis
from arq.constants import result_key_prefix
from arq.jobs import Job

from services.common.clock import now
from services.common.ids import new_id
from services.common.settings import Settings
from services.notify.contracts import SEND_REMINDER, SESSION_RESCHEDULED
from services.notify.handlers import handle_events, instant, reminder_job_id, send_reminder
from services.notify.jobs import QueuedJob, enqueue_jobs, job_id_in_queue_slot
from services.notify.projection import first_of_new, one_statement_signups
from tests.dates import at

NOON = at(30, "12:00")
STARTS_AT = at(39, "09:00")


def _event(event_type: str, signup_id: str | None = None, resident: str | None = None) -> dict[str, Any]:
    return {
        "id": str(new_id()),
        "type": event_type,
        "source": "activities",
        "payload": {
            "signup_id": signup_id or str(uuid.uuid4()),
            "session_id": str(uuid.uuid4()),
            "resident_id": resident or f"resident-{uuid.uuid4().hex[:8]}",
            "party_size": 1,
            "activity_title": "义诊",
            "venue": "朔方社区邻里驿家",
            "starts_at": STARTS_AT.isoformat(),
            "position": 2,
        },
    }


def _in_order(*events: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """Ids made in one millisecond sort at random: give these ids in the order told."""
    for event, event_id in zip(events, sorted(str(e["id"]) for e in events), strict=True):
        event["id"] = event_id
    return events


# --- sorting a batch (no I/O) ------------------------------------------------------------


def test_an_event_twice_in_one_batch_is_handled_at_its_first_place_only() -> None:
    a, b, c = _event("signup.confirmed"), _event("signup.confirmed"), _event("signup.confirmed")
    fresh, repeated = first_of_new([a, b, a, c], {a["id"], b["id"]})  # c was handled before
    assert fresh == [a, b]
    assert repeated == [a, c]


def test_sign_ups_no_other_event_touches_go_together_the_rest_one_by_one_in_order() -> None:
    alone, waiting = _event("signup.confirmed"), _event("signup.waitlisted")
    signup = str(uuid.uuid4())
    confirmed, cancelled = _event("signup.confirmed", signup), _event("signup.cancelled", signup)
    moved_alone = _event(SESSION_RESCHEDULED)
    shift = {
        "id": str(new_id()),
        "type": "shift.signed_up",
        "payload": {"signup_id": alone["payload"]["signup_id"]},
    }
    batch = [confirmed, alone, moved_alone, cancelled, waiting, shift]

    together, one_by_one = one_statement_signups(batch)

    assert together == [alone, waiting]  # a shift sign-up is another table's row
    assert one_by_one == [confirmed, moved_alone, cancelled, shift]


# --- against PostgreSQL and Redis --------------------------------------------------------


@pytest.fixture
def ours(settings: Settings) -> Settings:
    """A namespace no worker listens to, and a partner webhook, so every message has a delivery."""
    return settings.model_copy(
        update={
            "namespace": f"{settings.namespace}-batches-{uuid.uuid4().hex[:6]}",
            "notify_webhook_url": "http://127.0.0.1:9/hook",
        }
    )


def _ctx(pool: asyncpg.Pool, redis: ArqRedis, settings: Settings) -> dict[str, Any]:
    return {"pool": pool, "redis": redis, "settings": settings, "clock": lambda: NOON}


async def _reminders_queued(redis: ArqRedis, settings: Settings, signup_id: str) -> list[float | None]:
    queue = settings.queue("notify")
    return [
        await redis.zscore(queue, reminder_job_id(settings, signup_id, instant(STARTS_AT), lead))
        for lead in settings.notify_reminder_leads_min
    ]


async def test_an_event_relayed_twice_in_one_batch_tells_the_resident_once(
    pool: asyncpg.Pool, redis: ArqRedis, ours: Settings
) -> None:
    confirmed = _event("signup.confirmed")
    resident = confirmed["payload"]["resident_id"]

    assert await handle_events(_ctx(pool, redis, ours), [confirmed, dict(confirmed)]) == 1

    inbox = await pool.fetch("SELECT kind FROM notify.inbox WHERE recipient_id = $1", resident)
    assert [row["kind"] for row in inbox] == ["signup.confirmed"]
    assert len(await pool.fetch("SELECT 1 FROM notify.deliveries WHERE recipient_id = $1", resident)) == 1
    assert None not in await _reminders_queued(redis, ours, confirmed["payload"]["signup_id"])


async def test_a_sign_up_confirmed_then_cancelled_in_one_batch_ends_cancelled_with_both_messages(
    pool: asyncpg.Pool, redis: ArqRedis, ours: Settings
) -> None:
    signup, resident = str(uuid.uuid4()), f"resident-{uuid.uuid4().hex[:8]}"
    confirmed, cancelled = _in_order(
        _event("signup.confirmed", signup, resident), _event("signup.cancelled", signup, resident)
    )
    others = [_event("signup.confirmed"), _event("signup.waitlisted")]
    ctx = _ctx(pool, redis, ours)

    assert await handle_events(ctx, [others[0], confirmed, others[1], cancelled]) == 4

    row = await pool.fetchrow(
        "SELECT status, last_event_id FROM notify.signups WHERE signup_id = $1", uuid.UUID(signup)
    )
    assert (row["status"], str(row["last_event_id"])) == ("CANCELLED", cancelled["id"])
    inbox = await pool.fetch("SELECT kind FROM notify.inbox WHERE recipient_id = $1 ORDER BY kind", resident)
    assert [r["kind"] for r in inbox] == ["signup.cancelled", "signup.confirmed"]
    statuses = await pool.fetch(
        "SELECT status FROM notify.signups WHERE signup_id = ANY($1::uuid[]) ORDER BY status",
        [uuid.UUID(e["payload"]["signup_id"]) for e in others],
    )
    assert [r["status"] for r in statuses] == ["CONFIRMED", "WAITLISTED"]
    # As when handled one by one, the confirmation scheduled its reminders; they stay silent.
    assert None not in await _reminders_queued(redis, ours, signup)
    assert await send_reminder(ctx, signup, instant(STARTS_AT), 120) is False


async def test_a_confirmation_arriving_after_a_newer_cancellation_changes_nothing(
    pool: asyncpg.Pool, redis: ArqRedis, ours: Settings
) -> None:
    signup = str(uuid.uuid4())
    confirmed, cancelled = _in_order(_event("signup.confirmed", signup), _event("signup.cancelled", signup))
    ctx = _ctx(pool, redis, ours)
    await handle_events(ctx, [cancelled])

    assert await handle_events(ctx, [confirmed, _event("signup.confirmed")]) == 2  # late, with another

    row = await pool.fetchrow("SELECT status FROM notify.signups WHERE signup_id = $1", uuid.UUID(signup))
    assert row["status"] == "CANCELLED"
    assert await _reminders_queued(redis, ours, signup) == [None, None]  # not applied: no reminder


async def test_a_redelivered_batch_writes_nothing_twice(
    pool: asyncpg.Pool, redis: ArqRedis, ours: Settings
) -> None:
    batch = [_event("signup.confirmed" if i % 3 == 0 else "signup.waitlisted") for i in range(30)]
    residents = [e["payload"]["resident_id"] for e in batch]
    ctx = _ctx(pool, redis, ours)

    async def written() -> tuple[int, ...]:
        return (
            await pool.fetchval(
                "SELECT count(*) FROM notify.inbox WHERE recipient_id = ANY($1::text[])", residents
            ),
            await pool.fetchval(
                "SELECT count(*) FROM notify.deliveries WHERE recipient_id = ANY($1::text[])", residents
            ),
            await pool.fetchval(
                "SELECT count(*) FROM notify.processed_events WHERE event_id = ANY($1::uuid[])",
                [uuid.UUID(e["id"]) for e in batch],
            ),
            await redis.zcard(ours.queue("notify")),
        )

    assert await handle_events(ctx, batch) == 30
    first = await written()
    assert first == (30, 30, 30, 30 + 10 * 2)  # a webhook delivery each, two reminders per confirmed

    assert await handle_events(ctx, batch) == 0
    assert await written() == first
    late = _event("signup.waitlisted")
    assert await handle_events(ctx, [*batch[:5], late]) == 1  # only the new one is written
    inbox, deliveries, processed, queued = first
    assert await written() == (inbox, deliveries, processed, queued + 1)  # its webhook delivery


async def test_jobs_queued_in_one_round_trip_are_what_arq_would_have_queued(
    redis: ArqRedis, ours: Settings
) -> None:
    queue = ours.queue("notify")
    later = at(30, "08:00")
    by_arq, done = job_id_in_queue_slot(queue, "by-arq"), job_id_in_queue_slot(queue, "done")
    await redis.enqueue_job(SEND_REMINDER, "x", _job_id=by_arq, _queue_name=queue)
    await redis.set(result_key_prefix + done, b"finished", px=60_000)
    new, deferred = job_id_in_queue_slot(queue, "new"), job_id_in_queue_slot(queue, "deferred")
    elsewhere = ours.queue("volunteers")  # another queue, another slot: a run of its own
    other = job_id_in_queue_slot(elsewhere, "other")

    added = await enqueue_jobs(
        redis,
        [
            QueuedJob(SEND_REMINDER, ("a", "b", 120, "session"), new, queue),
            QueuedJob(SEND_REMINDER, ("o",), other, elsewhere),
            QueuedJob(SEND_REMINDER, ("y",), by_arq, queue),  # queued already
            QueuedJob(SEND_REMINDER, ("z",), done, queue),  # has its result
            QueuedJob(SEND_REMINDER, ("c",), deferred, queue, later),
            QueuedJob(SEND_REMINDER, ("d",), deferred, queue, later + timedelta(days=1)),  # same id again
        ],
    )

    assert added == [True, True, False, False, True, False]
    assert await redis.zscore(elsewhere, other) is not None
    info = await Job(new, redis, _queue_name=queue).info()
    assert info is not None and (info.function, info.args, info.job_try) == (
        SEND_REMINDER,
        ("a", "b", 120, "session"),
        None,
    )
    assert await redis.zscore(queue, deferred) == int(later.timestamp() * 1000)
    until_due_ms = (later - now()).total_seconds() * 1000
    expires_ms = until_due_ms + redis.expires_extra_ms  # as arq: a day after the job is due
    assert abs(await redis.pttl(f"arq:job:{deferred}") - expires_ms) < 1000
    assert await redis.zscore(queue, done) is None
    assert await redis.enqueue_job(SEND_REMINDER, "again", _job_id=new, _queue_name=queue) is None
