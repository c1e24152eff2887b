"""One community's organisers cannot reach into another community's volunteers.

A volunteer of 朔方 (A) signs up for A's shift and reports to A as a party member. 西苑's (B)
organiser may neither claim her (双报到, partner organisation) nor, by trying, gain the right to
read her profile or certificate; and a station code shown at B's venue does not check anyone in
at A's venue of the same name. Stories through the gateway on real PostgreSQL and Redis.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from services.common.actor import ORGANISER, VOLUNTEER
from services.common.clock import LOCAL_TZ
from services.common.settings import Settings
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, GraphQLClient, token_for

CREATE_SHIFT = "mutation($input: CreateShiftInput!) { createShift(input: $input) { id venue } }"
SIGN_UP = "mutation($input: SignUpForShiftInput!) { signUpForShift(input: $input) { id } }"
STATION_CODE = "query($venue: String!) { stationCode(venue: $venue) { code } }"
CHECK_IN = "mutation($input: CheckInInput!) { checkIn(input: $input) { id } }"
REGISTER = """
mutation($input: RegisterPartyMemberInput!) {
  registerPartyMember(input: $input) { volunteerId name workUnit partyBranch communityId }
}
"""
PROFILE = """
query($id: String!) {
  volunteerProfile(volunteerId: $id) {
    volunteerId partyMember { name workUnit partyBranch communityId } organisations { name }
  }
}
"""
PARTY_MEMBERS = "query($c: String!) { partyMembers(communityId: $c) { volunteerId } }"
CREATE_PARTNER = """
mutation($input: CreatePartnerOrganisationInput!) { createPartnerOrganisation(input: $input) { id } }
"""
ADD_MEMBER = "mutation($input: AddPartnerMemberInput!) { addPartnerMember(input: $input) { id memberIds } }"


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


def organiser_of(settings: Settings, community: str) -> str:
    return token_for(settings, f"organiser-{uuid.uuid4().hex[:6]}", {ORGANISER}, {community})


async def shift_of(
    gql: GraphQLClient,
    organiser: str,
    community: str,
    venue: str,
    starts_in: timedelta = timedelta(minutes=-5),
) -> str:
    """A two-hour shift of ``community`` at ``venue``; by default it started a few minutes ago,
    so check-in is open."""
    starts_at = datetime.now(UTC) + starts_in
    plan = {
        "communityId": community,
        "venue": venue,
        "role": "秩序维护",
        "startsAt": starts_at.isoformat(),
        "endsAt": (starts_at + timedelta(hours=2)).isoformat(),
        "headcount": 5,
    }
    shift_id: str = (await gql.ok(CREATE_SHIFT, {"input": plan}, organiser))["createShift"]["id"]
    return shift_id


async def sign_up(gql: GraphQLClient, token: str, shift_id: str) -> None:
    await gql.ok(SIGN_UP, {"input": {"shiftId": shift_id, "idempotencyKey": uuid.uuid4().hex}}, token)


def membership(community: str, volunteer_id: str | None = None, **changes: str) -> dict[str, Any]:
    member = {
        "communityId": community,
        "name": "马兰",
        "workUnit": "灵武市税务局",
        "partyBranch": "第二党支部",
        "reportedOn": (today() - timedelta(days=10)).isoformat(),
        **changes,
    }
    if volunteer_id:
        member["volunteerId"] = volunteer_id
    return {"input": member}


async def a_member_of_a(gql: GraphQLClient, settings: Settings) -> tuple[str, str, str]:
    """She signs up for A's shift and reports to A herself: (her id, her token, A's organiser)."""
    her = f"volunteer-{uuid.uuid4().hex[:8]}"
    token = token_for(settings, her, {VOLUNTEER}, {COMMUNITY})
    organiser_a = organiser_of(settings, COMMUNITY)
    await sign_up(gql, token, await shift_of(gql, organiser_a, COMMUNITY, f"朔方广场 {uuid.uuid4().hex[:6]}"))
    await gql.ok(REGISTER, membership(COMMUNITY), token)
    return her, token, organiser_a


async def test_another_communitys_organiser_can_neither_claim_a_volunteer_nor_then_read_her(
    gql: GraphQLClient, client: httpx.AsyncClient, settings: Settings
) -> None:
    her, _, organiser_a = await a_member_of_a(gql, settings)
    organiser_b = organiser_of(settings, OTHER_COMMUNITY)
    before = (await gql.ok(PROFILE, {"id": her}, organiser_a))["volunteerProfile"]

    claim = membership(OTHER_COMMUNITY, her, workUnit="西苑某公司", partyBranch="别的支部")
    assert await gql.error_code(REGISTER, claim, organiser_b) == "FORBIDDEN"
    key = uuid.uuid4().hex
    partner = {
        "input": {"communityId": OTHER_COMMUNITY, "name": f"西苑共建 {key[:6]}", "idempotencyKey": key}
    }
    organisation = (await gql.ok(CREATE_PARTNER, partner, organiser_b))["createPartnerOrganisation"]["id"]
    add = {"input": {"organisationId": organisation, "volunteerId": her}}
    assert await gql.error_code(ADD_MEMBER, add, organiser_b) == "FORBIDDEN"

    # Nothing B tried gives B a way in ...
    assert await gql.error_code(PROFILE, {"id": her}, organiser_b) == "FORBIDDEN"
    period = {"startsOn": (today() - timedelta(days=30)).isoformat(), "endsOn": today().isoformat()}
    certificate = await client.get(
        f"/reports/volunteers/{her}/certificate.html",
        params=period,
        headers={"Authorization": f"Bearer {organiser_b}"},
    )
    assert certificate.status_code == 403 and certificate.json()["code"] == "FORBIDDEN"
    # ... and A keeps her, as she registered.
    assert (await gql.ok(PROFILE, {"id": her}, organiser_a))["volunteerProfile"] == before
    assert before["partyMember"] == {
        "name": "马兰",
        "workUnit": "灵武市税务局",
        "partyBranch": "第二党支部",
        "communityId": COMMUNITY,
    }
    listed = (await gql.ok(PARTY_MEMBERS, {"c": OTHER_COMMUNITY}, organiser_b))["partyMembers"]
    assert her not in [m["volunteerId"] for m in listed]
    mine = await client.get(
        f"/reports/volunteers/{her}/certificate.html",
        params=period,
        headers={"Authorization": f"Bearer {organiser_a}"},
    )
    assert mine.status_code == 200


async def test_a_volunteer_who_also_serves_elsewhere_stays_registered_where_she_reported(
    gql: GraphQLClient, settings: Settings
) -> None:
    her, token, organiser_a = await a_member_of_a(gql, settings)
    organiser_b = organiser_of(settings, OTHER_COMMUNITY)
    # She also signs up for one of B's shifts: B's organiser may now see her and her partners ...
    later = timedelta(days=1)
    await sign_up(
        gql, token, await shift_of(gql, organiser_b, OTHER_COMMUNITY, f"西苑 {uuid.uuid4().hex[:6]}", later)
    )
    assert (await gql.ok(PROFILE, {"id": her}, organiser_b))["volunteerProfile"]["volunteerId"] == her
    key = uuid.uuid4().hex
    partner = {
        "input": {"communityId": OTHER_COMMUNITY, "name": f"西苑共建 {key[:6]}", "idempotencyKey": key}
    }
    organisation = (await gql.ok(CREATE_PARTNER, partner, organiser_b))["createPartnerOrganisation"]["id"]
    added = await gql.ok(
        ADD_MEMBER, {"input": {"organisationId": organisation, "volunteerId": her}}, organiser_b
    )
    assert added["addPartnerMember"]["memberIds"] == [her]

    # ... but not move her 双报到 away from A.
    claim = membership(OTHER_COMMUNITY, her, workUnit="西苑某公司")
    assert await gql.error_code(REGISTER, claim, organiser_b) == "REGISTERED_ELSEWHERE"
    seen = (await gql.ok(PROFILE, {"id": her}, organiser_a))["volunteerProfile"]["partyMember"]
    assert seen["communityId"] == COMMUNITY and seen["workUnit"] == "灵武市税务局"
    # A's organiser may correct her registration in A; it stays hers.
    fixed = await gql.ok(REGISTER, membership(COMMUNITY, her, partyBranch="第三党支部"), organiser_a)
    assert fixed["registerPartyMember"]["partyBranch"] == "第三党支部"
    assert (await gql.ok(PROFILE, {"id": her}, organiser_a))["volunteerProfile"]["partyMember"][
        "partyBranch"
    ] == "第三党支部"


async def test_a_station_code_of_one_community_is_refused_at_another_communitys_venue_of_that_name(
    gql: GraphQLClient, settings: Settings
) -> None:
    venue = f"邻里驿家 {uuid.uuid4().hex[:6]}"
    organiser_a, organiser_b = organiser_of(settings, COMMUNITY), organiser_of(settings, OTHER_COMMUNITY)
    shift_a = await shift_of(gql, organiser_a, COMMUNITY, venue)
    await shift_of(gql, organiser_b, OTHER_COMMUNITY, venue)  # B names its venue the same way
    her = f"volunteer-{uuid.uuid4().hex[:8]}"
    token = token_for(settings, her, {VOLUNTEER}, {COMMUNITY})
    await sign_up(gql, token, shift_a)

    code_b = (await gql.ok(STATION_CODE, {"venue": venue}, organiser_b))["stationCode"]["code"]
    attempt = {"input": {"shiftId": shift_a, "code": code_b}}
    assert await gql.error_code(CHECK_IN, attempt, token) == "WRONG_VENUE"

    code_a = (await gql.ok(STATION_CODE, {"venue": venue}, organiser_a))["stationCode"]["code"]
    assert (await gql.ok(CHECK_IN, {"input": {"shiftId": shift_a, "code": code_a}}, token))["checkIn"]["id"]
