"""The bench's city (bench/city_data.py) seeds notify's dashboard counts as the events of its rows
would have left them: each figure of each community, read from the counts over all time and
over the seeded year, equals its recomputation from the services' own seeded tables, and notify's
rebuild from those tables (``linli dashboard-rebuild``) writes the same daily rows."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg

from bench.city_data import Counts, community_ids, seed
from bench.city_reads import today
from services.common.db import drop_database, ensure_database
from services.notify import dashboard
from services.notify.dashboard_rebuild import rebuild
from tests.test_dashboard import source_figures

# The figures the seed writes (from its rows; the others need events it does not model)
SEEDED = [
    dashboard.SIGNUPS_CONFIRMED,
    dashboard.PEOPLE_ADMITTED,
    dashboard.VOLUNTEER_MINUTES,
    dashboard.WISHES_POSTED,
    dashboard.WISHES_CLAIMED,
    dashboard.WISHES_MET,
]
KEPT = """
SELECT community_id, day, figure, label, value FROM notify.dashboard_counts
WHERE figure = any($1::text[]) ORDER BY 1, 2, 3, 4
"""
SMALL_CITY = Counts(
    communities=4,
    stations=3,
    residents=400,
    sessions=60,
    signups=3000,
    ledger=400,
    wishes=90,
    audit_entries=10,
)


async def test_the_seeded_citys_dashboard_counts_agree_with_its_tables(servers: tuple[str, str]) -> None:
    server_url = servers[0]
    name = f"linli_dash_seed_{uuid.uuid4().hex[:8]}"
    url = await ensure_database(server_url, name)
    try:
        seed_day = today()
        await seed(url, seed_day, SMALL_CITY, 0.0)
        conn: Any = await asyncpg.connect(url)
        try:
            for community in community_ids(SMALL_CITY.communities):
                truth = await source_figures(conn, community)
                rows = await conn.fetch(
                    "SELECT figure, sum(value)::bigint AS v FROM notify.dashboard_counts "
                    "WHERE community_id = $1 GROUP BY figure",
                    community,
                )
                kept = {row["figure"]: row["v"] for row in rows}
                assert kept == {figure: value for figure, value in truth.items() if value}, community
            # the monthly roll-up holds the same counts as the days it sums
            differ = await conn.fetchval(
                """
                SELECT count(*) FROM (
                    SELECT community_id, date_trunc('month', day)::date AS month, figure, label,
                           sum(value) AS value FROM notify.dashboard_counts GROUP BY 1, 2, 3, 4
                ) d FULL JOIN notify.dashboard_months m USING (community_id, month, figure, label)
                WHERE d.value IS DISTINCT FROM m.value
                """
            )
            assert differ == 0
            # and a year's sign-ups, read from the days, is what the sessions of that year hold
            since = (seed_day - timedelta(days=365)).date()
            year = await conn.fetchval(
                "SELECT coalesce(sum(value), 0) FROM notify.dashboard_counts "
                "WHERE figure = 'signups_confirmed' AND day >= $1",
                since,
            )
            confirmed = await conn.fetchval(
                "SELECT count(*) FROM activities.signups WHERE status = 'CONFIRMED' "
                "AND (created_at AT TIME ZONE 'Asia/Shanghai')::date >= $1",
                since,
            )
            assert year == confirmed and year > 0

            # notify's own rebuild from the services' tables writes the very same daily rows
            seeded = await conn.fetch(KEPT, SEEDED)
            async with conn.transaction():
                await rebuild(conn)
            assert await conn.fetch(KEPT, SEEDED) == seeded and len(seeded) > 100
        finally:
            await conn.close()
    finally:
        await drop_database(server_url, name)
