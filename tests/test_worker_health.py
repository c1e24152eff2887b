"""A worker answers the Kubernetes probes and Prometheus on its metrics port: alive while its
loop runs, ready only while PostgreSQL, Redis and its own loops are."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from services.common.settings import Settings
from services.common.worker import ServiceProcess, build_worker
from services.volunteers.worker import VOLUNTEERS_WORKER
from tests.test_launcher import free_port


@pytest.fixture
async def probed(settings: Settings) -> AsyncIterator[tuple[ServiceProcess, str]]:
    port = free_port()
    mine = settings.model_copy(update={"namespace": f"{settings.namespace}-health", "metrics_port": port})
    worker = build_worker(VOLUNTEERS_WORKER, mine)
    running = asyncio.create_task(worker.async_run())
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=5) as http:
        for _ in range(100):
            try:
                await http.get("/healthz")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    yield worker, base
    await worker.close()
    await running


async def test_a_running_worker_is_alive_ready_and_measured(probed: tuple[ServiceProcess, str]) -> None:
    _, base = probed
    async with httpx.AsyncClient(base_url=base, timeout=5) as http:
        alive = await http.get("/healthz")
        ready = await http.get("/readyz")
        metrics = await http.get("/metrics")
        unknown = await http.get("/admin")
    assert alive.status_code == 200
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "problems": []})
    assert metrics.status_code == 200 and "linli_" in metrics.text
    assert unknown.status_code == 404


async def test_a_worker_that_lost_postgresql_is_alive_but_not_ready(
    probed: tuple[ServiceProcess, str],
) -> None:
    worker, base = probed
    worker.ctx["pool"].terminate()  # as if the database went away under it
    async with httpx.AsyncClient(base_url=base, timeout=5) as http:
        alive = await http.get("/healthz")
        ready = await http.get("/readyz")
    assert alive.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["status"] == "not ready"
    assert [p for p in ready.json()["problems"] if p.startswith("PostgreSQL")]
