"""双报到 reviewed by the community, a claimant who reaches the resident without her number and
gives a wish back, and volunteers withdrawing from shifts — through the public API."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from services.common.actor import GRID_WORKER, ORGANISER
from services.common.settings import Settings
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, GraphQLClient, eventually, token_for
from tests.dates import at, at_iso, minutes_from_now
from tests.door_steps import desk_phone_listed
from tests.identity_steps import new_phone
from tests.party_steps import (
    MY_REGISTRATION,
    REGISTER,
    REVIEW,
    TO_REVIEW,
    approved_party_member,
    days_ahead_shift,
    elder_with_a_phone,
    person,
    registration,
    shift_starting,
    signed_up,
    wish_on_the_wall,
)

CLAIM = """
mutation($input: ClaimWishInput!) {
  claimWish(input: $input) {
    id status building description contact { building unit residentPhoneMasked communityName deskPhone }
  }
}
"""
MINE = """
{ myClaimedWishes { id status building description
    claimant { name kind organisation plannedVisitAt }
    contact { building unit residentName residentPhoneMasked postedByGridWorker
              callBackRequestedAt callBackHandledAt } } }
"""
MY_WISHES = "{ myWishes { id status claimant { name kind organisation plannedVisitAt claimedAt } } }"
WALL = "query($c: String!) { wishWall(communityId: $c) { id status building description claimant { name } } }"
GIVE_BACK = """
mutation($input: GiveBackWishInput!) { giveBackWish(input: $input) { id status claimant { name } } }
"""
PLAN = "mutation($input: PlanWishVisitInput!) { planWishVisit(input: $input) { id } }"
CALL_BACK = """
mutation($input: RequestWishCallBackInput!) {
  requestWishCallBack(input: $input) { id contact { callBackRequestedAt residentPhoneMasked } }
}
"""
CALL_BACKS = """
query($c: String!, $limit: Int! = 200, $after: ID) {
  wishCallBacks(communityId: $c, limit: $limit, after: $after) {
  id building unit residentName residentPhone claimantName organisation plannedVisitAt note handledAt } }
