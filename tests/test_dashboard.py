"""The dashboard: a street's year in counts, kept by notify from the services' events, agrees
with the services' own tables; shows no person; refuses another street's staff."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.common.actor import ORGANISER, RESIDENT, SCANNER, VOLUNTEER, Actor
from services.common.ids import new_id
from services.common.settings import Settings
from services.notify import dashboard_repository
from services.volunteers import codes, domain, handlers
from services.volunteers import repository as volunteers_repo
from tests.conftest import GraphQLClient, eventually, token_for
from tests.dates import day, day_iso
from tests.door_steps import ADMIT
from tests.test_directory import add_community, add_street, platform
from tests.test_door import admit
from tests.test_wishes import CONFIRM, FINISH, START, claim, on_the_wall, post_wish
from tests.ticket_steps import schedule_at, sign_up

DASHBOARD = """
query($scope: DashboardScope!, $id: String, $since: Date!, $until: Date!) {
  dashboard(scope: $scope, id: $id, since: $since, until: $until) {
    scope since until rows { figure communityId communityName label value small }
  }
}
"""
TITLE = "亲子手工"


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


async def read_model(conn: Any, community: str) -> dict[str, int]:
    rows = await dashboard_repository.counts(conn, [community], day(-1), day(1))
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["figure"]] = totals.get(row["figure"], 0) + row["value"]
    return totals


async def volunteer_served(pool: Any, settings: Settings, community: str, minutes: int) -> None:
    """A volunteer checked in ``minutes`` ago to a shift under way, checks out now."""
    started = datetime.now(UTC) - timedelta(minutes=minutes)
    person = f"volunteer-{uuid.uuid4().hex[:8]}"
    async with pool.acquire() as conn:
        venue = f"街道广场 {uuid.uuid4().hex[:6]}"
        plan = domain.ShiftPlan(community, venue, "引导员", started, started + timedelta(hours=3), 10)
        shift = await volunteers_repo.insert_shift(conn, new_id(), plan, codes.venue_key(venue), "organiser")
        await volunteers_repo.insert_signup(conn, new_id(), shift["id"], person, uuid.uuid4().hex)
        await volunteers_repo.insert_check_in(
            conn, new_id(), shift["id"], person, domain.CheckInMethod.STATION, person, started
        )
    volunteer = Actor(person, frozenset({VOLUNTEER}), frozenset())
    await handlers.check_out({"pool": pool, "settings": settings}, volunteer, {"shift_id": str(shift["id"])})


async def test_a_streets_dashboard_agrees_with_the_services_tables_and_names_nobody(
    gql: GraphQLClient, settings: Settings, pool: Any
) -> None:
    admin = platform(settings)
    street = await add_street(gql, admin, f"仪表街道{uuid.uuid4().hex[:4]}")
    community = await add_community(gql, admin, f"仪表社区{uuid.uuid4().hex[:4]}", street)
    other_street = await add_street(gql, admin, f"邻街道{uuid.uuid4().hex[:4]}")
    await add_community(gql, admin, f"邻社区{uuid.uuid4().hex[:4]}", other_street)
    organiser = token_for(settings, "dash-organiser", {ORGANISER}, {community})

    # Six residents sign up; two come through the door.
    session_id = await schedule_at(gql, organiser, timedelta(minutes=20), title=TITLE, community=community)
    signups = []
    for _ in range(6):
        resident = token_for(settings, f"resident-{uuid.uuid4().hex[:8]}", {RESIDENT}, {community})
        signups.append((await sign_up(gql, resident, session_id))["id"])
    scanner = token_for(settings, "dash-scanner", {SCANNER}, {community})
    for signup_id in signups[:2]:
        await gql.ok(ADMIT, admit(session_id, signup_id, 1), scanner)

    # A volunteer serves an hour and a half; a resident posts two wishes, one of them met.
    await volunteer_served(pool, settings, community, 90)
    resident_id = f"resident-{uuid.uuid4().hex[:8]}"
    resident = token_for(settings, resident_id, {RESIDENT}, {community})
    await post_wish(gql, resident, community, "想要一把新扫帚，电话13912345678")
    wish_id = await on_the_wall(gql, resident, organiser, community)
    helper = token_for(settings, f"helper-{uuid.uuid4().hex[:8]}", {VOLUNTEER}, {community})
    assert (await claim(gql, helper, wish_id))["data"]["claimWish"]["status"] == "CLAIMED"
    await gql.ok(START, {"id": wish_id}, helper)
    await gql.ok(FINISH, {"input": {"wishId": wish_id, "note": "修好了"}}, helper)
    await gql.ok(CONFIRM, {"id": wish_id}, resident)

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
