"""The dashboard's counts in notify's schema: added to as events arrive, read per period."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

import asyncpg

from services.common.db import Connection
from services.notify.dashboard import MONTH, Increment, month_of, whole_months


async def add_counts(conn: Connection, increments: Sequence[Increment]) -> None:
    """Add a batch's increments in one statement (summed first: one statement cannot touch a
    row twice), in key order so two batches cannot deadlock."""
    summed: dict[tuple[str, date, str, str], int] = defaultdict(int)
    for i in increments:
        summed[(i.community_id, i.day, i.figure, i.label)] += i.value
    if not summed:
        return
    keys = sorted(summed)
    await conn.execute(
        """
        INSERT INTO notify.dashboard_counts (community_id, day, figure, label, value)
        SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::bigint[])
        ON CONFLICT (community_id, day, figure, label)
        DO UPDATE SET value = notify.dashboard_counts.value + EXCLUDED.value
        """,
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
        [k[3] for k in keys],
        [summed[k] for k in keys],
    )
    months: dict[tuple[str, date, str, str], int] = defaultdict(int)
    for (community, day, figure, label), value in summed.items():
        months[(community, month_of(day), figure, label)] += value
    keys = sorted(months)
    await conn.execute(
        """
        INSERT INTO notify.dashboard_months (community_id, month, figure, label, value)
        SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::bigint[])
        ON CONFLICT (community_id, month, figure, label)
        DO UPDATE SET value = notify.dashboard_months.value + EXCLUDED.value
        """,
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
        [k[3] for k in keys],
        [months[k] for k in keys],
    )


async def counts(
    conn: Connection, communities: Sequence[str] | None, since: date, until: date
) -> list[asyncpg.Record]:
    """Each figure per community and label over the days ``since``..``until`` (both included);
    ``communities`` None: every one. Whole months come from the monthly roll-up, the days
    before and after them from the daily counts."""
    first, after = whole_months(since, until)
    return await conn.fetch(
        """
        SELECT community_id, figure, label, sum(value)::bigint AS value FROM (
            SELECT community_id, figure, label, value FROM notify.dashboard_months
            WHERE month >= $4 AND month < $5 AND ($1::text[] IS NULL OR community_id = any($1))
            UNION ALL
            SELECT community_id, figure, label, value FROM notify.dashboard_counts
            WHERE day BETWEEN $2 AND $3 AND NOT (day >= $4 AND day < $5)
              AND ($1::text[] IS NULL OR community_id = any($1))
        ) counted
        GROUP BY community_id, figure, label
        ORDER BY figure, community_id, label
        """,
        None if communities is None else list(communities),
        since,
        until,
        first,
        after,
    )


async def series(
    conn: Connection, communities: Sequence[str] | None, since: date, until: date, grain: str
) -> list[tuple[str, str, date, int]]:
    """Each figure per community summed per step (``grain``: day, week or month) of the days
    ``since``..``until``, as (community, figure, the step's first day, value); a step's first
    day is never before ``since``. By the month, whole months come from the monthly roll-up."""
    if grain == MONTH:
        first, after = whole_months(since, until)
    else:
        first = after = since  # no month read from the roll-up: every day from the daily counts
    rows = await conn.fetch(
        """
        SELECT community_id, figure, greatest(date_trunc($6, at::timestamp)::date, $2) AS start,
               sum(value)::bigint AS value
        FROM (
            SELECT community_id, figure, month AS at, value FROM notify.dashboard_months
            WHERE month >= $4 AND month < $5 AND ($1::text[] IS NULL OR community_id = any($1))
            UNION ALL
            SELECT community_id, figure, day AS at, value FROM notify.dashboard_counts
            WHERE day BETWEEN $2 AND $3 AND NOT (day >= $4 AND day < $5)
              AND ($1::text[] IS NULL OR community_id = any($1))
        ) counted
        GROUP BY 1, 2, 3
        """,
        None if communities is None else list(communities),
        since,
        until,
        first,
        after,
        grain,
    )
    return [(row["community_id"], row["figure"], row["start"], int(row["value"])) for row in rows]
