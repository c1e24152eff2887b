"""How long the dashboard takes on a city's year of counts, two ways (bench/README.md, "Dashboard").

``python -m bench.dashboard_reads`` (the read): the read model (``notify.dashboard_counts``)
filled as a year of a busy city's events would leave it, in a scratch database it drops
afterwards, then the dashboard's two queries (the counts, the communities' names) timed for the
city, a street and a community over the year.

``python -m bench.dashboard_reads --page --scale 0.01`` (the page): the bench's seeded city
(bench/city_data.py, ``make bench-data``; its dashboard counts COPYed with its rows), the real
gateway under uvicorn, and Debian's chromium through playwright opening the city's dashboard for
the last year as a platform admin, ``--samples`` times: the time from navigation to the
``dashboard-rendered`` mark (dashboard.js: the frame after the charts are in the page), to the
load event, and the dashboard query's own request. Measured and reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from datetime import date, timedelta
from typing import Any

import asyncpg
from playwright.async_api import async_playwright

from bench.city_reads import ensure_city
from services.common.actor import PLATFORM_ADMIN, Actor
from services.common.db import create_pool, drop_database, ensure_database
from services.common.migrations import migrate
from services.common.settings import Settings
from services.common.tokens import issue_token
from services.gateway.context import TOKEN_COOKIE
from services.identity import queries as identity_queries
from services.notify import dashboard_repository
from tests.browser.conftest import gateway_served  # the gateway as the browser tests serve it

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


CHROMIUM = "/usr/bin/chromium"
# The time origin is the navigation's start: what a person waits from the click to the charts.
MARKS = """() => {
  const at = (name) => performance.getEntriesByName(name)[0]?.startTime;
  const nav = performance.getEntriesByType("navigation")[0];
  const query = performance.getEntriesByType("resource").filter((r) => r.name.endsWith("/graphql"))
    .sort((a, b) => b.duration - a.duration)[0];
  return { rendered: at("dashboard-rendered"), data: at("dashboard-data"), load: nav.loadEventEnd,
           query: query ? query.duration : null, query_bytes: query ? query.encodedBodySize : null,
           svgs: document.querySelectorAll("svg").length, rows: document.querySelectorAll("tr").length };
}"""


async def page(scale: float, samples: int, screenshot: str | None = None) -> dict[str, object]:
    """The city's dashboard for the year up to the seed's day, opened ``samples`` times (the
    first, untimed, warms the gateway's pool and chromium's cache like any second visit)."""
    base = Settings()
    assert base.database_url, "DATABASE_URL: the server the seeded city is on"
    url, marker = await asyncio.to_thread(ensure_city, base.database_url, scale, False)
    await migrate(url)  # a seed kept from before a newer migration (a read model added since)
    settings = base.model_copy(update={"database_url": url})
    until = date.fromisoformat(marker["probe"]["seed_day"]) - timedelta(days=1)
    since = until - timedelta(days=364)
    token = issue_token(
        Actor("bench-city-admin", frozenset({PLATFORM_ADMIN}), frozenset()), settings.secret, 3600
    )
    rows = await _rows(url)
    load_before = os.getloadavg()
    taken: list[dict[str, Any]] = []
    async with gateway_served(settings) as base_url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        await context.add_cookies([{"name": TOKEN_COOKIE, "value": token, "url": base_url}])
        tab = await context.new_page()
        address = f"{base_url}/dashboard?scope=CITY:&since={since}&until={until}"
        for _ in range(samples + 1):
            await tab.goto(address)
            await tab.wait_for_function("() => performance.getEntriesByName('dashboard-rendered').length > 0")
            taken.append(await tab.evaluate(MARKS))
        if screenshot:
            top = {"x": 0, "y": 0, "width": 1280, "height": 1400}  # the title and the first figure
            await tab.screenshot(path=screenshot, clip=top, full_page=True)
        await browser.close()
    timed = taken[1:]

    def summary(key: str) -> dict[str, float]:
        values = [float(t[key]) for t in timed]
        return {"p50_ms": round(statistics.median(values), 1), "max_ms": round(max(values), 1)}

    return {
        "database": url.rsplit("/", 1)[-1],
        "scale": scale,
        "read_model_rows": rows,
        "period": [since.isoformat(), until.isoformat()],
        "samples": samples,
        "navigation_to_charts": summary("rendered"),
        "navigation_to_data": summary("data"),
        "navigation_to_load_event": summary("load"),
        "dashboard_query": summary("query"),
        "dashboard_query_bytes": timed[-1]["query_bytes"],
        "charts_drawn": timed[-1]["svgs"],
        "table_rows": timed[-1]["rows"],
        "loadavg_before_after": [list(load_before), list(os.getloadavg())],
        "cores": os.cpu_count(),
    }


async def _rows(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM notify.dashboard_counts"))
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--page", action="store_true", help="time the page in chromium on the seeded city")
    parser.add_argument(
        "--scale", type=float, default=0.01, help="the seeded city's scale, with --page (0.01)"
    )
    parser.add_argument("--screenshot", help="with --page: save the city's dashboard's top here (PNG)")
    options = parser.parse_args()
    if options.page:
        result = asyncio.run(page(options.scale, options.samples, options.screenshot))
    else:
        result = asyncio.run(main(options.samples))
    print(json.dumps(result, ensure_ascii=False, indent=2))
