"""The dashboard's lines over time: a period cut into days, weeks or months, each figure's line
for the scope and each community agreeing with the period's counts, small counts hidden after
summing, and the bars' totals per label."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.common.settings import Settings
from services.gateway.dashboard_series import BARS, totals
from services.notify.dashboard import DAY, MONTH, WEEK, Line, bucket_of, buckets, grain_for, lines
from tests.conftest import GraphQLClient, eventually
from tests.dashboard_steps import TITLE, street_with_work
from tests.dates import day_iso

SERIES = """
query($scope: DashboardScope!, $id: String, $since: Date!, $until: Date!, $grain: DashboardGrain) {
  dashboard(scope: $scope, id: $id, since: $since, until: $until) {
    rows { figure communityId label value }
    totals { figure label value small }
    series(grain: $grain) { grain starts lines { figure communityId communityName total values } }
  }
}
"""


def test_a_period_is_cut_into_a_few_dozen_steps_at_most() -> None:
    assert grain_for(date(2026, 3, 1), date(2026, 3, 31)) == DAY
    assert grain_for(date(2026, 3, 1), date(2026, 4, 1)) == WEEK
    assert grain_for(date(2026, 1, 1), date(2026, 7, 2)) == WEEK
    assert grain_for(date(2026, 1, 1), date(2026, 12, 31)) == MONTH
    assert buckets(date(2026, 3, 30), date(2026, 4, 1), DAY) == [
        date(2026, 3, 30),
        date(2026, 3, 31),
        date(2026, 4, 1),
    ]
    # 2026-03-04 is a Wednesday: the first step starts with the period, the next on Monday
    assert buckets(date(2026, 3, 4), date(2026, 3, 16), WEEK) == [
        date(2026, 3, 4),
        date(2026, 3, 9),
        date(2026, 3, 16),
    ]
    months = buckets(date(2025, 12, 15), date(2026, 12, 14), MONTH)
    assert len(months) == 13 and months[0] == date(2025, 12, 15) and months[1] == date(2026, 1, 1)
    assert bucket_of(date(2026, 3, 5), WEEK, date(2026, 3, 4)) == date(2026, 3, 4)
    assert bucket_of(date(2026, 3, 11), WEEK, date(2026, 3, 4)) == date(2026, 3, 9)
    assert bucket_of(date(2026, 2, 20), MONTH, date(2025, 12, 15)) == date(2026, 2, 1)


def test_each_figure_has_a_line_for_the_scope_and_one_per_community_with_zeros_between() -> None:
    starts = buckets(date(2026, 1, 1), date(2026, 3, 31), MONTH)
    points = [
        ("b", "wishes_met", date(2026, 3, 1), 2),
        ("a", "wishes_met", date(2026, 1, 1), 4),
        ("a", "wishes_met", date(2026, 3, 1), 1),
        ("a", "signups_confirmed", date(2026, 2, 1), 7),
    ]
    assert lines(points, starts) == [
        Line("signups_confirmed", None, (0, 7, 0)),
        Line("signups_confirmed", "a", (0, 7, 0)),
        Line("wishes_met", None, (4, 0, 3)),
        Line("wishes_met", "a", (4, 0, 1)),
        Line("wishes_met", "b", (0, 0, 2)),
    ]
    assert lines(points, starts)[2].total == 7


async def test_the_lines_add_up_to_the_periods_counts_at_every_grain(
    gql: GraphQLClient, settings: Settings, pool: Any
) -> None:
    made = await street_with_work(gql, settings, pool)
    variables = {
        "scope": "STREET",
        "id": made.street,
        "since": day_iso(-1),
        "until": day_iso(1),
        "grain": None,
    }

    async def counted() -> dict[str, Any] | None:
        found = (await gql.ok(SERIES, variables, made.organiser))["dashboard"]
        return found if {r["figure"] for r in found["rows"]} >= {"signups_confirmed", "wishes_met"} else None

    answer = await eventually(counted)
    assert answer["series"]["grain"] == "DAY" and answer["series"]["starts"] == [
        day_iso(-1),
        day_iso(0),
        day_iso(1),
    ]
    by_key = {(line["figure"], line["communityId"]): line for line in answer["series"]["lines"]}
    signups = by_key[("signups_confirmed", None)]
    assert signups["communityName"] is None and signups["total"] == "6"
    assert signups["values"][1] == "6" and signups["values"][0] in ("0", "<5")
    station = by_key[("signups_confirmed", made.community)]
    assert station["communityName"] and station["values"] == signups["values"]
    assert by_key[("people_admitted", None)]["total"] == "<5"  # two people: hidden in the line too
    assert {"figure": "signups_confirmed", "label": TITLE, "value": "6", "small": False} in answer["totals"]

    # A year read by the month (its whole months from the roll-up) and by the week: the same totals
    for since, until, grain in ((-200, 160, None), (-60, 60, "WEEK"), (-3, 3, "MONTH")):
        longer = {**variables, "since": day_iso(since), "until": day_iso(until), "grain": grain}
        again = (await gql.ok(SERIES, longer, made.organiser))["dashboard"]["series"]
        assert again["grain"] == (grain or "MONTH") and again["starts"][0] == day_iso(since)
        totals = {(line["figure"], line["communityId"]): line["total"] for line in again["lines"]}
        assert totals == {key: line["total"] for key, line in by_key.items()}
        assert all(len(line["values"]) == len(again["starts"]) for line in again["lines"])


def test_a_figures_bars_are_its_fifteen_largest_items_and_the_rest_summed_before_hidden() -> None:
    rows = [("c1", "signups_confirmed", f"活动{n:02d}", 100 - n) for n in range(20)]
    rows += [("c2", "signups_confirmed", "活动00", 5)]  # another community's
    rows += [("c1", "people_admitted", label, n) for label, n in (("义诊", 2), ("", 1))]
    bars = totals(rows)
    signups = [b for b in bars if b.figure == "signups_confirmed"]
    assert len(signups) == BARS + 1
    assert (signups[0].label, signups[0].value) == ("活动00", "105")
    assert [b.label for b in signups[:BARS]] == [f"活动{n:02d}" for n in range(BARS)]
    assert (signups[-1].label, signups[-1].folded, signups[-1].value) == (
        "",
        5,
        str(sum(100 - n for n in range(15, 20))),
    )
    admitted = [(b.label, b.value, b.small, b.folded) for b in bars if b.figure == "people_admitted"]
    assert admitted == [("义诊", "<5", True, 0), ("", "<5", True, 0)]
