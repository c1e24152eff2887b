"""CPU time of the dashboard's secondary suppression (services/notify/dashboard_hiding.py) per
answer, on the seeded city's year and on made-up answers where half the counts are small
(bench/README.md, "Dashboard"). Measured and reported, never asserted.

``python -m bench.dashboard_hiding [--database URL]``: the city's own counts when the seeded
database is there (``make bench-data``), then the made-up answers."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

import asyncpg

from services.notify import dashboard, dashboard_hiding
from services.notify import dashboard_repository as repo

FIGURES = (
    dashboard.SIGNUPS_CONFIRMED,
    dashboard.PEOPLE_ADMITTED,
    dashboard.WISHES_POSTED,
    dashboard.WISHES_MET,
    dashboard.SIGNED_UP_BY_CATEGORY,
    dashboard.PEOPLE_BY_AGE_BAND,
)


def made_up(communities: int, labels: int, steps: int, seed: int = 1) -> tuple[list, list[dashboard.Line]]:
    """An answer of ``communities`` x ``labels`` counts per figure, half of them under five, and
    two figures' lines of ``steps`` steps."""
    chance = random.Random(seed)
    rows = [
        (f"c{c}", figure, f"{figure}-{a}", chance.choice([1, 2, 3, 4, 6, 9, 15, 40]))
        for c in range(communities)
        for figure in FIGURES
        for a in range(labels)
    ]
    lines: list[dashboard.Line] = []
    for figure in FIGURES[:2]:
        per = {
            f"c{c}": tuple(chance.choice([0, 0, 1, 3, 7, 20]) for _ in range(steps))
            for c in range(communities)
        }
        lines.append(
            dashboard.Line(figure, None, tuple(sum(v[i] for v in per.values()) for i in range(steps)))
        )
        lines += [dashboard.Line(figure, c, v) for c, v in per.items()]
    return rows, lines


def timed(rows: list, lines: list[dashboard.Line], samples: int = 5) -> tuple[float, float, int, int]:
    """Median CPU ms of the counts' and the steps' suppression, and how many cells each hid."""
    counts, steps = [], []
    for _ in range(samples):
        started = time.process_time()
        hidden = dashboard_hiding.hidden_counts(rows)
        between = time.process_time()
        hidden_steps = dashboard_hiding.hidden_steps(lines, hidden)
        counts.append((between - started) * 1000)
        steps.append((time.process_time() - between) * 1000)
    return statistics.median(counts), statistics.median(steps), len(hidden), len(hidden_steps)


async def city(url: str) -> tuple[list, list[dashboard.Line]] | None:
    try:
        conn = await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        last = await conn.fetchval("SELECT max(day) FROM notify.dashboard_counts")
        since, until = last - timedelta(days=364), last
        counted = await repo.counts(conn, None, since, until)
        sessions = await repo.session_totals(conn, None, since, until, datetime.now(UTC))
        rows = [(r["community_id"], r["figure"], r["label"], int(r["value"])) for r in counted]
        rows += dashboard.session_figures(sessions)
        step = dashboard.grain_for(since, until)
        points = [
            p for p in await repo.series(conn, None, since, until, step) if p[1] != dashboard.WISH_DAYS_TO_MET
        ]
        return rows, dashboard.lines(points, dashboard.buckets(since, until, step))
    finally:
        await conn.close()


def report(name: str, rows: list, lines: list[dashboard.Line]) -> None:
    counts_ms, steps_ms, hidden, hidden_steps = timed(rows, lines)
    steps = sum(len(line.values) for line in lines)
    print(
        f"{name}: {len(rows)} rows, {steps} steps; hid {hidden} counts in {counts_ms:.0f} ms CPU, "
        f"{hidden_steps} steps in {steps_ms:.0f} ms CPU"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/linli_city")
    args = parser.parse_args()
    seeded = await city(args.database)
    if seeded is not None:
        report("seeded city, its last year", *seeded)
    for communities, labels in ((10, 20), (50, 40), (300, 12)):
        report(f"made up, {communities} communities x {labels} items", *made_up(communities, labels, 12))


if __name__ == "__main__":
    asyncio.run(main())
