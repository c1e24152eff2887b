"""三张清单 stories: a partner unit claims a project item, completes it, and the quarterly report
for the joint meeting counts it, then counts it closed (销号); a shared item is done only when every
unit's part is; another community's organiser cannot close or report."""

from __future__ import annotations

from datetime import date

from services.common.actor import ORGANISER, RESIDENT
from services.common.settings import Settings
from services.volunteers import lists
from services.volunteers.lists import ClaimLine
from tests.conftest import COMMUNITY, GraphQLClient, token_for
from tests.council_steps import key, property_company, staff
from tests.dates import day, day_iso

PUBLISH = """
mutation($input: PublishListItemInput!) { publishListItem(input: $input) { id kind status statusWords } }
"""
CLAIM = """
mutation($input: ClaimProjectItemInput!) {
  claimProjectItem(input: $input) { id status claims { partnerName part } }
}
"""
COMPLETE = (
    "mutation($id: ID!, $n: String!) { completeClaim(itemId: $id, note: $n) { id status statusWords } }"
)
CLOSE = "mutation($id: ID!) { closeListItem(itemId: $id) { id status statusWords } }"
REPORT = """
query($c: String!, $y: Int!, $q: Int!, $p: ID) {
  quarterlyReport(communityId: $c, year: $y, quarter: $q, partnerId: $p) {
    lines { partner claimed done overdue closed } csv
  }
}
"""
LISTS = """
query($c: String!) {
  communityLists(communityId: $c) { resources { title } needs { title } projects { id title status } }
}
"""


def this_quarter() -> tuple[int, int]:
    today = day(0)
    return today.year, (today.month - 1) // 3 + 1


async def project(gql: GraphQLClient, organiser: str, title: str) -> str:
    item = {
        "communityId": COMMUNITY,
        "kind": "PROJECT",
        "title": title,
        "dueOn": day_iso(30),
        "idempotencyKey": key(),
    }
    made = await gql.ok(PUBLISH, {"input": item}, organiser)
    assert made["publishListItem"]["statusWords"] == "待认领"
    item_id: str = made["publishListItem"]["id"]
    return item_id


async def test_a_partner_unit_claims_a_project_item_completes_it_and_the_quarter_closes_it(
    gql: GraphQLClient, settings: Settings
) -> None:
    _, organiser = staff(settings, ORGANISER)
    member = staff(settings, RESIDENT)
    partner = await property_company(gql, organiser, member)
    item_id = await project(gql, organiser, "为3号楼老人安装扶手")
    resource = {
        "communityId": COMMUNITY,
        "kind": "RESOURCE",
        "title": "物业维修班组每周二义务维修",
        "idempotencyKey": key(),
    }
    assert (await gql.ok(PUBLISH, {"input": resource}, member[1]))["publishListItem"]["kind"] == "RESOURCE"
    listed = (await gql.ok(LISTS, {"c": COMMUNITY}, member[1]))["communityLists"]
    assert "物业维修班组每周二义务维修" in [r["title"] for r in listed["resources"]]
    assert item_id in [p["id"] for p in listed["projects"]]

    claimed = await gql.ok(CLAIM, {"input": {"itemId": item_id}}, member[1])
    assert claimed["claimProjectItem"]["claims"] == [{"partnerName": partner["name"], "part": ""}]
    not_done = await gql.raw(CLOSE, {"id": item_id}, organiser)
    assert not_done["errors"][0]["extensions"]["code"] == "ITEM_WRONG_STATE"
    done = await gql.ok(COMPLETE, {"id": item_id, "n": "扶手已装好"}, member[1])
    assert done["completeClaim"]["statusWords"] == "已完成"

    year, quarter = this_quarter()
    variables = {"c": COMMUNITY, "y": year, "q": quarter, "p": partner["id"]}
    report = (await gql.ok(REPORT, variables, organiser))["quarterlyReport"]
    assert report["lines"][0] == {
        "partner": partner["name"],
        "claimed": 1,
        "done": 1,
        "overdue": 0,
        "closed": 0,
    }
    assert report["csv"].splitlines()[0] == "共建单位,认领,完成,逾期,销号"

    closed = await gql.ok(CLOSE, {"id": item_id}, organiser)
    assert closed["closeListItem"]["statusWords"] == "已销号"
    report = (await gql.ok(REPORT, variables, organiser))["quarterlyReport"]
    assert report["lines"][0]["closed"] == 1
    assert f"{partner['name']},1,1,0,1" in report["csv"]

    other = token_for(settings, "org-xiyuan", {ORGANISER}, {"lingwu-xiyuan"})
    assert await gql.error_code(REPORT, variables, other) == "FORBIDDEN"
    assert await gql.error_code(CLOSE, {"id": item_id}, other) == "FORBIDDEN"
    assert await gql.error_code(LISTS, {"c": COMMUNITY}, other) == "FORBIDDEN"
    project_elsewhere = {
        "communityId": COMMUNITY,
        "kind": "PROJECT",
        "title": "越界",
        "idempotencyKey": key(),
    }
    assert await gql.error_code(PUBLISH, {"input": project_elsewhere}, other) == "FORBIDDEN"


async def test_a_shared_item_is_done_when_every_units_part_is(gql: GraphQLClient, settings: Settings) -> None:
    _, organiser = staff(settings, ORGANISER)
    first, second = staff(settings, RESIDENT), staff(settings, RESIDENT)
    await property_company(gql, organiser, first)
    await property_company(gql, organiser, second)
    item_id = await project(gql, organiser, "楼道粉刷")
    await gql.ok(CLAIM, {"input": {"itemId": item_id, "part": "出材料"}}, first[1])
    shared = await gql.ok(CLAIM, {"input": {"itemId": item_id, "part": "出人工"}}, second[1])
    assert [c["part"] for c in shared["claimProjectItem"]["claims"]] == ["出材料", "出人工"]
    half = await gql.ok(COMPLETE, {"id": item_id, "n": "材料已送到"}, first[1])
    assert half["completeClaim"]["status"] == "CLAIMED"
    whole = await gql.ok(COMPLETE, {"id": item_id, "n": "粉刷完成"}, second[1])
    assert whole["completeClaim"]["status"] == "DONE"
    outsider = staff(settings, RESIDENT)
    assert await gql.error_code(COMPLETE, {"id": item_id, "n": "冒领"}, outsider[1]) == "FORBIDDEN"


def test_the_quarterly_report_counts_claims_of_the_quarter_per_unit() -> None:
    q4 = [
        ClaimLine("朔方物业", date(2026, 10, 3), date(2026, 11, 1), date(2026, 10, 20), True),
        ClaimLine("朔方物业", date(2026, 11, 3), date(2026, 11, 10), None, False),  # overdue
        ClaimLine("市税务局", date(2026, 12, 1), date(2027, 1, 15), None, False),  # not due yet
        ClaimLine("市税务局", date(2026, 9, 30), None, date(2026, 10, 2), False),  # last quarter
    ]
    rows = lists.quarterly_report(q4, 2026, 4, date(2026, 12, 20))
    assert [(r.partner, r.claimed, r.done, r.overdue, r.closed) for r in rows] == [
        ("市税务局", 1, 0, 0, 0),
        ("朔方物业", 2, 1, 1, 1),
        ("全部", 3, 1, 1, 1),
    ]
    assert lists.quarter_bounds(2026, 4) == (date(2026, 10, 1), date(2027, 1, 1))
    assert lists.status_after_claims([]) is lists.ItemStatus.OPEN
    assert lists.status_after_claims([True, False]) is lists.ItemStatus.CLAIMED
