"""The dashboard: a street's counts, kept by notify from the services' events, agree with the
services' own tables; it shows no person, and refuses another street's staff."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.cli import main as linli
from services.common.actor import ORGANISER
from services.common.settings import Settings
from services.notify import dashboard, dashboard_rebuild, dashboard_repository
from services.notify.disclosure import HIDDEN
from tests.conftest import GraphQLClient, eventually, token_for
from tests.dashboard_steps import TITLE, more_work, street_with_work
from tests.dates import day, day_iso

DASHBOARD = """
query($scope: DashboardScope!, $id: String, $since: Date!, $until: Date!) {
  dashboard(scope: $scope, id: $id, since: $since, until: $until) {
    scope since until medianDaysToMet rows { figure communityId communityName label value small }
  }
}
"""
FIRST_FIGURES = (
    "signups_confirmed",
    "people_admitted",
    "volunteer_minutes",
    "wishes_posted",
    "wishes_claimed",
    "wishes_met",
)


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
        if row["figure"] in FIRST_FIGURES:
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
    # In the city the same rows, but a count may be hidden there too: other communities' rows for
    # the same activity make more sums to keep a "<5" from being worked out of (disclosure.py).
    in_city = [r for r in city["rows"] if r["communityId"] == community]
    assert [(r["figure"], r["label"]) for r in in_city] == [(r["figure"], r["label"]) for r in answer["rows"]]
    for in_the_city, in_the_street in zip(in_city, answer["rows"], strict=True):
        assert in_the_city["value"] in (in_the_street["value"], HIDDEN), (in_the_city, in_the_street)

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


# Every figure recomputed from the tables of the services that own the facts, per label, for a
# community, as of ``at`` (sessions over by then count their no-shows).
_SOURCE = """
SELECT 'signed_up' AS what, a.category, coalesce(CASE WHEN v.kind = 'STATION' THEN v.name END, '') AS station,
       s.id AS session, (s.ends_at <= $2) AS over, coalesce(sum(g.party_size), 0) AS n
FROM activities.sessions s JOIN activities.activities a ON a.id = s.activity_id
LEFT JOIN activities.venues v ON v.id = s.venue_id
JOIN activities.signups g ON g.session_id = s.id AND g.status = 'CONFIRMED'
WHERE s.community_id = $1 GROUP BY 1, 2, 3, 4, 5
UNION ALL
SELECT 'admitted', a.category, coalesce(CASE WHEN v.kind = 'STATION' THEN v.name END, ''),
       s.id, (s.ends_at <= $2), sum(t.admitted)
