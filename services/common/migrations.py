"""SQL migrations, one folder per service schema, applied in order and recorded.

An advisory lock makes two processes starting at once apply each migration exactly once.
"""

from __future__ import annotations

import logging
from importlib import resources

import asyncpg

log = logging.getLogger("linli.migrations")

SERVICES = ("identity", "activities", "volunteers", "notify")
_LOCK_KEY = 0x11A11  # any constant shared by all Linli processes

_LEDGER = """
CREATE TABLE IF NOT EXISTS public.linli_migrations (
    service     text NOT NULL,
    version     text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service, version)
)
"""


def migration_files(service: str) -> list[tuple[str, str]]:
    """(version, sql) of one service, in file-name order."""
    folder = resources.files(f"services.{service}") / "migrations"
    found = [
        (entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    ]
    return sorted(found)


async def migrate(database_url: str) -> list[str]:
    """Apply every missing migration; return the ones applied now."""
    conn = await asyncpg.connect(database_url)
    applied: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            await conn.execute(_LEDGER)
            done = {
                (row["service"], row["version"])
                for row in await conn.fetch("SELECT service, version FROM public.linli_migrations")
            }
            for service in SERVICES:
                for version, sql in migration_files(service):
                    if (service, version) in done:
                        continue
                    async with conn.transaction():
                        await conn.execute(sql)
                        await conn.execute(
                            "INSERT INTO public.linli_migrations (service, version) VALUES ($1, $2)",
                            service,
                            version,
                        )
                    applied.append(f"{service}/{version}")
                    log.info("applied migration %s/%s", service, version)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    finally:
        await conn.close()
    return applied