"""
CALL_BACK_DONE = "mutation($id: ID!) { markWishCallBackDone(id: $id) { id handledAt } }"
FINISH = "mutation($input: FinishWishInput!) { finishWish(input: $input) { id status } }"
CONFIRM = "mutation($id: ID!) { confirmWish(wishId: $id) { id status } }"
INBOX = "{ myInbox { kind title body } }"
WITHDRAW = """
mutation($input: WithdrawFromShiftInput!) {
  withdrawFromShift(input: $input) { shiftId withdrawnAt shift { placesLeft } }
}
"""
MY_SHIFTS = "{ myShiftSignups { shift { id } } }"


def claim_input(wish_id: str, kind: str = "VOLUNTEER", planned: str | None = None) -> dict[str, Any]:
    return {
        "input": {
            "wishId": wish_id,
            "kind": kind,
            "idempotencyKey": uuid.uuid4().hex,
            "plannedVisitAt": planned,
        }
    }


async def messages(gql: GraphQLClient, token: str, kind: str, wanted: int = 1) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        found = [m for m in (await gql.ok(INBOX, token=token))["myInbox"] if m["kind"] == kind]
        return found if len(found) >= wanted else []

    found: list[dict[str, Any]] = await eventually(read)
    return found


def refusal(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    error: dict[str, Any] = body["errors"][0]
    return error


async def test_a_party_members_own_registration_waits_for_the_communitys_review(
    gql: GraphQLClient, settings: Settings, organiser_token: str
) -> None:
    resident, resident_token = person(settings)
    wish_id = await wish_on_the_wall(gql, resident_token, organiser_token, "厨房水龙头漏水")
    member_id, member = person(settings)

    # Not registered: told as 您, and whom to ask.
    refused = refusal(await gql.raw(CLAIM, claim_input(wish_id, "PARTY_MEMBER"), member))
    assert refused["extensions"]["code"] == "NOT_A_PARTY_MEMBER"
    assert refused["extensions"]["messageZh"] == "您还没有在社区登记双报到，请先登记，或联系社区工作人员"

    registered = await gql.ok(REGISTER, {"input": registration()}, member)
    assert registered["registerPartyMember"]["status"] == "PENDING"
    refused = refusal(await gql.raw(CLAIM, claim_input(wish_id, "PARTY_MEMBER"), member))
    assert refused["extensions"]["code"] == "PARTY_MEMBER_PENDING"
    assert refused["extensions"]["messageZh"].startswith("您的双报到登记正在等待社区审核")

    # The community sees it waiting; another community's organiser neither sees nor decides it.
    waiting = await gql.every(TO_REVIEW, {"c": COMMUNITY}, organiser_token, "volunteerId")
    assert {
        "volunteerId": member_id,
        "name": "刘建华",
        "workUnit": "市税务局",
        "partyBranch": "第一党支部",
        "status": "PENDING",
    } in waiting
    elsewhere = token_for(settings, "organiser-elsewhere", {ORGANISER}, {OTHER_COMMUNITY})
    assert await gql.error_code(TO_REVIEW, {"c": COMMUNITY}, elsewhere) == "FORBIDDEN"
    approve = {"volunteerId": member_id, "review": "APPROVE"}
    assert await gql.error_code(REVIEW, {"input": approve}, elsewhere) == "FORBIDDEN"
    assert await gql.error_code(REVIEW, {"input": approve}, member) == "FORBIDDEN"

    # Declined, with a reason he reads on his page and in his inbox; then claims are refused so.
    no_reason = {"volunteerId": member_id, "review": "DECLINE"}
    assert await gql.error_code(REVIEW, {"input": no_reason}, organiser_token) == "BAD_USER_INPUT"
    decline = {**no_reason, "reason": "党支部名称请写全称"}
    declined = await gql.ok(REVIEW, {"input": decline}, organiser_token)
    assert declined["reviewPartyMember"]["status"] == "DECLINED"
    mine = (await gql.ok(MY_REGISTRATION, token=member))["myVolunteerProfile"]["partyMember"]
    assert mine == {"status": "DECLINED", "declineReason": "党支部名称请写全称", "workUnit": "市税务局"}
    refused = refusal(await gql.raw(CLAIM, claim_input(wish_id, "PARTY_MEMBER"), member))
    assert refused["extensions"]["code"] == "PARTY_MEMBER_DECLINED"
    assert "党支部名称请写全称" in refused["extensions"]["messageZh"]
    assert "联系社区工作人员" in refused["extensions"]["messageZh"]
    told = await messages(gql, member, "party_member.reviewed")
    assert "党支部名称请写全称" in told[0]["body"]

    # He corrects it: waiting again; the organiser approves; the same decision again is harmless.
    corrected = {**registration(), "partyBranch": "市税务局机关第一党支部"}
    again = await gql.ok(REGISTER, {"input": corrected}, member)
    assert again["registerPartyMember"] == {
        "volunteerId": member_id,
        "status": "PENDING",
        "declineReason": None,
        "workUnit": "市税务局",
    }
    for _ in range(2):
        reviewed = await gql.ok(REVIEW, {"input": approve}, organiser_token)
        assert reviewed["reviewPartyMember"]["status"] == "APPROVED"
    assert member_id not in str(await gql.every(TO_REVIEW, {"c": COMMUNITY}, organiser_token, "volunteerId"))
    # Registering the same again keeps the approval; only a change goes back for review.
    same = await gql.ok(REGISTER, {"input": corrected}, member)
    assert same["registerPartyMember"]["status"] == "APPROVED"

    claimed = await gql.ok(CLAIM, claim_input(wish_id, "PARTY_MEMBER"), member)
    assert claimed["claimWish"]["status"] == "CLAIMED"
    await messages(gql, member, "party_member.reviewed", wanted=2)
    assert resident not in json.dumps(claimed)

    # What the community's organiser registers (or corrects) for someone is approved as made.
    by_organiser = {**registration(work_unit="市税务局稽查局"), "volunteerId": member_id}
    corrected_by_organiser = await gql.ok(REGISTER, {"input": by_organiser}, organiser_token)
    assert corrected_by_organiser["registerPartyMember"]["status"] == "APPROVED"


async def test_a_claimant_reaches_the_resident_without_her_number_and_gives_the_wish_back(
    gql: GraphQLClient, settings: Settings, organiser_token: str
) -> None:
    phone = new_phone()
    desk_phone = await desk_phone_listed(gql, settings)
    resident_id, resident = await elder_with_a_phone(gql, settings, phone)
    wish_id = await wish_on_the_wall(gql, resident, organiser_token, f"灯坏了，请打{phone}联系")
    member_id, member = person(settings)
    await approved_party_member(gql, member, organiser_token)
    answers: list[Any] = []  # every answer the claimant gets

    planned = at_iso(2, "15:00")
    claimed = await gql.ok(CLAIM, claim_input(wish_id, "PARTY_MEMBER", planned), member)
    answers.append(claimed)
    assert claimed["claimWish"]["contact"] == {
        "building": "3号楼",
        "unit": "1单元301",
        "residentPhoneMasked": f"{phone[:3]}****{phone[-4:]}",
        # Whom he can call instead: the community's desk, from the directory.
        "communityName": "朔方社区",
        "deskPhone": desk_phone,
    }

    # The resident sees who took it on and when they plan to come.
    hers = (await gql.ok(MY_WISHES, token=resident))["myWishes"]
    assert hers[0]["id"] == wish_id and hers[0]["status"] == "CLAIMED"
    claimant = hers[0]["claimant"]
    assert claimant["name"] == "刘建华" and claimant["kind"] == "PARTY_MEMBER"
    assert claimant["organisation"] == "市税务局"
    assert datetime.fromisoformat(claimant["plannedVisitAt"]) == at(2, "15:00")
    claimed_message = (await messages(gql, resident, "wish.claimed"))[0]
    assert "市税务局" in claimed_message["body"] and "15:00" in claimed_message["body"]
    # Nobody else sees the claimant; the wall shows nobody.
    _, neighbour = person(settings)
    wall = (await gql.ok(WALL, {"c": COMMUNITY}, neighbour))["wishWall"]
    assert [w["claimant"] for w in wall if w["id"] == wish_id] == [None]

    # He changes the time; asks the community to pass a message on; staff see it with her number.
    await gql.ok(PLAN, {"input": {"wishId": wish_id, "plannedVisitAt": at_iso(3, "10:00")}}, member)
    await messages(gql, resident, "wish.visit_planned")
    asked = await gql.ok(CALL_BACK, {"input": {"wishId": wish_id, "note": "想确认灯的型号"}}, member)
    answers.append(asked)
    assert asked["requestWishCallBack"]["contact"]["callBackRequestedAt"]
    listed = await gql.every(CALL_BACKS, {"c": COMMUNITY}, organiser_token)
    mine = [c for c in listed if c["note"] == "想确认灯的型号"]
    assert len(mine) == 1 and mine[0]["residentPhone"] == phone and mine[0]["claimantName"] == "刘建华"
    assert mine[0]["unit"] == "1单元301" and mine[0]["handledAt"] is None
    assert await gql.error_code(CALL_BACKS, {"c": COMMUNITY}, member) == "FORBIDDEN"
    _, desk = person(settings, GRID_WORKER)  # the desk's grid workers see them too
    assert mine[0] in await gql.every(CALL_BACKS, {"c": COMMUNITY}, desk)
    done = await gql.ok(CALL_BACK_DONE, {"id": mine[0]["id"]}, organiser_token)
    assert done["markWishCallBackDone"]["handledAt"]
    held = await gql.ok(MINE, token=member)
    answers.append(held)
    assert held["myClaimedWishes"][0]["contact"]["callBackHandledAt"]
    assert held["myClaimedWishes"][0]["contact"]["residentName"] == "赵**"

    # Only the claimant gives it back, with a reason.
    give_back = {"wishId": wish_id, "reason": "临时出差，这周去不了", "idempotencyKey": uuid.uuid4().hex}
    assert await gql.error_code(GIVE_BACK, {"input": give_back}, neighbour) == "NOT_YOUR_CLAIM"
    no_reason = {**give_back, "reason": " ", "idempotencyKey": uuid.uuid4().hex}
    assert await gql.error_code(GIVE_BACK, {"input": no_reason}, member) == "BAD_USER_INPUT"
    returned = await gql.ok(GIVE_BACK, {"input": give_back}, member)
    answers.append(returned)
    assert returned["giveBackWish"]["status"] == "PUBLISHED"
    # The same request again (a lost answer retried) is the same answer, not a second message.
    assert (await gql.ok(GIVE_BACK, {"input": give_back}, member)) == returned
    wall = (await gql.ok(WALL, {"c": COMMUNITY}, neighbour))["wishWall"]
    assert [w["status"] for w in wall if w["id"] == wish_id] == ["PUBLISHED"]
    answers.append(await gql.ok(MINE, token=member))
    answers.append(await gql.ok(INBOX, token=member))

    # Claimable again: another volunteer takes it on and meets it.
    other_id, other = person(settings)
    again = await gql.ok(CLAIM, claim_input(wish_id), other)
    assert again["claimWish"]["status"] == "CLAIMED"
    await gql.ok(FINISH, {"input": {"wishId": wish_id, "note": "已换好灯泡"}}, other)
    assert (await gql.ok(CONFIRM, {"id": wish_id}, resident))["confirmWish"]["status"] == "MET"
    # The first claimant no longer sees her contact details.
    assert wish_id not in json.dumps((await gql.ok(MINE, token=member))["myClaimedWishes"])

    # The resident heard exactly once that it came back, with the reason.
    given_back = await messages(gql, resident, "wish.given_back")
    assert len(given_back) == 1 and "临时出差" in given_back[0]["body"]
    await messages(gql, resident, "wish.done")
    inbox = (await gql.ok(INBOX, token=resident))["myInbox"]
    assert [m["kind"] for m in inbox].count("wish.given_back") == 1

    # Not one answer the claimant had carried her number.
    assert phone not in json.dumps(answers) and resident_id not in json.dumps(answers)
    assert member_id != other_id


async def test_a_volunteer_withdraws_before_the_cut_off_and_is_refused_after_it(
    gql: GraphQLClient, settings: Settings, organiser_token: str
) -> None:
    _, volunteer = person(settings)
    starts, ends = days_ahead_shift(3)
    later = await shift_starting(gql, organiser_token, starts, ends, role="茶歇服务")
    soon = await shift_starting(
        gql, organiser_token, minutes_from_now(60).isoformat(), minutes_from_now(180).isoformat()
    )
    assert later["withdrawableUntil"] and later["contactPhone"] == "0951-4012345"
    await signed_up(gql, volunteer, later["id"])
    await signed_up(gql, volunteer, soon["id"])
    withdraw = {"shiftId": later["id"], "reason": "家里有事", "idempotencyKey": uuid.uuid4().hex}
    assert await gql.error_code(WITHDRAW, {"input": withdraw}, person(settings)[1]) == "NOT_SIGNED_UP"

    done = await gql.ok(WITHDRAW, {"input": withdraw}, volunteer)
    assert done["withdrawFromShift"]["shiftId"] == later["id"]
    assert done["withdrawFromShift"]["shift"]["placesLeft"] == 3  # the place is free again
    assert later["id"] not in json.dumps(await gql.ok(MY_SHIFTS, token=volunteer))
    # The organiser who made the shift is told, with the reason; the volunteer has it in writing.
    told = await messages(gql, organiser_token, "shift.withdrawn")
    assert "茶歇服务" in told[0]["body"] and "家里有事" in told[0]["body"]
    await messages(gql, volunteer, "shift.withdrawn")

    # An hour before the start is past the cut-off (two hours): refused with whom to call.
    late = {"shiftId": soon["id"], "idempotencyKey": uuid.uuid4().hex}
    refused = refusal(await gql.raw(WITHDRAW, {"input": late}, volunteer))
    assert refused["extensions"]["code"] == "WITHDRAWAL_CLOSED"
    assert refused["extensions"]["details"]["contactPhone"] == "0951-4012345"
    assert "0951-4012345" in refused["extensions"]["messageZh"]
    assert soon["id"] in json.dumps(await gql.ok(MY_SHIFTS, token=volunteer))

    # He may sign up for the first one again; withdrawing needs a sign-up.
    await signed_up(gql, volunteer, later["id"])
    assert later["id"] in json.dumps(await gql.ok(MY_SHIFTS, token=volunteer))
