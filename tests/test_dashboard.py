"""The dashboard: a street's counts, kept by notify from the services' events, agree with the
services' own tables; it shows no person, and refuses another street's staff."""

from __future__ import annotations

from typing import Any

from services.common.actor import ORGANISER
from services.common.settings import Settings
from services.notify import dashboard_repository
from tests.conftest import GraphQLClient, eventually, token_for
from tests.dashboard_steps import TITLE, street_with_work
from tests.dates import day, day_iso

DASHBOARD = """
query($scope: DashboardScope!, $id: String, $since: Date!, $until: Date!) {
  dashboard(scope: $scope, id: $id, since: $since, until: $until) {
    scope since until rows { figure communityId communityName label value small }
  }
}
"""


async def source_figures(conn: Any, community: str) -> dict[str, int]:
    """Each figure recomputed from the tables of the services that own the facts."""
    row = await conn.fetchrow(
        """
        SELECT
          (SELECT count(*) FROM activities.signups s JOIN activities.sessions se ON se.id = s.session_id
            WHERE se.community_id = $1 AND s.status = 'CONFIRMED') AS signups_confirmed,
          (SELECT coalesce(sum(a.admitted), 0) FROM activities.attendance a
            JOIN activities.signups s ON s.id = a.signup_id
            JOIN activities.sessions se ON se.id = s.session_id
            WHERE se.community_id = $1) AS people_admitted,
          (SELECT coalesce(sum(l.minutes), 0) FROM volunteers.ledger l
            JOIN volunteers.shifts sh ON sh.id = l.shift_id WHERE sh.community_id = $1) AS volunteer_minutes,
          (SELECT count(*) FROM volunteers.wishes WHERE community_id = $1) AS wishes_posted,
          (SELECT count(*) FROM volunteers.wish_claims c JOIN volunteers.wishes w ON w.id = c.wish_id
            WHERE w.community_id = $1) AS wishes_claimed,
          (SELECT count(*) FROM volunteers.wishes
            WHERE community_id = $1 AND met_at IS NOT NULL) AS wishes_met
        """,
        community,
    )
    return {key: int(value) for key, value in row.items()}


async def read_model(conn: Any, community: str, since: int = -1, until: int = 1) -> dict[str, int]:
    rows = await dashboard_repository.counts(conn, [community], day(since), day(until))
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["figure"]] = totals.get(row["figure"], 0) + row["value"]
    return totals


async def test_a_streets_dashboard_agrees_with_the_services_tables_and_names_nobody(
    gql: GraphQLClient, settings: Settings, pool: Any
) -> None:
    made = await street_with_work(gql, settings, pool)
    street, community, organiser, admin = made.street, made.community, made.organiser, made.admin
    signups, resident_id = made.signups, made.resident_id

    async with pool.acquire() as conn:
        truth = await source_figures(conn, community)
    assert truth == {
        "signups_confirmed": 6,
        "people_admitted": 2,
        "volunteer_minutes": truth["volunteer_minutes"],
        "wishes_posted": 2,
        "wishes_claimed": 1,
        "wishes_met": 1,
    }
    assert truth["volunteer_minutes"] > 0

    async def projected() -> dict[str, int] | None:
        async with pool.acquire() as conn:
            kept = await read_model(conn, community)
        return kept if kept == truth else None

    assert await eventually(projected) == truth
    async with pool.acquire() as conn:  # over a long period, whole months come from the roll-up
        assert await read_model(conn, community, -400, 400) == truth

    variables = {"scope": "STREET", "id": street, "since": day_iso(-1), "until": day_iso(1)}
    answer = (await gql.ok(DASHBOARD, variables, organiser))["dashboard"]
    shown = {(r["figure"], r["label"]): (r["value"], r["small"]) for r in answer["rows"]}
    assert shown[("signups_confirmed", TITLE)] == ("6", False)
    assert shown[("people_admitted", TITLE)] == ("<5", True)  # two people could be told apart
    assert shown[("volunteer_minutes", "")] == (str(truth["volunteer_minutes"]), False)
    assert shown[("wishes_posted", "REPAIR")] == ("<5", True)
    assert {r["communityId"] for r in answer["rows"]} == {community}

    # The community's own staff see the same; the city is the platform's.
    variables_community = {**variables, "scope": "COMMUNITY", "id": community}
    assert (await gql.ok(DASHBOARD, variables_community, organiser))["dashboard"]["rows"] == answer["rows"]
    city = (await gql.ok(DASHBOARD, {**variables, "scope": "CITY", "id": None}, admin))["dashboard"]
    assert [r for r in city["rows"] if r["communityId"] == community] == answer["rows"]

    # No name, no phone, no person's id anywhere in the answer.
    text = str(answer)
    for secret in ("13912345678", "1391234", resident_id, "扫帚", *signups):
        assert secret not in text

    # Another street's staff, and the city to a community's staff: refused, nothing shown.
    neighbour = token_for(settings, "neighbour-staff", {ORGANISER}, {"someone-elses-community"})
    assert await gql.error_code(DASHBOARD, variables, neighbour) == "FORBIDDEN"
    assert await gql.error_code(DASHBOARD, variables_community, neighbour) == "FORBIDDEN"
    assert await gql.error_code(DASHBOARD, {**variables, "scope": "CITY"}, organiser) == "FORBIDDEN"
    backwards = {**variables, "since": day_iso(1), "until": day_iso(-1)}
    assert await gql.error_code(DASHBOARD, backwards, organiser) == "BAD_USER_INPUT"
