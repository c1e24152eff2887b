"""The dashboard's lines over time and its totals per label: each figure of the scope and of each
of its communities at every day, week or month of the period (services/notify/dashboard.py),
from notify's read model. Counts only; head counts under five read "<5", each summed before
it is hidden."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from enum import Enum

import strawberry

from services.gateway.context import Info
from services.identity import queries as identity_queries
from services.notify import dashboard
from services.notify import dashboard_repository as repo


@strawberry.enum(description="The step of a line: a point a day, a week (from Monday) or a month.")
class DashboardGrain(Enum):
    DAY = dashboard.DAY
    WEEK = dashboard.WEEK
    MONTH = dashboard.MONTH


@strawberry.type(description="One figure over the whole scope for one label, all its communities together.")
class DashboardTotal:
    figure: str
    label: str = strawberry.field(description="The activity's title, or the wish's category; may be empty.")
    value: str = strawberry.field(description='The count; head counts under five read "<5".')
    small: bool
    folded: int = strawberry.field(
        default=0, description="Past 15 items: this row sums the smallest ones, this many (label empty)."
    )


@strawberry.type(description="One figure at each step of the period, of one community or of the whole scope.")
class DashboardLine:
    figure: str
    community_id: str | None = strawberry.field(description="None: the whole scope, its communities summed.")
    community_name: str | None
    total: str = strawberry.field(description='The whole period\'s count; "<5" when under five.')
    values: list[str] = strawberry.field(description='One per step of `starts`; "<5" when under five.')


@strawberry.type
class DashboardSeries:
    grain: DashboardGrain
    starts: list[date] = strawberry.field(description="Each step's first day (the first is the period's).")
    lines: list[DashboardLine]


BARS = 15  # bars a figure shows at most; the rest are summed into one


def _total(figure: str, label: str, value: int, folded: int = 0) -> DashboardTotal:
    shown = dashboard.shown(figure, value)
    return DashboardTotal(figure=figure, label=label, value=shown, small=shown != str(value), folded=folded)


def totals(rows: Iterable[tuple[str, str, str, int]]) -> list[DashboardTotal]:
    """The counts (community, figure, label, value) summed over communities per figure and
    label, the largest first; past ``BARS`` of a figure, the rest summed into one row (summed
    before hidden, so a city's two thousand activities read as fifteen bars and the others)."""
    summed: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for _community, figure, label, value in rows:
        summed[figure][label] += value
    found: list[DashboardTotal] = []
    for figure in sorted(summed):
        items = sorted(summed[figure].items(), key=lambda item: (-item[1], item[0]))
        found += [_total(figure, label, value) for label, value in items[:BARS]]
        if len(items) > BARS:
            found.append(_total(figure, "", sum(value for _, value in items[BARS:]), len(items) - BARS))
    return found


async def series(
    info: Info, communities: Sequence[str] | None, since: date, until: date, grain: DashboardGrain | None
) -> DashboardSeries:
    step = grain.value if grain is not None else dashboard.grain_for(since, until)
    starts = dashboard.buckets(since, until, step)
    async with info.context.pool.acquire() as conn:
        points = [  # the days-to-met histogram is no count over time (its median is worked out)
            p
            for p in await repo.series(conn, communities, since, until, step)
            if p[1] != dashboard.WISH_DAYS_TO_MET
        ]
        names = await identity_queries.community_names(conn, sorted({p[0] for p in points}))
    return DashboardSeries(
        grain=DashboardGrain(step),
        starts=starts,
        lines=[
            DashboardLine(
                figure=line.figure,
                community_id=line.community_id,
                community_name=names.get(line.community_id, line.community_id) if line.community_id else None,
                total=dashboard.shown(line.figure, line.total),
                values=[dashboard.shown(line.figure, v) for v in line.values],
            )
            for line in dashboard.lines(points, starts)
        ],
    )
