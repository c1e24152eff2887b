"""The dashboard's lines over time and its totals per label: each figure of the scope and of each
of its communities at every day, week or month of the period (services/notify/dashboard.py),
from notify's read model. Counts only; head counts under five read "<5", each summed before
it is hidden, and a count beside them that would give one away reads "—"
(services/notify/dashboard_hiding.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import Enum

import strawberry

from services.gateway.context import Info
from services.identity import queries as identity_queries
from services.notify import dashboard, dashboard_hiding
from services.notify import dashboard_repository as repo
from services.notify.dashboard_hiding import BARS, Cell
from services.notify.disclosure import HIDDEN, hidden_mark

__all__ = [
    "BARS",
    "HIDDEN_WORDS",
    "SMALL_WORDS",
    "VALUE_WORDS",
    "DashboardGrain",
    "DashboardLine",
    "DashboardSeries",
    "DashboardTotal",
    "series",
    "totals",
]


@strawberry.enum(description="The step of a line: a point a day, a week (from Monday) or a month.")
class DashboardGrain(Enum):
    DAY = dashboard.DAY
    WEEK = dashboard.WEEK
    MONTH = dashboard.MONTH


# The words of a shown count's fields, on rows and totals alike
VALUE_WORDS = (
    'The count; head counts under five read "<5", and "—" when hidden so that one under five '
    "cannot be worked out from the sums beside it (rows, totals and lines hide alike)."
)
SMALL_WORDS = 'True when value reads "<5" instead of the count.'
HIDDEN_WORDS = 'True when value is not the count: "<5" (small) or "—" (hidden).'


@strawberry.type(description="One figure over the whole scope for one label, all its communities together.")
class DashboardTotal:
    figure: str
    label: str = strawberry.field(description="The activity's title, or the wish's category; may be empty.")
    value: str = strawberry.field(description=VALUE_WORDS)
    small: bool = strawberry.field(description=SMALL_WORDS)
    hidden: bool = strawberry.field(default=False, description=HIDDEN_WORDS)
    folded: int = strawberry.field(
        default=0, description="Past 15 items: this row sums the smallest ones, this many (label empty)."
    )


@strawberry.type(description="One figure at each step of the period, of one community or of the whole scope.")
class DashboardLine:
    figure: str
    community_id: str | None = strawberry.field(description="None: the whole scope, its communities summed.")
    community_name: str | None
    total: str = strawberry.field(
        description='The whole period\'s count; "<5" when under five, "—" when hidden so that one '
        "under five cannot be worked out (as in rows and totals)."
    )
    values: list[str] = strawberry.field(description='One per step of `starts`; "<5" and "—" as total.')


@strawberry.type
class DashboardSeries:
    grain: DashboardGrain
    starts: list[date] = strawberry.field(description="Each step's first day (the first is the period's).")
    lines: list[DashboardLine]


def shown(value: int, hidden: bool) -> str:
    """A count as the dashboard shows it: itself, or when hidden "<5" or "—"."""
    return hidden_mark(value, dashboard.SMALL) if hidden else str(value)


def totals(
    rows: Sequence[tuple[str, str, str, int]], hidden: frozenset[Cell] | None = None
) -> list[DashboardTotal]:
    """The counts (community, figure, label, value) summed over communities per figure and
    label, the largest first; past ``BARS`` of a figure, the rest summed into one row (summed
    before hidden, so a city's two thousand activities read as fifteen bars and the others).
    ``hidden``: the answer's hidden cells (dashboard_hiding.hidden_counts of ``rows``)."""
    if hidden is None:
        hidden = dashboard_hiding.hidden_counts(rows)
    found = []
    for bar in dashboard_hiding.bars(rows):
        secret = bar.cell in hidden
        value = shown(bar.value, secret)
        found.append(
            DashboardTotal(
                figure=bar.figure,
                label=bar.label,
                value=value,
                small=secret and value != HIDDEN,
                hidden=secret,
                folded=bar.folded,
            )
        )
    return found


async def series(
    info: Info,
    communities: Sequence[str] | None,
    since: date,
    until: date,
    grain: DashboardGrain | None,
    hidden: frozenset[Cell],
    read: dict[Cell, int] | None = None,
) -> DashboardSeries:
    """The lines of the answer whose rows, bars and line totals hide ``hidden`` (``read``: those
    line totals as its rows gave them)."""
    step = grain.value if grain is not None else dashboard.grain_for(since, until)
    starts = dashboard.buckets(since, until, step)
    async with info.context.pool.acquire() as conn:
        points = [  # the days-to-met histogram is no count over time (its median is worked out)
            p
            for p in await repo.series(conn, communities, since, until, step)
            if p[1] != dashboard.WISH_DAYS_TO_MET
        ]
        names = await identity_queries.community_names(conn, sorted({p[0] for p in points}))
    drawn = dashboard.lines(points, starts)
    steps = dashboard_hiding.hidden_steps(drawn, hidden, read)
    return DashboardSeries(
        grain=DashboardGrain(step),
        starts=starts,
        lines=[
            DashboardLine(
                figure=line.figure,
                community_id=line.community_id,
                community_name=names.get(line.community_id, line.community_id) if line.community_id else None,
                total=shown(line.total, ("line", line.community_id, line.figure) in steps),
                values=[
                    shown(v, ("step", line.community_id, line.figure, str(i)) in steps)
                    for i, v in enumerate(line.values)
                ],
            )
            for line in drawn
        ],
    )