FROM activities.sessions s JOIN activities.activities a ON a.id = s.activity_id
LEFT JOIN activities.venues v ON v.id = s.venue_id
JOIN activities.signups g ON g.session_id = s.id JOIN activities.attendance t ON t.signup_id = g.id
WHERE s.community_id = $1 GROUP BY 1, 2, 3, 4, 5
"""


async def source_all(conn: Any, community: str, at: datetime) -> dict[tuple[str, str], int]:
    figures: dict[tuple[str, str], int] = {}

    def add(figure: str, label: str, value: int) -> None:
        figures[(figure, label)] = figures.get((figure, label), 0) + int(value)

    for name, value in (await source_figures(conn, community)).items():
        add(name, "", value)
    per_session: dict[str, dict[str, Any]] = {}
    for row in await conn.fetch(_SOURCE, community, at):
        session = per_session.setdefault(
            str(row["session"]),
            {"category": row["category"], "station": row["station"], "over": row["over"]},
        )
        session[row["what"]] = int(row["n"])
    for session in per_session.values():
        signed_up, admitted = session.get("signed_up", 0), session.get("admitted", 0)
        no_shows = max(signed_up - admitted, 0) if session["over"] else 0
        add("signed_up_by_category", session["category"], signed_up)
        add("admitted_by_category", session["category"], admitted)
        add("no_shows_by_category", session["category"], no_shows)
        if session["station"]:
            add("signed_up_by_station", session["station"], signed_up)
            add("admitted_by_station", session["station"], admitted)
            add("no_shows_by_station", session["station"], no_shows)
    bands = {"CHILD": "<18", "TEEN": "<18", "ADULT": "18-59", "SENIOR": "60-79", "ELDER": "80+"}
    for row in await conn.fetch(
        "SELECT g.party_size, g.attendees FROM activities.signups g JOIN activities.sessions s "
        "ON s.id = g.session_id WHERE s.community_id = $1 AND g.status = 'CONFIRMED'",
        community,
    ):
        attendees = json.loads(row["attendees"]) if isinstance(row["attendees"], str) else row["attendees"]
        for attendee in attendees:
            add("people_by_age_band", bands[attendee["age_band"]], 1)
        add("people_by_age_band", "unknown", row["party_size"] - len(attendees))
    ledger = (
        "FROM volunteers.ledger l JOIN volunteers.shifts sh ON sh.id = l.shift_id "
        "{} WHERE sh.community_id = $1 GROUP BY 1"
    )
    for row in await conn.fetch(
        "SELECT pm.work_unit, sum(l.minutes) "
        + ledger.format("JOIN volunteers.party_members pm ON pm.volunteer_id = l.volunteer_id"),
        community,
    ):
        add("party_member_minutes", row[0], row[1])
    partners = (
        "JOIN volunteers.partner_members m ON m.volunteer_id = l.volunteer_id "
        "JOIN volunteers.partner_organisations o ON o.id = m.organisation_id"
    )
    for row in await conn.fetch("SELECT o.name, sum(l.minutes) " + ledger.format(partners), community):
        add("partner_minutes", row[0], row[1])
    for row in await conn.fetch(
        "SELECT (met_at AT TIME ZONE 'Asia/Shanghai')::date "
        "- (created_at AT TIME ZONE 'Asia/Shanghai')::date, count(*) FROM volunteers.wishes "
        "WHERE community_id = $1 AND met_at IS NOT NULL GROUP BY 1",
        community,
    ):
        add("wish_days_to_met", str(row[0]), row[1])
    for row in await conn.fetch(
        "SELECT o.name, count(*), count(*) FILTER (WHERE i.status = 'CLOSED') FROM volunteers.item_claims c "
        "JOIN volunteers.list_items i ON i.id = c.item_id "
        "JOIN volunteers.partner_organisations o ON o.id = c.partner_id WHERE i.community_id = $1 GROUP BY 1",
        community,
    ):
        add("items_claimed", row[0], row[1])
        add("items_closed", row[0], row[2])
    concerns = await conn.fetchrow(
        "SELECT count(*), count(*) FILTER (WHERE status IN ('HANDLED', 'DONE', 'RATED')) "
        "FROM volunteers.concerns WHERE community_id = $1",
        community,
    )
    add("concerns_raised", "", concerns[0])
    add("concerns_resolved", "", concerns[1])
    return {key: value for key, value in figures.items() if value}


async def read_all(conn: Any, community: str, at: datetime) -> dict[tuple[str, str], int]:
    """Every figure as the read model keeps it over a long period, labels summed over days (the
    first figures' labels, activities' titles, folded into one total as source_figures counts)."""
    figures: dict[tuple[str, str], int] = {}
    for row in await dashboard_repository.counts(conn, [community], day(-400), day(400)):
        label = "" if row["figure"] in FIRST_FIGURES else row["label"]
        figures[(row["figure"], label)] = figures.get((row["figure"], label), 0) + row["value"]
    totals = await dashboard_repository.session_totals(conn, [community], day(-400), day(400), at)
    for _, figure, label, value in dashboard.session_figures(totals):
        figures[(figure, label)] = figures.get((figure, label), 0) + value
    return {key: value for key, value in figures.items() if value}


async def test_every_figure_agrees_with_the_services_tables_and_a_rebuild_gives_the_same(
    gql: GraphQLClient,
    settings: Settings,
    pool: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = await street_with_work(gql, settings, pool)
    more = await more_work(gql, settings, pool, made)
    community = made.community
    later = datetime.now(UTC) + timedelta(hours=4)  # every session is over by then

    async with pool.acquire() as conn:
        truth = await source_all(conn, community, later)
    # what the seeding did, as the tables say it
    assert truth[("signed_up_by_station", more.station)] == 4  # a family of three and a neighbour
    assert truth[("admitted_by_station", more.station)] == 2
    assert truth[("no_shows_by_station", more.station)] == 2
    assert truth[("signed_up_by_category", "文体")] == 4
    # the first session, moved to the second station: six signed up, two came
    assert [truth[(f"{f}_by_station", more.moved_to)] for f in ("signed_up", "admitted", "no_shows")] == [
        6,
        2,
        4,
    ]
    assert truth[("no_shows_by_category", "")] == 4  # the first session: six signed up, two came
    assert (truth[("people_by_age_band", "<18")], truth[("people_by_age_band", "80+")]) == (1, 1)
    assert truth[("people_by_age_band", "unknown")] == 8  # six singles, the mother, the neighbour
    assert truth[("party_member_minutes", more.work_unit)] == 90  # an hour, corrected by half an hour
    assert truth[("partner_minutes", more.partner)] == 90
    assert (truth[("items_claimed", more.partner)], truth[("items_closed", more.partner)]) == (2, 1)
    assert (truth[("concerns_raised", "")], truth[("concerns_resolved", "")]) == (2, 1)
    assert truth[("wish_days_to_met", "0")] == 1

    async def projected() -> dict[tuple[str, str], int] | None:
        async with pool.acquire() as conn:
            kept = await read_all(conn, community, later)
        return kept if kept == truth else None

    assert await eventually(projected) == truth

    # The rebuild from the tables (the operator's command) gives the same read model, and again.
    monkeypatch.setenv("DATABASE_URL", settings.database_url or "")
    monkeypatch.setenv("REDIS_URL", settings.redis_url or "")
    assert await asyncio.to_thread(linli, ["dashboard-rebuild", "--community", community]) == 0
    assert f"dashboard rebuilt for {community}" in capsys.readouterr().out
    async with pool.acquire() as conn:
        assert await read_all(conn, community, later) == truth
        async with conn.transaction():
            await dashboard_rebuild.rebuild(conn, [community])
        assert await read_all(conn, community, later) == truth

    variables = {"scope": "STREET", "id": made.street, "since": day_iso(-1), "until": day_iso(1)}
    answer = (await gql.ok(DASHBOARD, variables, made.organiser))["dashboard"]
    shown = {(r["figure"], r["label"]): (r["value"], r["small"]) for r in answer["rows"]}
    assert shown[("signed_up_by_station", more.station)] == ("<5", True)
    assert shown[("people_by_age_band", "unknown")] == ("8", False)
    assert shown[("party_member_minutes", more.work_unit)] == ("90", False)  # minutes: not a head count
    assert shown[("items_closed", more.partner)] == ("<5", True)
    assert shown[("wishes_median_days_to_met", "")] == ("0", False)
    assert answer["medianDaysToMet"] == 0
    assert ("wish_days_to_met", "0") not in shown  # the histogram itself is not shown
    assert ("no_shows_by_station", more.station) not in shown  # the session is not over yet
    text = str(answer)
    for secret in (*more.names, "13912345678", made.resident_id, *made.signups):
        assert secret not in text


async def test_a_moved_sessions_newest_facts_win_whatever_order_its_events_are_handled_in(pool: Any) -> None:
    session = str(uuid.uuid4())
    community = f"moved-{uuid.uuid4().hex[:6]}"
    planned = datetime.now(UTC).replace(microsecond=0)
    first = dashboard.SessionFacts(day(3), planned, "文体", "东驿家", planned - timedelta(days=9))
    moved = dashboard.SessionFacts(day(5), planned, "文体", "西驿家", planned - timedelta(days=1))
    ages = (0, 0, 0, 0, 2)
    async with pool.acquire() as conn:
        # the move's event handled first, then a sign-up's sent before the move
        await dashboard_repository.add_session_changes(
            conn, [dashboard.SessionChange(session, community, moved)]
        )
        await dashboard_repository.add_session_changes(
            conn, [dashboard.SessionChange(session, community, first, seats=2, ages=ages)]
        )
        [kept] = await dashboard_repository.session_totals(conn, [community], day(0), day(10), planned)
        assert (kept.station, kept.signed_up, kept.ages) == ("西驿家", 2, ages)
        assert await dashboard_repository.session_totals(conn, [community], day(3), day(3), planned) == []
