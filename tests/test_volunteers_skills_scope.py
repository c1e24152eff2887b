"""Skills belong to the community that recorded them (issue 16): an organiser of one community
cannot record a skill that unlocks another community's shifts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.common.actor import ORGANISER, VOLUNTEER
from services.common.errors import Refusal
from services.common.settings import Settings
from services.volunteers import domain
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, GraphQLClient, token_for
from tests.dates import FESTIVAL_DAY, at_iso

CREATE_SHIFT = "mutation($input: CreateShiftInput!) { createShift(input: $input) { id } }"
SIGN_UP = "mutation($input: SignUpForShiftInput!) { signUpForShift(input: $input) { id } }"
RECORD_SKILL = "mutation($input: RecordVolunteerSkillInput!) { recordVolunteerSkill(input: $input) }"
UPDATE_PROFILE = (
    "mutation($i: UpdateVolunteerProfileInput!) { updateVolunteerProfile(input: $i) { communityId } }"
)
PROFILE = "query($id: String!) { volunteerProfile(volunteerId: $id) { skills } }"
DOCTOR = "执业医师"


def organiser_of(settings: Settings, community: str) -> str:
    return token_for(settings, f"organiser-{uuid.uuid4().hex[:6]}", {ORGANISER}, {community})


async def new_shift(
    gql: GraphQLClient, organiser: str, community: str, clock: str, skill: str | None = None
) -> str:
    plan = {
        "communityId": community,
        "venue": f"义诊点 {uuid.uuid4().hex[:6]}",
        "role": "医疗保障",
        "startsAt": at_iso(FESTIVAL_DAY, clock),
        "endsAt": at_iso(FESTIVAL_DAY, f"{int(clock[:2]) + 1:02d}:00"),
        "headcount": 3,
        "requiredSkill": skill,
    }
    shift_id: str = (await gql.ok(CREATE_SHIFT, {"input": plan}, organiser))["createShift"]["id"]
    return shift_id


def signing_up(shift_id: str) -> dict[str, Any]:
    return {"input": {"shiftId": shift_id, "idempotencyKey": uuid.uuid4().hex}}


def skill_for(community: str, volunteer_id: str, skill: str = DOCTOR) -> dict[str, Any]:
    return {"input": {"communityId": community, "volunteerId": volunteer_id, "skill": skill}}


def test_a_community_records_skills_only_for_volunteers_serving_there() -> None:
    domain.ensure_serves_in(COMMUNITY, {COMMUNITY, OTHER_COMMUNITY})
    with pytest.raises(Refusal) as refused:
        domain.ensure_serves_in(COMMUNITY, {OTHER_COMMUNITY})
    assert refused.value.code == "VOLUNTEER_NOT_IN_COMMUNITY"


async def test_an_organiser_of_a_cannot_unlock_b_s_shifts_for_b_s_volunteer(
    gql: GraphQLClient, settings: Settings
) -> None:
    ours, theirs = organiser_of(settings, COMMUNITY), organiser_of(settings, OTHER_COMMUNITY)
    doctors_shift = await new_shift(gql, theirs, OTHER_COMMUNITY, "09:00", DOCTOR)
    volunteer_id = f"volunteer-{uuid.uuid4().hex[:8]}"
    token = token_for(settings, volunteer_id, {VOLUNTEER}, {OTHER_COMMUNITY})
    await gql.ok(UPDATE_PROFILE, {"i": {"communityId": OTHER_COMMUNITY}}, token)

    # The attack as filed: A's organiser records the skill, naming A, for B's volunteer.
    refused = await gql.error_code(RECORD_SKILL, skill_for(COMMUNITY, volunteer_id), ours)
    assert refused == "VOLUNTEER_NOT_IN_COMMUNITY"
    # ... or naming B, which is not theirs.
    assert await gql.error_code(RECORD_SKILL, skill_for(OTHER_COMMUNITY, volunteer_id), ours) == "FORBIDDEN"
    assert await gql.error_code(SIGN_UP, signing_up(doctors_shift), token) == "MISSING_SKILL"

    # She also serves in A (a shift there): A may now record the skill, for A's shifts only.
    await gql.ok(SIGN_UP, signing_up(await new_shift(gql, ours, COMMUNITY, "14:00")), token)
    await gql.ok(RECORD_SKILL, skill_for(COMMUNITY, volunteer_id), ours)
    assert await gql.error_code(SIGN_UP, signing_up(doctors_shift), token) == "MISSING_SKILL"
    a_doctors_shift = await new_shift(gql, ours, COMMUNITY, "16:00", DOCTOR)
    await gql.ok(SIGN_UP, signing_up(a_doctors_shift), token)

    # B's own organiser records it: B's shift takes her.
    await gql.ok(RECORD_SKILL, skill_for(OTHER_COMMUNITY, volunteer_id), theirs)
    await gql.ok(SIGN_UP, signing_up(doctors_shift), token)
    assert (await gql.ok(PROFILE, {"id": volunteer_id}, theirs))["volunteerProfile"]["skills"] == [DOCTOR]
