"""One arq worker per service: its resources live in ``ctx``, its outbox relay runs beside it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from arq.worker import Function, Worker
from prometheus_client import start_http_server

from services.common.clock import now
from services.common.db import create_pool
from services.common.observability import JOB_WAIT
from services.common.outbox import run_relay
from services.common.queue import redis_settings
from services.common.settings import Settings


@dataclass(frozen=True)
class ServiceWorker:
    """What a service's worker runs: its job functions and where its events go."""

    name: str
    functions: Sequence[Function]
    # consumer service -> event types it takes from this service's outbox
    routes: Mapping[str, Sequence[str]] = field(default_factory=dict)


def build_worker(service: ServiceWorker, settings: Settings, **overrides: Any) -> Worker:
    assert settings.database_url and settings.redis_url, "servers must be resolved first"
    database_url = settings.database_url

    queue_name = settings.queue(service.name)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = settings
        ctx["queue_name"] = queue_name
        if settings.metrics_port:
            start_http_server(settings.metrics_port, addr=settings.host)
        ctx["pool"] = await create_pool(database_url, settings.db_pool_min, settings.db_pool_max)
        if service.routes:
            ctx["relay"] = asyncio.create_task(
                run_relay(ctx["pool"], ctx["redis"], settings, service.name, service.routes),
                name=f"{service.name}-outbox-relay",
            )

    async def shutdown(ctx: dict[str, Any]) -> None:
        relay = ctx.get("relay")
        if relay is not None:
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay
        if "pool" in ctx:
            await ctx["pool"].close()

    async def job_start(ctx: dict[str, Any]) -> None:
        JOB_WAIT.labels(queue_name).observe((now() - ctx["enqueue_time"]).total_seconds())

    options: dict[str, Any] = {
        "functions": list(service.functions),
        "queue_name": queue_name,
        "redis_settings": redis_settings(settings.redis_url),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "on_job_start": job_start,
        "max_jobs": settings.worker_max_jobs,
        "poll_delay": 0.05,
        "keep_result": 3600,
        "job_completion_wait": 10,
    }
    options.update(overrides)
    return Worker(**options)
