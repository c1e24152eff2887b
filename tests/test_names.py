"""Names, never ids, where staff and residents look: every type that carries a community says
its name, and a shift's roster names its volunteers (with a masked phone) — through the API."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

import httpx
from arq.connections import ArqRedis

from services.common.actor import GRID_WORKER
from services.common.settings import Settings
from tests.conftest import COMMUNITY, GraphQLClient
from tests.dates import day_iso
from tests.identity_steps import new_phone
from tests.party_steps import (
    approved_party_member,
    days_ahead_shift,
    elder_with_a_phone,
    person,
    shift_starting,
    signed_up,
)
from tests.test_volunteers_report import check_in, new_shift, shift_ran_earlier_today, sign_up, sweep

ROSTER = """
query($id: ID!) { shiftRoster(shiftId: $id) { volunteerId name phone } }
"""
UPDATE_PROFILE = """
mutation($input: UpdateVolunteerProfileInput!) {
  updateVolunteerProfile(input: $input) { communityId communityName displayName }
}
"""
MY_PROFILE = """
{ myVolunteerProfile { communityId communityName partyMember { communityId communityName } } }
"""
PARTY_MEMBERS = """query($c: String!, $limit: Int! = 200, $after: ID) {
  partyMembers(communityId: $c, limit: $limit, after: $after) { volunteerId communityName } }"""
PARTNER = """
mutation($input: CreatePartnerOrganisationInput!) {
  createPartnerOrganisation(input: $input) { communityId communityName name }
}
"""
RESIDENT_BY_PHONE = """
mutation($input: ResidentByPhoneInput!) { residentByPhone(input: $input) { communityId communityName } }
"""
FESTIVAL = "mutation($input: CreateFestivalInput!) { createFestival(input: $input) { id } }"
SHIFT = "mutation($input: CreateShiftInput!) { createShift(input: $input) { id } }"
NO_SHOWS = """query($c: String!, $limit: Int! = 200, $after: ID) {
  volunteerNoShows(communityId: $c, limit: $limit, after: $after) { volunteerId name phone } }"""
FORGOTTEN = """query($c: String!, $limit: Int! = 200, $after: ID) {
  forgottenCheckOuts(communityId: $c, limit: $limit, after: $after) { checkInId volunteerId name phone } }"""
REPORT = """
query($c: String!, $unit: String!, $from: Date!, $to: Date!) {
  partyMemberReport(communityId: $c, workUnit: $unit, startsOn: $from, endsOn: $to) {
    communityName members { volunteerId communityName shifts { communityName } }
  }
}
"""


async def test_a_shifts_roster_names_each_volunteer_with_a_masked_phone_never_an_id(
    gql: GraphQLClient, settings: Settings, organiser_token: str
) -> None:
    shift = await shift_starting(gql, organiser_token, *days_ahead_shift(3))
    # 赵淑兰, whom the desk registered with her phone; 刘建华, a party member by his 双报到;
    # 马晓东, by his volunteer profile; and someone who gave no name at all.
    phone = new_phone()
    zhao_id, zhao = await elder_with_a_phone(gql, settings, phone)
    liu_id, liu = person(settings)
    await approved_party_member(gql, liu, organiser_token)
    ma_id, ma = person(settings)
    await gql.ok(UPDATE_PROFILE, {"input": {"communityId": COMMUNITY, "displayName": "马晓东"}}, ma)
    nobody_id, nobody = person(settings)
    for token in (zhao, liu, ma):
        await signed_up(gql, token, shift["id"])

    roster = (await gql.ok(ROSTER, {"id": shift["id"]}, organiser_token))["shiftRoster"]
    assert {e["volunteerId"]: (e["name"], e["phone"]) for e in roster} == {
        zhao_id: ("赵淑兰", f"{phone[:3]}****{phone[-4:]}"),
        liu_id: ("刘建华", None),
        ma_id: ("马晓东", None),
    }
    assert phone not in json.dumps(roster)
    # Volunteers do not read the roster.
    assert await gql.error_code(ROSTER, {"id": shift["id"]}, nobody) == "FORBIDDEN"

    # One who never gave a name is on the roster without one (the console says 未填姓名).
    other = await shift_starting(gql, organiser_token, *days_ahead_shift(4))
    await signed_up(gql, nobody, other["id"])
    alone = (await gql.ok(ROSTER, {"id": other["id"]}, organiser_token))["shiftRoster"]
    assert alone == [{"volunteerId": nobody_id, "name": None, "phone": None}]


async def test_every_type_that_carries_a_community_names_it(
    gql: GraphQLClient, client: httpx.AsyncClient, settings: Settings, organiser_token: str
) -> None:
    unit = f"市税务局 {uuid.uuid4().hex[:6]}"
    member_id, member = person(settings)
    await approved_party_member(gql, member, organiser_token, "刘建华", unit)

    # A party member, as the organiser lists them and as they see themself.
    listed = await gql.every(PARTY_MEMBERS, {"c": COMMUNITY}, organiser_token, "volunteerId")
    assert {"volunteerId": member_id, "communityName": "朔方社区"} in listed
    mine = (await gql.ok(MY_PROFILE, token=member))["myVolunteerProfile"]
    assert mine["partyMember"] == {"communityId": COMMUNITY, "communityName": "朔方社区"}
    # Without a volunteer profile of their own there is no community to name; with one there is.
    assert (mine["communityId"] is None) == (mine["communityName"] is None)
    profile = await gql.ok(UPDATE_PROFILE, {"input": {"communityId": COMMUNITY}}, member)
    assert profile["updateVolunteerProfile"]["communityName"] == "朔方社区"

    # A partner organisation (共建单位) of the community.
    partner = {"communityId": COMMUNITY, "name": f"灵武供电所{unit[-6:]}", "idempotencyKey": uuid.uuid4().hex}
    made = (await gql.ok(PARTNER, {"input": partner}, organiser_token))["createPartnerOrganisation"]
    assert made["communityName"] == "朔方社区"

    # A resident as the desk sees them.
    _, desk = person(settings, GRID_WORKER)
    found = await gql.ok(
        RESIDENT_BY_PHONE,
        {
            "input": {
                "communityId": COMMUNITY,
                "name": "王秀兰",
                "phone": new_phone(),
                "building": "2号楼",
                "unit": "3单元",
                "register": True,
                "privacyNoticeExplained": True,
            }
        },
        desk,
    )
    assert found["residentByPhone"] == {"communityId": COMMUNITY, "communityName": "朔方社区"}

    # The 双报告: the report, each member and each of their shifts (one for a festival).
    festival_name = f"幸福邻里节 {unit[-6:]}"
    festival = {
        "name": festival_name,
        "communityIds": [COMMUNITY],
        "startsOn": day_iso(1),
        "endsOn": day_iso(3),
        "idempotencyKey": uuid.uuid4().hex,
    }
    festival_id = (await gql.ok(FESTIVAL, {"input": festival}, organiser_token))["createFestival"]["id"]
    starts, ends = days_ahead_shift(2)
    plan = {
        "communityId": COMMUNITY,
        "festivalId": festival_id,
        "venue": f"朔方社区邻里驿家 {unit[-6:]}",
        "role": "引导员",
        "startsAt": starts,
        "endsAt": ends,
        "headcount": 3,
    }
    shift = (await gql.ok(SHIFT, {"input": plan}, organiser_token))["createShift"]
    await signed_up(gql, member, shift["id"])
    period = {"c": COMMUNITY, "unit": unit, "from": day_iso(0), "to": day_iso(5)}
    report = (await gql.ok(REPORT, period, organiser_token))["partyMemberReport"]
    assert report == {
        "communityName": "朔方社区",
        "members": [
            {"volunteerId": member_id, "communityName": "朔方社区", "shifts": [{"communityName": "朔方社区"}]}
        ],
    }
    # The same as the work unit reads it, on paper: the community and the festival by name.
    params = {"communityId": COMMUNITY, "workUnit": unit, "startsOn": period["from"], "endsOn": period["to"]}
    auth = {"Authorization": f"Bearer {organiser_token}"}
    sheet = await client.get("/exports/volunteers/party-report.csv", params=params, headers=auth)
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert [(row[2], row[8]) for row in rows[2:3]] == [("朔方社区", festival_name)]
    assert COMMUNITY not in sheet.text and festival_id not in sheet.text
    page = await client.get("/reports/volunteers/party-report.html", params=params, headers=auth)
    assert "社区（盖章）：朔方社区" in page.text and COMMUNITY not in page.text


async def test_no_shows_and_forgotten_check_outs_name_the_volunteer(
    gql: GraphQLClient, settings: Settings, organiser_token: str, pool: Any, redis: ArqRedis
) -> None:
    duty = await new_shift(gql, organiser_token)
    absent_id, absent = person(settings)
    await gql.ok(UPDATE_PROFILE, {"input": {"communityId": COMMUNITY, "displayName": "马晓东"}}, absent)
    phone = new_phone()
    forgetful_id, forgetful = await elder_with_a_phone(gql, settings, phone)
    for token in (absent, forgetful):
        await sign_up(gql, token, duty["id"])
    await check_in(gql, forgetful, organiser_token, duty)  # 赵淑兰 comes and forgets to check out
    await shift_ran_earlier_today(pool, duty["id"])
    await sweep(redis, settings)

    no_shows = await gql.every(NO_SHOWS, {"c": COMMUNITY}, organiser_token, "volunteerId")
    assert [(n["name"], n["phone"]) for n in no_shows if n["volunteerId"] == absent_id] == [("马晓东", None)]
    forgotten = await gql.every(FORGOTTEN, {"c": COMMUNITY}, organiser_token, "checkInId")
    assert [(f["name"], f["phone"]) for f in forgotten if f["volunteerId"] == forgetful_id] == [
        ("赵淑兰", f"{phone[:3]}****{phone[-4:]}")
    ]
