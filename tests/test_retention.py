"""Retention: relayed events, consumed-event ids, finished deliveries, texts, inbox messages and
audit details are pruned once they are past their periods (the privacy notice's); what is still
needed (an unsent event, a queued delivery, what an audit row says was done) never is.

Each story runs in a transaction rolled back at its end, so pruning the shared test database
takes nothing from the tests running beside it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from services.activities.worker import ACTIVITIES_WORKER
from services.common.clock import now
from services.common.retention import PRUNE_BATCH, prune_event_plumbing
from services.common.settings import Settings
from services.identity import upkeep
from services.identity.upkeep import prune_audit_details
from services.notify.contracts import CONSUMES as NOTIFY_CONSUMES
from services.notify.repository import prune_deliveries, prune_inbox, prune_sms_outbox
from services.notify.worker import NOTIFY_WORKER
from services.volunteers.worker import VOLUNTEERS_WORKER


class Rollback(Exception):
    pass


@pytest.fixture
async def conn(pool: Any) -> AsyncIterator[Any]:
    async with pool.acquire() as connection:
        try:
            async with connection.transaction():
                yield connection
                raise Rollback
        except Rollback:
            pass


async def an_event(conn: Any, schema: str, sent_days_ago: int | None) -> uuid.UUID:
    event_id = uuid.uuid4()
    at = now()
    sent = None if sent_days_ago is None else at - timedelta(days=sent_days_ago)
    await conn.execute(
        f"INSERT INTO {schema}.outbox (id, type, payload, created_at, sent_at) "
        "VALUES ($1, 'test', '{}', $2, $3)",
        event_id,
        sent or at - timedelta(days=60),
        sent,
    )
    return event_id


async def a_consumed_event(conn: Any, schema: str, days_ago: int) -> uuid.UUID:
    event_id = uuid.uuid4()
    await conn.execute(
        f"INSERT INTO {schema}.processed_events (event_id, processed_at) VALUES ($1, $2)",
        event_id,
        now() - timedelta(days=days_ago),
    )
    return event_id


async def still_there(conn: Any, table: str, key: str, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = await conn.fetch(f"SELECT {key} FROM {table} WHERE {key} = ANY($1::uuid[])", ids)
    return {row[key] for row in rows}


@pytest.mark.parametrize("schema", ["activities", "volunteers", "notify", "identity"])
async def test_old_relayed_events_and_consumed_ids_go_while_unsent_and_recent_ones_stay(
    conn: Any, settings: Settings, schema: str
) -> None:
    old_sent, recent_sent = await an_event(conn, schema, 8), await an_event(conn, schema, 6)
    old_unsent = await an_event(conn, schema, None)  # written 60 days ago and never relayed
    old_consumed, recent_consumed = (
        await a_consumed_event(conn, schema, 31),
        await a_consumed_event(conn, schema, 29),
    )

    assert await prune_event_plumbing(conn, schema, settings, now()) >= 2

    events = [old_sent, recent_sent, old_unsent]
    assert await still_there(conn, f"{schema}.outbox", "id", events) == {recent_sent, old_unsent}
    consumed = [old_consumed, recent_consumed]
    assert await still_there(conn, f"{schema}.processed_events", "event_id", consumed) == {recent_consumed}


async def test_many_old_rows_go_in_batches_until_none_is_left(conn: Any, settings: Settings) -> None:
    ids = [uuid.uuid4() for _ in range(PRUNE_BATCH + 7)]
    await conn.executemany(
        "INSERT INTO volunteers.processed_events (event_id, processed_at) VALUES ($1, $2)",
        [(event_id, now() - timedelta(days=45)) for event_id in ids],
    )
    assert await prune_event_plumbing(conn, "volunteers", settings, now()) >= len(ids)
    assert await still_there(conn, "volunteers.processed_events", "event_id", ids) == set()


async def test_finished_deliveries_go_after_their_period_and_queued_ones_never(
    conn: Any, settings: Settings
) -> None:
    ages = {"SENT": (91, 89), "DEAD": (91, 89), "NOT_SENT": (91, 89), "QUEUED": (200,)}
    made: dict[tuple[str, int], uuid.UUID] = {}
    for status, days in ages.items():
        for age in days:
            made[status, age] = uuid.uuid4()
            await conn.execute(
                """
                INSERT INTO notify.deliveries (id, channel, recipient_id, address, kind, subject, body,
                                               urgent, status, not_before, created_at, updated_at)
                VALUES ($1, 'sms', 'resident-x', '138****0000', 'signup.confirmed', '报名成功', '您已报名',
                        false, $2, $3, $3, $3)
                """,
                made[status, age],
                status,
                now() - timedelta(days=age),
            )

    assert await prune_deliveries(conn, settings, now()) >= 3

    left = await still_there(conn, "notify.deliveries", "id", list(made.values()))
    assert left == {made["SENT", 89], made["DEAD", 89], made["NOT_SENT", 89], made["QUEUED", 200]}


def test_every_worker_prunes_its_own_schema_every_hour() -> None:
    for worker in (ACTIVITIES_WORKER, VOLUNTEERS_WORKER, NOTIFY_WORKER):
        (prune,) = [job for job in worker.cron_jobs if job.name == f"prune-{worker.name}"]
        assert prune.minute is not None and prune.hour is None  # once in every hour


async def test_texts_and_inbox_messages_go_after_their_periods(conn: Any, settings: Settings) -> None:
    texts = {}
    for age in (31, 29):
        texts[age] = uuid.uuid4()
        await conn.execute(
            "INSERT INTO notify.sms_outbox (id, job_id, phone, template, body, created_at) "
            "VALUES ($1, $2, '13800000000', 'login_code', '您的验证码是123456', $3)",
            texts[age],
            uuid.uuid4().hex,
            now() - timedelta(days=age),
        )
    messages = {}
    for age in (181, 179):
        messages[age] = uuid.uuid4()
        await conn.execute(
            "INSERT INTO notify.inbox (id, recipient_id, kind, title_zh, body_zh, title_en, body_en, "
            "event_id, created_at) VALUES ($1, 'resident-x', 'signup.confirmed', '报名成功', '您已报名', "
            "'Signed up', 'You are signed up', $2, $3)",
            messages[age],
            uuid.uuid4(),
            now() - timedelta(days=age),
        )

    assert await prune_sms_outbox(conn, settings, now()) >= 1
    assert await prune_inbox(conn, settings, now()) >= 1

    assert await still_there(conn, "notify.sms_outbox", "id", list(texts.values())) == {texts[29]}
    assert await still_there(conn, "notify.inbox", "id", list(messages.values())) == {messages[179]}


async def test_old_audit_rows_keep_what_was_done_but_lose_their_details_and_address(
    conn: Any, settings: Settings
) -> None:
    rows = {}
    for age in (181, 179):
        rows[age] = uuid.uuid4()
        await conn.execute(
            "INSERT INTO identity.audit_log (id, at, action, actor_id, subject, client_ip, details) "
            "VALUES ($1, $2, 'resident.found_by_proxy', 'grid-1', 'resident-x', '203.0.113.9', $3)",
            rows[age],
            now() - timedelta(days=age),
            {"phone": "138****0000", "community": "lingwu-shuofang"},
        )

    assert await prune_audit_details(conn, settings, now()) >= 1

    ids = list(rows.values())
    found = await conn.fetch("SELECT * FROM identity.audit_log WHERE id = ANY($1::uuid[])", ids)
    kept = {r["id"]: r for r in found}
    old, recent = kept[rows[181]], kept[rows[179]]
    assert (old["action"], old["actor_id"]) == ("resident.found_by_proxy", "grid-1")
    assert old["subject"] == "resident-x"
    assert old["details"] == {} and old["client_ip"] is None
    assert recent["details"]["phone"] == "138****0000" and recent["client_ip"] == "203.0.113.9"


def test_the_gateway_prunes_identity_every_hour_and_relays_its_events_to_notify() -> None:
    assert upkeep.PRUNE_EVERY_S == 3600
    assert set(upkeep.ROUTES["notify"]) <= set(NOTIFY_CONSUMES)
