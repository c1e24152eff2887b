"""Migrations: applied once, in order, even when several processes start at the same time."""

from __future__ import annotations

import asyncio
import uuid

from services.common.db import drop_database, ensure_database
from services.common.migrations import SERVICES, migrate, migration_files


async def test_two_processes_migrating_at_once_apply_each_migration_once(
    servers: tuple[str, str],
) -> None:
    server_url = servers[0]
    database = f"linli_migrate_{uuid.uuid4().hex[:8]}"
    database_url = await ensure_database(server_url, database)
    try:
        first, second = await asyncio.gather(migrate(database_url), migrate(database_url))
        expected = [f"{s}/{version}" for s in SERVICES for version, _ in migration_files(s)]
        assert sorted(first + second) == sorted(expected)
        assert await migrate(database_url) == []
    finally:
        await drop_database(server_url, database)
