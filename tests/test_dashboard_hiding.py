"""A street where one community has three sign-ups for an activity and the other ten: its
dashboard shows "<5" for the three, and nothing beside it (the activity's bar, the other
community's row, the lines and their totals) lets anyone subtract their way back to it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from services.common.actor import ORGANISER
from services.common.settings import Settings
from tests.conftest import GraphQLClient, eventually, token_for
from tests.dashboard_steps import THREE_AND_TEN, three_beside_ten
from tests.dates import day_iso

TITLE = THREE_AND_TEN
DASHBOARD = """
query($id: String, $since: Date!, $until: Date!) {
  dashboard(scope: STREET, id: $id, since: $since, until: $until) {
    rows { figure communityId label value small hidden }
    totals { figure label value small hidden folded }
    series { starts lines { figure communityId total values } }
  }
}
"""
HIDDEN = ("<5", "—")


def exposed(answer: dict[str, Any], figure: str) -> list[str]:
    """Every sum of ``figure`` in the answer shown beside its parts with exactly one of them
    hidden (the sum less the shown parts would give it), in words; none is what is wanted."""
    rows = [r for r in answer["rows"] if r["figure"] == figure]
    bars = [b for b in answer["totals"] if b["figure"] == figure]
    lines = [line for line in answer["series"]["lines"] if line["figure"] == figure]
    groups: list[tuple[str, list[str]]] = []
    for bar in bars:
        if not bar["folded"]:
            groups.append(
                (
                    f"bar {bar['label']}",
                    [bar["value"], *(r["value"] for r in rows if r["label"] == bar["label"])],
                )
            )
    per_community: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        per_community[row["communityId"]].append(row["value"])
    scope = next((line for line in lines if line["communityId"] is None), None)
    if scope is not None:
        places = [line for line in lines if line["communityId"]]
        groups.append(("scope's total, bars", [scope["total"], *(b["value"] for b in bars)]))
        groups.append(("scope's total, communities", [scope["total"], *(p["total"] for p in places)]))
        for i in range(len(answer["series"]["starts"])):
            groups.append((f"step {i}", [scope["values"][i], *(p["values"][i] for p in places)]))
        for line in [scope, *places]:
            groups.append((f"line {line['communityId']}", [line["total"], *line["values"]]))
        for place in places:
            groups.append(
                (f"{place['communityId']}'s rows", [place["total"], *per_community[place["communityId"]]])
            )
    return [name for name, cells in groups if sum(1 for c in cells if c in HIDDEN) == 1]


async def test_three_sign_ups_beside_ten_cannot_be_worked_out_from_any_sum(
    gql: GraphQLClient, settings: Settings
) -> None:
    street, few, many = await three_beside_ten(gql, settings)
    staff = token_for(settings, "street-staff", {ORGANISER}, {few, many})
    variables = {"id": street, "since": day_iso(-1), "until": day_iso(1)}

    async def counted() -> dict[str, Any] | None:  # all thirteen sign-ups, per session too
        found = (await gql.ok(DASHBOARD, variables, staff))["dashboard"]
        bars = {(b["figure"], b["label"]): b["value"] for b in found["totals"]}
        done = (
            bars.get(("signups_confirmed", TITLE)) == "13"
            and bars.get(("people_by_age_band", "unknown")) == "13"
        )
        return found if done else None

    answer = await eventually(counted)
    assert answer, "the sign-ups never reached the dashboard"
    row = {(r["figure"], r["communityId"]): r for r in answer["rows"] if r["label"] == TITLE}
    three = row[("signups_confirmed", few)]
    assert (three["value"], three["small"], three["hidden"]) == ("<5", True, True)
    # the ten beside the three reads neither 10 nor "<5": hidden, so the bar less it gives nothing
    ten = row[("signups_confirmed", many)]
    assert (ten["value"], ten["small"], ten["hidden"]) == ("—", False, True)
    bar = next(b for b in answer["totals"] if (b["figure"], b["label"]) == ("signups_confirmed", TITLE))
    assert bar["value"] == "13" and not bar["hidden"]  # the sum is shown: both its parts are hidden
    lines = {(line["figure"], line["communityId"]): line for line in answer["series"]["lines"]}
    assert lines[("signups_confirmed", few)]["total"] == "<5"
    assert lines[("signups_confirmed", many)]["total"] == "—"  # else 13 - 10 = 3
    assert lines[("signups_confirmed", None)]["total"] == "13"
    assert "10" not in lines[("signups_confirmed", many)]["values"]  # the day's 10 beside the day's 13
    assert "3" not in [v for line in answer["series"]["lines"] for v in line["values"] + [line["total"]]]
    for figure in {r["figure"] for r in answer["rows"]} | {b["figure"] for b in answer["totals"]}:
        assert exposed(answer, figure) == [], figure
    # per session: the people signed up per category and per age band hide alike
    for figure in ("signed_up_by_category", "people_by_age_band"):
        values = sorted(r["value"] for r in answer["rows"] if r["figure"] == figure)
        assert values == ["<5", "—"], figure
