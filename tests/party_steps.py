"""Steps shared by the 双报到, wish-contact and shift-withdrawal tests (API and browser)."""

from __future__ import annotations

import uuid
from typing import Any

from services.common.actor import GRID_WORKER, ORGANISER, RESIDENT
from services.common.settings import Settings
from tests.conftest import COMMUNITY, GraphQLClient, token_for
from tests.dates import at_iso, day_iso

REGISTER = """
mutation($input: RegisterPartyMemberInput!) {
  registerPartyMember(input: $input) { volunteerId status declineReason workUnit }
}
"""
TO_REVIEW = """
query($c: String!, $limit: Int! = 200, $after: ID) {
  partyMembersToReview(communityId: $c, limit: $limit, after: $after) {
  volunteerId name workUnit partyBranch status } }
"""
REVIEW = """
mutation($input: ReviewPartyMemberInput!) {
  reviewPartyMember(input: $input) { volunteerId status declineReason reviewedAt }
}
"""
MY_REGISTRATION = "{ myVolunteerProfile { volunteerId partyMember { status declineReason workUnit } } }"
POST = "mutation($input: PostWishInput!) { postWish(input: $input) { id } }"
REVIEW_WISH = "mutation($input: ReviewWishInput!) { reviewWish(input: $input) { id } }"
PUBLISH = "mutation($id: ID!) { publishWish(wishId: $id) { id status } }"
RESIDENT_BY_PHONE = "mutation($input: ResidentByPhoneInput!) { residentByPhone(input: $input) { id } }"
CREATE_SHIFT = """
mutation($input: CreateShiftInput!) {
  createShift(input: $input) { id placesLeft contactPhone withdrawableUntil }
}
"""
SIGN_UP_FOR_SHIFT = "mutation($input: SignUpForShiftInput!) { signUpForShift(input: $input) { id } }"


def person(settings: Settings, *roles: str, community: str = COMMUNITY) -> tuple[str, str]:
    user_id = f"p-{uuid.uuid4().hex[:10]}"
    return user_id, token_for(settings, user_id, set(roles or {RESIDENT}), {community})


def registration(
    name: str = "刘建华", work_unit: str = "市税务局", community: str = COMMUNITY
) -> dict[str, Any]:
    return {
        "communityId": community,
        "name": name,
        "workUnit": work_unit,
        "partyBranch": "第一党支部",
        "reportedOn": day_iso(-30),
    }


async def approved_party_member(
    gql: GraphQLClient, token: str, organiser: str, name: str = "刘建华", work_unit: str = "市税务局"
) -> str:
    """They register 双报到 themselves and the community's organiser approves it: their id."""
    registered = await gql.ok(REGISTER, {"input": registration(name, work_unit)}, token)
    volunteer_id: str = registered["registerPartyMember"]["volunteerId"]
    review = {"volunteerId": volunteer_id, "review": "APPROVE"}
    await gql.ok(REVIEW, {"input": review}, organiser)
    return volunteer_id


async def approve_party_member(
    gql: GraphQLClient, settings: Settings, community: str, volunteer_id: str
) -> None:
    """The community's organiser approves a member's own 双报到."""
    organiser = token_for(settings, f"organiser-{uuid.uuid4().hex[:6]}", {ORGANISER}, {community})
    await gql.ok(REVIEW, {"input": {"volunteerId": volunteer_id, "review": "APPROVE"}}, organiser)


async def approve_own_registration(gql: GraphQLClient, organiser: str, member_token: str) -> None:
    """The organiser approves the 双报到 the member (holding ``member_token``) made, if it waits."""
    mine = (await gql.ok(MY_REGISTRATION, token=member_token))["myVolunteerProfile"]
    if mine["partyMember"] and mine["partyMember"]["status"] == "PENDING":
        review = {"volunteerId": mine["volunteerId"], "review": "APPROVE"}
        await gql.ok(REVIEW, {"input": review}, organiser)


async def elder_with_a_phone(gql: GraphQLClient, settings: Settings, phone: str) -> tuple[str, str]:
    """A resident the desk registered (name, phone, building, unit), with her own token."""
    _, grid = person(settings, GRID_WORKER)
    profile = {
        "communityId": COMMUNITY,
        "name": "赵淑兰",
        "phone": phone,
        "building": "3号楼",
        "unit": "1单元301",
        "register": True,
        "privacyNoticeExplained": True,
    }
    resident_id: str = (await gql.ok(RESIDENT_BY_PHONE, {"input": profile}, grid))["residentByPhone"]["id"]
    return resident_id, token_for(settings, resident_id, {RESIDENT}, {COMMUNITY})


async def wish_on_the_wall(gql: GraphQLClient, resident: str, organiser: str, description: str) -> str:
    wish = {
        "communityId": COMMUNITY,
        "category": "REPAIR",
        "description": description,
        "building": "3号楼",
        "idempotencyKey": uuid.uuid4().hex,
    }
    wish_id: str = (await gql.ok(POST, {"input": wish}, resident))["postWish"]["id"]
    await gql.ok(REVIEW_WISH, {"input": {"wishId": wish_id, "review": "APPROVE"}}, organiser)
    await gql.ok(PUBLISH, {"id": wish_id}, organiser)
    return wish_id


async def shift_starting(
    gql: GraphQLClient,
    organiser: str,
    starts_at: str,
    ends_at: str,
    contact_phone: str | None = "0951-4012345",
    role: str = "引导员",
    venue: str | None = None,
) -> dict[str, Any]:
    plan = {
        "communityId": COMMUNITY,
        "venue": venue or f"朔方社区邻里驿家 {uuid.uuid4().hex[:4]}",
        "role": role,
        "startsAt": starts_at,
        "endsAt": ends_at,
        "headcount": 3,
        "contactPhone": contact_phone,
    }
    shift: dict[str, Any] = (await gql.ok(CREATE_SHIFT, {"input": plan}, organiser))["createShift"]
    return shift


async def signed_up(gql: GraphQLClient, token: str, shift_id: str) -> None:
    await gql.ok(
        SIGN_UP_FOR_SHIFT, {"input": {"shiftId": shift_id, "idempotencyKey": uuid.uuid4().hex}}, token
    )


def days_ahead_shift(days: int) -> tuple[str, str]:
    return at_iso(days, "09:00"), at_iso(days, "11:00")
