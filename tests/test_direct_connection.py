"""Behind a pooler in transaction mode (PgBouncer), a LISTEN would be lost with its session: the
outbox relay listens on a connection of its own to DATABASE_DIRECT_URL, outside the pool."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from services.common.settings import Settings
from services.common.worker import build_worker
from services.volunteers.worker import VOLUNTEERS_WORKER
from tests.conftest import eventually


async def test_the_relay_listens_on_the_direct_url_not_through_the_pool(
    settings: Settings, pool: Any
) -> None:
    marker = f"linli-direct-{uuid.uuid4().hex[:8]}"
    assert settings.database_url
    url = urlsplit(settings.database_url)  # the embedded server's URL has a query already (its socket)
    direct = urlunsplit(url._replace(query="&".join(filter(None, [url.query, f"application_name={marker}"]))))
    mine = settings.model_copy(
        update={"namespace": f"{settings.namespace}-direct", "database_direct_url": direct}
    )
    worker = build_worker(VOLUNTEERS_WORKER, mine)
    running = asyncio.create_task(worker.async_run())
    try:

        async def listening() -> list[Any]:
            return await pool.fetch(
                "SELECT query FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'",
                marker,
            )

        assert await eventually(listening), "no LISTEN on the direct connection"
    finally:
        await worker.close()
        await running

    async def closed() -> bool:
        return not await pool.fetch("SELECT 1 FROM pg_stat_activity WHERE application_name = $1", marker)

    assert await eventually(closed), "the listener outlived its worker"
