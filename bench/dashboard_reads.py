"""How long the dashboard's read takes on a city's year of counts: the read model
(``notify.dashboard_counts``) filled as a year of the city's events would leave it, then the
dashboard's two queries (the counts, the communities' names) timed for the city, a street and a
community over the year. Measured and reported, never asserted (bench/README.md, "Dashboard").

``python -m bench.dashboard_reads`` on the ``DATABASE_URL`` server, in a scratch database it
drops afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from datetime import date, timedelta

from services.common.db import create_pool, drop_database, ensure_database
from services.common.migrations import migrate
from services.common.settings import Settings
from services.identity import queries as identity_queries
from services.notify import dashboard_repository

DATABASE = "linli_dashboard_bench"
COMMUNITIES, PER_STREET = 50, 10  # as bench/city_data.py: 50 communities in 5 streets
ACTIVITIES_A_DAY = 3  # activities with sign-ups or admissions, per community and day
CATEGORIES = ("REPAIR", "VISIT", "SUPPLIES", "HEALTH", "ERRAND", "OTHER")

# Every community's every day of the year: sign-ups and admissions of three of its forty
# activities, its volunteer minutes, and wishes posted, claimed and met in two categories.
FILL = """
WITH c AS (SELECT 'bench-c' || n AS community_id FROM generate_series(1, $1) n),
     d AS (SELECT $2::date + n AS day FROM generate_series(0, 364) n)
INSERT INTO notify.dashboard_counts (community_id, day, figure, label, value)
SELECT c.community_id, d.day, f.figure, '活动' || ((extract(doy FROM d.day)::int + a) % 40), 5 + a * 7
FROM c, d, generate_series(1, $3) a, (VALUES ('signups_confirmed'), ('people_admitted')) f (figure)
UNION ALL
SELECT c.community_id, d.day, 'volunteer_minutes', '', 600 FROM c, d
UNION ALL
SELECT c.community_id, d.day, f.figure, ($4::text[])[1 + (extract(doy FROM d.day)::int + k) % 6], 1 + k
FROM c, d, generate_series(0, 1) k,
     (VALUES ('wishes_posted'), ('wishes_claimed'), ('wishes_met')) f (figure)
"""
# As add_counts keeps it: the same counts per month.
ROLL_UP = """
INSERT INTO notify.dashboard_months (community_id, month, figure, label, value)
SELECT community_id, date_trunc('month', day)::date, figure, label, sum(value)
FROM notify.dashboard_counts GROUP BY 1, 2, 3, 4
"""


async def main(samples: int) -> dict[str, object]:
    settings = Settings()
    url = await ensure_database(settings.database_url, DATABASE)
    try:
        await migrate(url)
        pool = await create_pool(url)
        since = date(2025, 1, 1)
        async with pool.acquire() as conn:
            await conn.execute("TRUNCATE notify.dashboard_counts")
            await conn.execute(FILL, COMMUNITIES, since, ACTIVITIES_A_DAY, list(CATEGORIES))
            await conn.execute("TRUNCATE notify.dashboard_months")
            await conn.execute(ROLL_UP)
            await conn.execute("VACUUM ANALYZE notify.dashboard_counts")
            await conn.execute("VACUUM ANALYZE notify.dashboard_months")
            rows = await conn.fetchval("SELECT count(*) FROM notify.dashboard_counts")
        until = since + timedelta(days=364)
        scopes: dict[str, list[str] | None] = {
            "city": None,
            "street": [f"bench-c{n}" for n in range(1, PER_STREET + 1)],
            "community": ["bench-c1"],
        }
        timings: dict[str, object] = {}
        for scope, communities in scopes.items():
            took = []
            for _ in range(samples):
                started = time.perf_counter()
                async with pool.acquire() as conn:
                    found = await dashboard_repository.counts(conn, communities, since, until)
                    await identity_queries.community_names(conn, sorted({r["community_id"] for r in found}))
                took.append((time.perf_counter() - started) * 1000)
            timings[scope] = {
                "rows_returned": len(found),
                "p50_ms": round(statistics.median(took), 1),
                "max_ms": round(max(took), 1),
            }
        await pool.close()
        return {"read_model_rows": rows, "period": [since.isoformat(), until.isoformat()], **timings}
    finally:
        await drop_database(settings.database_url, DATABASE)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    print(json.dumps(asyncio.run(main(parser.parse_args().samples)), ensure_ascii=False, indent=2))
