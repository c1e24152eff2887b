"""Who volunteers are: profiles, party members' 双报到 and partner organisations (共建单位).

The rules first (pure), then stories through the gateway on real PostgreSQL and Redis.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.common.actor import ORGANISER, VOLUNTEER
from services.common.clock import LOCAL_TZ
from services.common.errors import Refusal
from services.common.settings import Settings
from services.volunteers import domain, profiles
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, GraphQLClient, token_for

UPDATE_PROFILE = """
mutation($input: UpdateVolunteerProfileInput!) {
  updateVolunteerProfile(input: $input) { volunteerId communityId availability slots { weekday starts ends } }
}
"""
PROFILE = """
query($id: String!) {
  volunteerProfile(volunteerId: $id) {
    volunteerId displayName availability skills totalMinutes
    slots { weekday starts ends }
    partyMember { name workUnit partyBranch communityId reportedOn }
    organisations { name }
  }
}
"""
REGISTER = """
mutation($input: RegisterPartyMemberInput!) {
  registerPartyMember(input: $input) { volunteerId name workUnit communityId reportedOn }
}
"""
PARTY_MEMBERS = """
query($c: String!, $unit: String) { partyMembers(communityId: $c, workUnit: $unit) { volunteerId name } }
"""
CREATE_PARTNER = """
mutation($input: CreatePartnerOrganisationInput!) {
  createPartnerOrganisation(input: $input) { id name communityId memberIds }
}
"""
ADD_MEMBER = """
mutation($input: AddPartnerMemberInput!) { addPartnerMember(input: $input) { id memberIds } }
"""
PARTNERS = "query($c: String!) { partnerOrganisations(communityId: $c) { id name memberIds } }"
RECORD_SKILL = "mutation($input: RecordVolunteerSkillInput!) { recordVolunteerSkill(input: $input) }"
CREATE_SHIFT = "mutation($input: CreateShiftInput!) { createShift(input: $input) { id } }"
SIGN_UP = "mutation($input: SignUpForShiftInput!) { signUpForShift(input: $input) { id } }"
CORRECT = "mutation($input: CorrectServiceHoursInput!) { correctServiceHours(input: $input) { minutes } }"
TOTALS = """
query($c: String!, $from: Date!, $to: Date!) {
  serviceHoursTotals(communityId: $c, startsOn: $from, endsOn: $to) {
    byFestival { key minutes volunteers } byPartnerOrganisation { key label minutes volunteers }
  }
}
"""


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


def volunteer(settings: Settings) -> tuple[str, str]:
    user_id = f"volunteer-{uuid.uuid4().hex[:8]}"
    return user_id, token_for(settings, user_id, {VOLUNTEER}, {COMMUNITY})


def elsewhere(settings: Settings) -> str:
    return token_for(settings, f"organiser-{uuid.uuid4().hex[:6]}", {ORGANISER}, {OTHER_COMMUNITY})


async def new_shift(gql: GraphQLClient, organiser: str, festival: str | None = None) -> str:
    """A two-hour shift of the community, starting in an hour, at a venue of its own."""
    starts_at = datetime.now(UTC) + timedelta(hours=1)
    plan = {
        "communityId": COMMUNITY,
        "festivalId": festival,
        "venue": f"朔方广场 {uuid.uuid4().hex[:6]}",
        "role": "摊主",
        "startsAt": starts_at.isoformat(),
        "endsAt": (starts_at + timedelta(hours=2)).isoformat(),
        "headcount": 5,
    }
    shift_id: str = (await gql.ok(CREATE_SHIFT, {"input": plan}, organiser))["createShift"]["id"]
    return shift_id


# --- rules ------------------------------------------------------------------------------------


def test_a_work_unit_is_the_same_however_it_is_spaced_or_cased() -> None:
    assert profiles.unit_key(" 灵武市 供电公司　ABC ") == profiles.unit_key("灵武市供电公司abc")
    assert profiles.unit_key("灵武市供电公司") != profiles.unit_key("灵武市第一中学")


@pytest.mark.parametrize(
    ("weekday", "start", "end"),
    [
        (0, "09:00", "11:00"),
        (8, "09:00", "11:00"),
        (1, "25:00", "26:00"),
        (1, "11:00", "09:00"),
        (1, "nine", "ten"),
    ],
)
def test_a_weekly_slot_names_a_weekday_and_ends_after_it_starts(weekday: int, start: str, end: str) -> None:
    with pytest.raises(Refusal) as refused:
        profiles.check_slot(weekday, start, end)
    assert refused.value.code == "BAD_USER_INPUT"


def test_a_report_period_runs_forwards_and_for_a_year_at_most() -> None:
    assert profiles.check_period(date(2026, 1, 1), date(2026, 12, 31)) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
    )
    for start, end in ((date(2026, 2, 1), date(2026, 1, 1)), (date(2025, 1, 1), date(2026, 6, 1))):
        with pytest.raises(Refusal):
            profiles.check_period(start, end)


def test_a_check_in_is_forgotten_once_its_shift_has_ended() -> None:
    start = datetime(2026, 12, 5, 1, tzinfo=UTC)
    shift = domain.Span(start, start + timedelta(hours=3))
    assert not domain.forgotten(start + timedelta(hours=2, minutes=59), shift)
    assert domain.forgotten(start + timedelta(hours=3), shift)


# --- stories ----------------------------------------------------------------------------------


async def test_a_volunteer_says_when_she_is_free_and_the_organiser_sees_it_with_her_skills(
    gql: GraphQLClient, organiser_token: str, settings: Settings
) -> None:
    her, token = volunteer(settings)
    slots = [
        {"weekday": 6, "starts": "09:00", "ends": "12:00"},
        {"weekday": 3, "starts": "19:00", "ends": "21:00"},
    ]
    saved = await gql.ok(
        UPDATE_PROFILE,
        {"input": {"communityId": COMMUNITY, "availability": "周末上午，周三晚上", "slots": slots}},
        token,
    )
    # Slots come back in weekday order.
    assert saved["updateVolunteerProfile"]["slots"] == [slots[1], slots[0]]
    await gql.ok(
        RECORD_SKILL,
        {"input": {"communityId": COMMUNITY, "volunteerId": her, "skill": "义剪"}},
        organiser_token,
    )

    seen = (await gql.ok(PROFILE, {"id": her}, organiser_token))["volunteerProfile"]

    assert seen["availability"] == "周末上午，周三晚上" and seen["skills"] == ["义剪"]
    assert seen["slots"] == [slots[1], slots[0]] and seen["partyMember"] is None
    assert await gql.error_code(PROFILE, {"id": her}, elsewhere(settings)) == "FORBIDDEN"
    _, stranger = volunteer(settings)
    assert await gql.error_code(PROFILE, {"id": her}, stranger) == "FORBIDDEN"
    bad = {"input": {"communityId": COMMUNITY, "slots": [{"weekday": 9, "starts": "09:00", "ends": "10:00"}]}}
    assert await gql.error_code(UPDATE_PROFILE, bad, token) == "BAD_USER_INPUT"
    not_hers = {"input": {"communityId": OTHER_COMMUNITY, "availability": "随时"}}
    assert await gql.error_code(UPDATE_PROFILE, not_hers, token) == "FORBIDDEN"


async def test_a_party_member_reports_to_the_community_where_she_lives(
    gql: GraphQLClient, organiser_token: str, settings: Settings
) -> None:
    her, token = volunteer(settings)
    unit = f"灵武市税务局 {uuid.uuid4().hex[:6]}"
    reported = (today() - timedelta(days=3)).isoformat()
    member = {
        "communityId": COMMUNITY,
        "name": "马兰",
        "workUnit": unit,
        "partyBranch": "第二党支部",
        "reportedOn": reported,
    }

    registered = await gql.ok(REGISTER, {"input": member}, token)

    assert registered["registerPartyMember"] == {
        "volunteerId": her,
        "name": "马兰",
        "workUnit": unit,
        "communityId": COMMUNITY,
        "reportedOn": reported,
    }
    profile = (await gql.ok(PROFILE, {"id": her}, organiser_token))["volunteerProfile"]
    assert profile["partyMember"]["partyBranch"] == "第二党支部"
    # The organiser fills in the registration for a volunteer who serves here: he signed up for
    # one of the community's shifts. A volunteer who never did is not hers to register.
    him, his_token = volunteer(settings)
    stranger = {**member, "name": "杨军", "volunteerId": f"volunteer-{uuid.uuid4().hex[:8]}"}
    assert await gql.error_code(REGISTER, {"input": stranger}, organiser_token) == "FORBIDDEN"
    await gql.ok(
        SIGN_UP,
        {"input": {"shiftId": await new_shift(gql, organiser_token), "idempotencyKey": uuid.uuid4().hex}},
        his_token,
    )
    await gql.ok(REGISTER, {"input": {**member, "name": "杨军", "volunteerId": him}}, organiser_token)
    listed = await gql.ok(PARTY_MEMBERS, {"c": COMMUNITY, "unit": unit.upper()}, organiser_token)
    assert sorted(m["volunteerId"] for m in listed["partyMembers"]) == sorted([her, him])

    future = {**member, "reportedOn": (today() + timedelta(days=1)).isoformat()}
    assert await gql.error_code(REGISTER, {"input": future}, token) == "BAD_USER_INPUT"
    assert await gql.error_code(REGISTER, {"input": {**member, "communityId": OTHER_COMMUNITY}}, token) == (
        "FORBIDDEN"
    )
    someone_else = {**member, "volunteerId": him}
    assert await gql.error_code(REGISTER, {"input": someone_else}, token) == "FORBIDDEN"
    assert await gql.error_code(PARTY_MEMBERS, {"c": COMMUNITY}, elsewhere(settings)) == "FORBIDDEN"


async def test_a_partner_organisation_and_its_members_count_their_hours_together(
    gql: GraphQLClient, organiser_token: str, settings: Settings
) -> None:
    name = f"宁夏银行灵武支行 {uuid.uuid4().hex[:6]}"
    key = uuid.uuid4().hex
    create = {"input": {"communityId": COMMUNITY, "name": name, "idempotencyKey": key}}
    partner = (await gql.ok(CREATE_PARTNER, create, organiser_token))["createPartnerOrganisation"]
    again = (await gql.ok(CREATE_PARTNER, create, organiser_token))["createPartnerOrganisation"]
    assert again["id"] == partner["id"] and partner["memberIds"] == []
    twin = {
        "input": {"communityId": COMMUNITY, "name": f" {name.upper()} ", "idempotencyKey": uuid.uuid4().hex}
    }
    assert await gql.error_code(CREATE_PARTNER, twin, organiser_token) == "ORGANISATION_EXISTS"

    # Both staff serve a festival's shift; the organiser adds them to the partner organisation
    # (only volunteers who serve in the community) and credits each an hour.
    festival = f"festival-{uuid.uuid4().hex[:8]}"
    shift_id = await new_shift(gql, organiser_token, festival)
    (staff_a, token_a), (staff_b, token_b) = volunteer(settings), volunteer(settings)
    not_yet = {"input": {"organisationId": partner["id"], "volunteerId": staff_a}}
    assert await gql.error_code(ADD_MEMBER, not_yet, organiser_token) == "FORBIDDEN"
    for person, token in ((staff_a, token_a), (staff_b, token_b)):
        await gql.ok(SIGN_UP, {"input": {"shiftId": shift_id, "idempotencyKey": uuid.uuid4().hex}}, token)
        await gql.ok(
            ADD_MEMBER, {"input": {"organisationId": partner["id"], "volunteerId": person}}, organiser_token
        )
    listed = {
        p["id"]: p
        for p in (await gql.ok(PARTNERS, {"c": COMMUNITY}, organiser_token))["partnerOrganisations"]
    }
    assert sorted(listed[partner["id"]]["memberIds"]) == sorted([staff_a, staff_b])
    add = {"input": {"organisationId": partner["id"], "volunteerId": staff_a}}
    assert await gql.error_code(ADD_MEMBER, add, elsewhere(settings)) == "FORBIDDEN"
    unknown = {"input": {"organisationId": str(uuid.uuid4()), "volunteerId": staff_a}}
    assert await gql.error_code(ADD_MEMBER, unknown, organiser_token) == "ORGANISATION_NOT_FOUND"

    for person in (staff_a, staff_b):
        correction = {
            "volunteerId": person,
            "shiftId": shift_id,
            "minutes": 60,
            "reason": "纸质签到表补录",
            "idempotencyKey": uuid.uuid4().hex,
        }
        await gql.ok(CORRECT, {"input": correction}, organiser_token)

    period = {"from": today().isoformat(), "to": (today() + timedelta(days=1)).isoformat()}
    totals = (await gql.ok(TOTALS, {"c": COMMUNITY, **period}, organiser_token))["serviceHoursTotals"]
    by_partner = {t["key"]: t for t in totals["byPartnerOrganisation"]}
    assert by_partner[partner["id"]] == {"key": partner["id"], "label": name, "minutes": 120, "volunteers": 2}
    by_festival = {t["key"]: t for t in totals["byFestival"]}
    assert by_festival[festival] == {"key": festival, "minutes": 120, "volunteers": 2}
    assert await gql.error_code(TOTALS, {"c": COMMUNITY, **period}, elsewhere(settings)) == "FORBIDDEN"
