"""The dashboard's counts in notify's schema: added to as events arrive, read per period."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

import asyncpg

from services.common.db import Connection
from services.notify.dashboard import (
    MONTH,
    Increment,
    SessionChange,
    SessionTotals,
    month_of,
    whole_months,
)


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


async def add_session_changes(conn: Connection, changes: Sequence[SessionChange]) -> None:
    """Add a batch's per-session changes in one statement (summed per session first, in id
    order); a session's facts are those of its newest version seen."""
    summed: dict[str, SessionChange] = {}
    for c in changes:
        was = summed.get(c.session_id)
        if was is None:
            summed[c.session_id] = c
            continue
        facts = c.facts if c.facts.version >= was.facts.version else was.facts
        ages = tuple(a + b for a, b in zip(was.ages, c.ages, strict=True))
        summed[c.session_id] = SessionChange(
            c.session_id,
            c.community_id,
            facts,
            was.seats + c.seats,
            was.admitted + c.admitted,
            (ages[0], ages[1], ages[2], ages[3], ages[4]),
        )
    if not summed:
        return
    rows = [summed[k] for k in sorted(summed)]
    await conn.execute(
        """
        INSERT INTO notify.dashboard_sessions AS d
            (session_id, community_id, day, ends_at, category, station, version, seats, admitted,
             age_under_18, age_18_59, age_60_79, age_80_plus, age_unknown)
        SELECT * FROM unnest($1::uuid[], $2::text[], $3::date[], $4::timestamptz[], $5::text[],
                             $6::text[], $7::timestamptz[], $8::bigint[], $9::bigint[], $10::bigint[],
                             $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[])
        ON CONFLICT (session_id) DO UPDATE SET
            day = CASE WHEN EXCLUDED.version >= d.version THEN EXCLUDED.day ELSE d.day END,
            ends_at = CASE WHEN EXCLUDED.version >= d.version THEN EXCLUDED.ends_at ELSE d.ends_at END,
            category = CASE WHEN EXCLUDED.version >= d.version THEN EXCLUDED.category ELSE d.category END,
            station = CASE WHEN EXCLUDED.version >= d.version THEN EXCLUDED.station ELSE d.station END,
            version = greatest(d.version, EXCLUDED.version),
            seats = d.seats + EXCLUDED.seats,
            admitted = d.admitted + EXCLUDED.admitted,
            age_under_18 = d.age_under_18 + EXCLUDED.age_under_18,
            age_18_59 = d.age_18_59 + EXCLUDED.age_18_59,
            age_60_79 = d.age_60_79 + EXCLUDED.age_60_79,
            age_80_plus = d.age_80_plus + EXCLUDED.age_80_plus,
            age_unknown = d.age_unknown + EXCLUDED.age_unknown
        """,
        [r.session_id for r in rows],
        [r.community_id for r in rows],
        [r.facts.day for r in rows],
        [r.facts.ends_at for r in rows],
        [r.facts.category for r in rows],
        [r.facts.station for r in rows],
        [r.facts.version for r in rows],
        [r.seats for r in rows],
        [r.admitted for r in rows],
        *[[r.ages[i] for r in rows] for i in range(5)],
    )


async def session_totals(
    conn: Connection, communities: Sequence[str] | None, since: date, until: date, at: datetime
) -> list[SessionTotals]:
    """Sessions starting on the days ``since``..``until`` summed per community, category and
    station. A session over by ``at`` counts its confirmed seats nobody was admitted for as
    no-shows (a party partly in: the rest); one still to come or under way has none yet."""
    rows = await conn.fetch(
        """
        SELECT community_id, category, station, sum(seats)::bigint AS seats,
               sum(admitted)::bigint AS admitted,
               sum(CASE WHEN ends_at <= $4 THEN greatest(seats - admitted, 0) ELSE 0 END)::bigint AS no_shows,
               sum(age_under_18)::bigint AS a0, sum(age_18_59)::bigint AS a1, sum(age_60_79)::bigint AS a2,
               sum(age_80_plus)::bigint AS a3, sum(age_unknown)::bigint AS a4
        FROM notify.dashboard_sessions
        WHERE day BETWEEN $2 AND $3 AND ($1::text[] IS NULL OR community_id = any($1))
        GROUP BY community_id, category, station
        """,
        None if communities is None else list(communities),
        since,
        until,
        at,
    )
    return [
        SessionTotals(
            r["community_id"],
            r["category"],
            r["station"],
            r["seats"],
            r["admitted"],
            r["no_shows"],
            (r["a0"], r["a1"], r["a2"], r["a3"], r["a4"]),
        )
        for r in rows
    ]


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
