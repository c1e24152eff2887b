"""The dashboard part of the GraphQL API: a community's, a street's or the city's counts over a
period, from notify's read model (services/notify/dashboard.py). Counts only, never a person;
head counts under five are shown as "<5", and a count that would give one away beside a sum as
"—" (services/notify/dashboard_hiding.py): the same in rows, totals and lines."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from services.common.actor import COMMUNITY_ADMIN, ORGANISER, PLATFORM_ADMIN, Actor
from services.common.clock import now
from services.common.errors import bad_input, forbidden, not_found
from services.gateway.context import Info
from services.gateway.dashboard_series import (
    HIDDEN_WORDS,
    SMALL_WORDS,
    VALUE_WORDS,
    DashboardGrain,
    DashboardSeries,
    DashboardTotal,
    shown,
    totals,
)
from services.gateway.dashboard_series import series as series_of
from services.identity import queries as identity_queries
from services.notify import dashboard, dashboard_hiding
from services.notify import dashboard_repository as repo
from services.notify.dashboard_hiding import Cell

_LONGEST_DAYS = 3 * 366  # a period longer than this is a typing slip, and a slow query


@strawberry.enum
class DashboardScope(Enum):
    COMMUNITY = "community"
    STREET = "street"
    CITY = "city"


@strawberry.type(description="One figure of one community for one label (an activity, a wish category).")
class DashboardRow:
    figure: str = strawberry.field(
        description="signups_confirmed, people_admitted, volunteer_minutes, wishes_posted, "
        "wishes_claimed, wishes_met; per activity category and per 邻里驿家 station (counted on "
        "the session's day): signed_up_by_category, admitted_by_category, no_shows_by_category, "
        "signed_up_by_station, admitted_by_station, no_shows_by_station; people_by_age_band; "
        "party_member_minutes (per work unit), partner_minutes (per partner organisation); "
        "wishes_median_days_to_met; items_claimed, items_closed (per partner unit); "
        "concerns_raised, concerns_resolved."
    )
    community_id: str
    community_name: str
    label: str = strawberry.field(
        description="The activity's title, the activity's category, the station's name, an age band "
        "(<18, 18-59, 60-79, 80+, unknown), the work unit or partner's name, or the wish's "
        "category; may be empty."
    )
    value: str = strawberry.field(description=VALUE_WORDS)
    small: bool = strawberry.field(description=SMALL_WORDS)
    hidden: bool = strawberry.field(default=False, description=HIDDEN_WORDS)


@strawberry.type
class Dashboard:
    scope: DashboardScope
    id: str | None
    since: date
    until: date
    rows: list[DashboardRow]
    median_days_to_met: float | None = strawberry.field(
        description="The median whole days from a wish posted to met, over the wishes met in the "
        "period in the whole scope (exact, from a histogram of counts); null when none was met."
    )
    totals: list[DashboardTotal] = strawberry.field(
        description="Each figure per label over the whole scope (its communities summed): the bars. "
        "The median days to met, which does not add up, per community (label: its name)."
    )
    communities: strawberry.Private[list[str] | None]
    hidden: strawberry.Private[frozenset[Cell]]  # what rows and totals hide: the lines agree
    line_totals: strawberry.Private[dict[Cell, int]]  # the lines' totals as the rows gave them

    @strawberry.field(
        description="Each figure at every step of the period, of the scope and of each community: "
        "the lines and the stations' sparklines. Without grain: a day up to a month, a week up to "
        "half a year, else a month. Figures kept per session (by category, station, age band) "
        "and the median have none."
    )
    async def series(self, info: Info, grain: DashboardGrain | None = None) -> DashboardSeries:
        return await series_of(
            info, self.communities, self.since, self.until, grain, self.hidden, self.line_totals
        )


async def _communities(info: Info, actor: Actor, scope: DashboardScope, id: str | None) -> list[str] | None:
    """The communities the dashboard covers (None: the whole city), refusing what the actor may
    not see."""
    if scope == DashboardScope.CITY:
        if PLATFORM_ADMIN not in actor.roles:
            raise forbidden()
        return None
    if not id:
        raise bad_input("id", "请选择社区或街道", "Choose a community or a street")
    if scope == DashboardScope.COMMUNITY:
        if not actor.may_organise(id):
            raise forbidden()
        return [id]
    async with info.context.pool.acquire() as conn:
        communities = await identity_queries.street_communities(conn, id)
    if PLATFORM_ADMIN in actor.roles:
        if communities is None:
            raise not_found("street", "街道")
        return communities
    # a street's staff hold every community of their street (identity expands street grants)
    if not communities or not all(actor.may_organise(c) for c in communities):
        raise forbidden()
    return communities


@strawberry.type
class DashboardQuery:
    @strawberry.field(
        description="Staff: the counts of a community, a street (all its communities) or the city "
        "(platform admins) over the days since..until (Asia/Shanghai, both included)."
    )
    async def dashboard(
        self, info: Info, scope: DashboardScope, since: date, until: date, id: str | None = None
    ) -> Dashboard:
        actor = info.context.require_role(ORGANISER, COMMUNITY_ADMIN)
        if since > until:
            raise bad_input("since", "开始日期不能晚于结束日期", "The period cannot start after it ends")
        if (until - since).days > _LONGEST_DAYS:
            raise bad_input("until", "时间段最长三年", "A period is at most three years long")
        communities = await _communities(info, actor, scope, id)
        async with info.context.pool.acquire() as conn:
            counted = await repo.counts(conn, communities, since, until)
            sessions = await repo.session_totals(conn, communities, since, until, now())
            values = [(r["community_id"], r["figure"], r["label"], int(r["value"])) for r in counted]
            values += dashboard.session_figures(sessions)
            names = await identity_queries.community_names(conn, sorted({v[0] for v in values}))
        kept, median = dashboard.shown_rows(values)
        hidden = dashboard_hiding.hidden_counts(values)
        counts = [(c, f, label, n) for c, f, label, n, _ in kept if f != dashboard.MEDIAN_DAYS_TO_MET]
        return Dashboard(
            scope=scope,
            id=id,
            since=since,
            until=until,
            median_days_to_met=median,
            communities=communities,
            hidden=hidden,
            line_totals=dashboard_hiding.line_totals(values),
            totals=[
                *totals(counts, hidden),
                *(
                    DashboardTotal(figure=f, label=names.get(c, c), value=words, small=False)
                    for c, f, _label, _n, words in kept
                    if f == dashboard.MEDIAN_DAYS_TO_MET
                ),
            ],
            rows=[
                _row(community, figure, label, number, value, names, hidden)
                for community, figure, label, number, value in kept
            ],
        )


def _row(
    community: str,
    figure: str,
    label: str,
    number: int,
    words: str,
    names: dict[str, str],
    hidden: frozenset[Cell],
) -> DashboardRow:
    secret = ("row", community, figure, label) in hidden
    value = shown(number, secret) if secret else words  # words: a median as it reads
    return DashboardRow(
        figure=figure,
        community_id=community,
        community_name=names.get(community, community),
        label=label,
        value=value,
        small=secret and value.startswith("<"),
        hidden=secret,
    )
