"""微心愿 stories: a resident's wish goes from posting to confirmation through the public API,
two neighbours race for the same wish, a claim nobody started returns to the wall, and the
counts organisers report match the events."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

from services.common.actor import GRID_WORKER, ORGANISER, RESIDENT, Actor
from services.common.clock import LOCAL_TZ, now
from services.common.settings import Settings
from services.volunteers import wish_handlers
from tests.conftest import COMMUNITY, GraphQLClient, eventually, token_for
from tests.dates import day_iso
from tests.party_steps import approve_party_member

POST = """
mutation($input: PostWishInput!) { postWish(input: $input) { id status building description } }
"""
REVIEW = """
mutation($input: ReviewWishInput!) { reviewWish(input: $input) { id status declineReason mergedInto } }
"""
PUBLISH = "mutation($id: ID!) { publishWish(wishId: $id) { id status } }"
CLAIM = """
mutation($input: ClaimWishInput!) { claimWish(input: $input) { id status claimExpiresAt } }
"""
START = "mutation($id: ID!) { startWish(wishId: $id) { id status } }"
FINISH = "mutation($input: FinishWishInput!) { finishWish(input: $input) { id status doneNote } }"
CONFIRM = "mutation($id: ID!) { confirmWish(wishId: $id) { id status metAt } }"
WALL = "query($c: String!) { wishWall(communityId: $c) { id status category description building } }"
COUNTS = """
query($c: String!, $since: Date!, $until: Date!) {
  wishCounts(communityId: $c, since: $since, until: $until) {
    posted claimed met
    metByPartner { organisation met }
    metByWorkUnit { organisation met }
  }
}
"""
INBOX = "query { myInbox { kind title body } }"
REGISTER = """
mutation($input: RegisterPartyMemberInput!) { registerPartyMember(input: $input) { workUnit } }
"""
CREATE_PARTNER = """
mutation($input: CreatePartnerOrganisationInput!) { createPartnerOrganisation(input: $input) { id } }
"""
ADD_PARTNER_MEMBER = "mutation($input: AddPartnerMemberInput!) { addPartnerMember(input: $input) { id } }"
UPDATE_PROFILE = (
    "mutation($input: UpdateVolunteerProfileInput!) { updateVolunteerProfile(input: $input) { volunteerId } }"
)
RESIDENT_BY_PHONE = "mutation($input: ResidentByPhoneInput!) { residentByPhone(input: $input) { id } }"


def _json(value: Any) -> dict[str, Any]:
    found: dict[str, Any] = value if isinstance(value, dict) else json.loads(value)
    return found


def person(settings: Settings, community: str, *roles: str) -> tuple[str, str]:
    user_id = f"p-{uuid.uuid4().hex[:10]}"
    return user_id, token_for(settings, user_id, set(roles or {RESIDENT}), {community})


async def post_wish(
    gql: GraphQLClient, token: str, community: str = COMMUNITY, description: str = "轮椅坏了，想请人修一修"
) -> str:
    data = await gql.ok(
        POST,
        {
            "input": {
                "communityId": community,
                "category": "REPAIR",
                "description": description,
                "building": "3号楼",
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        token,
    )
    wish_id: str = data["postWish"]["id"]
    return wish_id


async def on_the_wall(gql: GraphQLClient, token: str, organiser: str, community: str = COMMUNITY) -> str:
    wish_id = await post_wish(gql, token, community)
    await gql.ok(REVIEW, {"input": {"wishId": wish_id, "review": "APPROVE"}}, organiser)
    await gql.ok(PUBLISH, {"id": wish_id}, organiser)
    return wish_id


async def claim(
    gql: GraphQLClient,
    token: str,
    wish_id: str,
    kind: str = "VOLUNTEER",
    organisation: str | None = None,
) -> dict[str, Any]:
    variables = {
        "input": {
            "wishId": wish_id,
            "kind": kind,
            "organisation": organisation,
            "idempotencyKey": uuid.uuid4().hex,
        }
    }
    return await gql.raw(CLAIM, variables, token)


async def registered_party_member(
    gql: GraphQLClient, settings: Settings, community: str, work_unit: str
) -> str:
    """A party member who reported (双报到) to the community, with their work unit."""
    user_id, token = person(settings, community)
    member = {
        "communityId": community,
        "name": "刘建华",
        "workUnit": work_unit,
        "partyBranch": "第一党支部",
        "reportedOn": day_iso(-30),
    }
    await gql.ok(REGISTER, {"input": member}, token)
    # Their own registration waits for the community's review (see test_party_members_review.py).
    await approve_party_member(gql, settings, community, user_id)
    return token


async def partner_member(
    gql: GraphQLClient, settings: Settings, community: str, organiser: str, name: str
) -> str:
    """A member of a partner organisation (共建单位) of the community, who keeps their volunteer
    profile there (an organiser adds only volunteers who serve in the community)."""
    user_id, token = person(settings, community)
    await gql.ok(UPDATE_PROFILE, {"input": {"communityId": community, "availability": "周末"}}, token)
    create = {"communityId": community, "name": name, "idempotencyKey": uuid.uuid4().hex}
    organisation = (await gql.ok(CREATE_PARTNER, {"input": create}, organiser))["createPartnerOrganisation"]
    add = {"organisationId": organisation["id"], "volunteerId": user_id}
    await gql.ok(ADD_PARTNER_MEMBER, {"input": add}, organiser)
    return token


async def inbox_kinds(gql: GraphQLClient, token: str, wanted: int) -> list[str]:
    async def read() -> list[str]:
        kinds = sorted(m["kind"] for m in (await gql.ok(INBOX, token=token))["myInbox"])
        return kinds if len(kinds) >= wanted else []

    found: list[str] = await eventually(read)
    return found


async def test_a_wish_goes_from_posting_to_met(
    gql: GraphQLClient, settings: Settings, organiser_token: str
) -> None:
    resident, resident_token = person(settings, COMMUNITY)
    member_token = await registered_party_member(gql, settings, COMMUNITY, "市税务局")
    wish_id = await post_wish(gql, resident_token, description="轮椅坏了，请打13912345678联系")

    review = await gql.ok(REVIEW, {"input": {"wishId": wish_id, "review": "APPROVE"}}, organiser_token)
    assert review["reviewWish"]["status"] == "APPROVED"
    # Not on the wall until published; residents cannot publish.
    assert await gql.error_code(PUBLISH, {"id": wish_id}, resident_token) == "FORBIDDEN"
    assert (await gql.ok(PUBLISH, {"id": wish_id}, organiser_token))["publishWish"]["status"] == "PUBLISHED"

    wall = {w["id"]: w for w in (await gql.ok(WALL, {"c": COMMUNITY}, member_token))["wishWall"]}
    shown = wall[wish_id]
    assert shown["building"] == "3号楼" and shown["status"] == "PUBLISHED"
    assert "13912345678" not in shown["description"] and "139****5678" in shown["description"]
    assert resident not in str(shown)

    # Only a registered party member claims as one; their work unit is the one they registered.
    _, stranger = person(settings, COMMUNITY)
    assert (await claim(gql, stranger, wish_id, "PARTY_MEMBER"))["errors"][0]["extensions"]["code"] == (
        "NOT_A_PARTY_MEMBER"
    )
    assert (await claim(gql, stranger, wish_id, "PARTNER"))["errors"][0]["extensions"]["code"] == (
        "NOT_A_PARTNER_MEMBER"
    )
    claimed = await claim(gql, member_token, wish_id, "PARTY_MEMBER")
    assert claimed["data"]["claimWish"]["status"] == "CLAIMED"
    assert await gql.error_code(CONFIRM, {"id": wish_id}, resident_token) == "WISH_WRONG_STATE"
    assert await gql.error_code(START, {"id": wish_id}, resident_token) == "NOT_YOUR_CLAIM"
    claimed_query = "{ myClaimedWishes { id startedAt } }"
    before_start = (await gql.ok(claimed_query, token=member_token))["myClaimedWishes"]
    assert before_start == [{"id": wish_id, "startedAt": None}]
    await gql.ok(START, {"id": wish_id}, member_token)
    under_way = (await gql.ok(claimed_query, token=member_token))["myClaimedWishes"]
    assert under_way[0]["startedAt"]  # the volunteer's page shows it as under way, on any device
    done = await gql.ok(FINISH, {"input": {"wishId": wish_id, "note": "已更换轮胎"}}, member_token)
    assert done["finishWish"] == {"id": wish_id, "status": "DONE", "doneNote": "已更换轮胎"}
    # Only the resident (or their grid worker) confirms.
    assert await gql.error_code(CONFIRM, {"id": wish_id}, member_token) == "FORBIDDEN"
    mine = (await gql.ok("{ myWishes { id status } }", token=resident_token))["myWishes"]
    assert mine == [{"id": wish_id, "status": "DONE"}]
    held = (await gql.ok("{ myClaimedWishes { id doneNote } }", token=member_token))["myClaimedWishes"]
    assert held == [{"id": wish_id, "doneNote": "已更换轮胎"}]
    met = await gql.ok(CONFIRM, {"id": wish_id}, resident_token)
    assert met["confirmWish"]["status"] == "MET" and met["confirmWish"]["metAt"]

    assert await inbox_kinds(gql, resident_token, 4) == [
        "wish.claimed",
        "wish.done",
        "wish.posted",
        "wish.published",
    ]
    # (and heard their 双报到 was approved)
    assert await inbox_kinds(gql, member_token, 3) == ["party_member.reviewed", "wish.claimed", "wish.met"]


async def test_two_neighbours_race_for_one_wish_and_exactly_one_gets_it(
    gql: GraphQLClient, settings: Settings, organiser_token: str
) -> None:
    _, resident_token = person(settings, COMMUNITY)
    wish_id = await on_the_wall(gql, resident_token, organiser_token)
    racers = [person(settings, COMMUNITY) for _ in range(4)]
    answers = await asyncio.gather(*(claim(gql, token, wish_id, "VOLUNTEER", None) for _, token in racers))
    won = [a for a in answers if not a.get("errors")]
    lost = [a["errors"][0]["extensions"]["code"] for a in answers if a.get("errors")]
    assert len(won) == 1 and lost == ["WISH_ALREADY_CLAIMED"] * 3


async def test_a_claim_nobody_started_returns_the_wish_to_the_wall(
    gql: GraphQLClient, settings: Settings, pool: Any
) -> None:
    community = f"wish-{uuid.uuid4().hex[:8]}"  # the sweep below sweeps a whole community
    _, organiser_token = person(settings, community, ORGANISER)
    _, resident_token = person(settings, community)
    _, slow_token = person(settings, community)
    keen, _ = person(settings, community)
    wish_id = await on_the_wall(gql, resident_token, organiser_token, community)
    assert not (await claim(gql, slow_token, wish_id)).get("errors")
    organiser = Actor("organiser-sweep", frozenset({ORGANISER}), frozenset({community}))

    def at(days: float) -> dict[str, Any]:
        """What a volunteers command gets from its worker, with the clock ``days`` from now."""
        return {"pool": pool, "settings": settings, "clock": lambda: now() + timedelta(days=days)}

    # Two days on the claim still holds: the sweep leaves it and nobody else may take it.
    assert await wish_handlers.expire_wish_claims(at(2), organiser, {"community_id": community}) == {
        "expired": 0
    }
    assert (await claim(gql, person(settings, community)[1], wish_id))["errors"][0]["extensions"]["code"] == (
        "WISH_ALREADY_CLAIMED"
    )
    # Four days on, never started: the hourly sweep returns it to the wall and tells the claimant.
    assert await wish_handlers.expire_lapsed_wish_claims(at(4)) >= 1
    wall = {w["id"]: w["status"] for w in (await gql.ok(WALL, {"c": community}, resident_token))["wishWall"]}
    assert wall[wish_id] == "PUBLISHED"
    assert "wish.claim_expired" in await inbox_kinds(gql, slow_token, 2)

    # Someone else claims it; their claim, once started, no longer lapses.
    keen_actor = Actor(keen, frozenset({RESIDENT}), frozenset({community}))
    args = {"id": str(uuid.uuid4()), "wish_id": wish_id, "kind": "VOLUNTEER"}
    taken = await wish_handlers.claim_wish(at(4), keen_actor, args)
    assert taken["claimant_id"] == keen
    await wish_handlers.start_wish(at(5), keen_actor, {"wish_id": wish_id})
    assert await wish_handlers.expire_wish_claims(at(30), organiser, {"community_id": community}) == {
        "expired": 0
    }


async def test_a_lapsed_claim_is_taken_over_by_the_next_claimant(
    gql: GraphQLClient, settings: Settings, pool: Any, organiser_token: str
) -> None:
    _, resident_token = person(settings, COMMUNITY)
    _, slow_token = person(settings, COMMUNITY)
    keen, _ = person(settings, COMMUNITY)
    wish_id = await on_the_wall(gql, resident_token, organiser_token)
    assert not (await claim(gql, slow_token, wish_id)).get("errors")
    ctx = {"pool": pool, "settings": settings, "clock": lambda: now() + timedelta(days=4)}
    keen_actor = Actor(keen, frozenset({RESIDENT}), frozenset({COMMUNITY}))
    args = {"id": str(uuid.uuid4()), "wish_id": wish_id, "kind": "VOLUNTEER"}
    taken = await wish_handlers.claim_wish(ctx, keen_actor, args)
    assert taken["status"] == "CLAIMED" and taken["claimant_id"] == keen
    async with pool.acquire() as conn:
        events = await conn.fetch(
            "SELECT type FROM volunteers.outbox WHERE payload->>'wish_id' = $1 ORDER BY id", wish_id
        )
    assert [e["type"] for e in events][-3:] == ["wish.claimed", "wish.claim_expired", "wish.claimed"]


async def test_counts_for_reporting_match_the_events(
    gql: GraphQLClient, settings: Settings, pool: Any
) -> None:
    community = f"wish-{uuid.uuid4().hex[:8]}"
    _, organiser = person(settings, community, ORGANISER)
    residents = [person(settings, community) for _ in range(4)]
    party_member = await registered_party_member(gql, settings, community, "市税务局")
    partner = await partner_member(gql, settings, community, organiser, "朔方物业")
    _, volunteer = person(settings, community)

    met_by = [(party_member, "PARTY_MEMBER", None), (partner, "PARTNER", "朔方物业")]
    wall = [await on_the_wall(gql, token, organiser, community) for _, token in residents[:3]]
    for wish_id, (token, kind, organisation) in zip(wall, met_by, strict=False):
        assert not (await claim(gql, token, wish_id, kind, organisation)).get("errors")
        await gql.ok(FINISH, {"input": {"wishId": wish_id, "note": "完成"}}, token)
    assert not (await claim(gql, volunteer, wall[2], "VOLUNTEER", None)).get("errors")  # claimed, not met
    for wish_id, (_, token) in zip(wall[:2], residents, strict=False):
        await gql.ok(CONFIRM, {"id": wish_id}, token)
    declined = await post_wish(gql, residents[3][1], community)
    review = {"wishId": declined, "review": "DECLINE", "reason": "不属于社区服务范围"}
    assert (await gql.ok(REVIEW, {"input": review}, organiser))["reviewWish"]["status"] == "DECLINED"

    today = now().astimezone(LOCAL_TZ).date()
    period = {
        "c": community,
        "since": str(today - timedelta(days=1)),
        "until": str(today + timedelta(days=1)),
    }
    counts = (await gql.ok(COUNTS, period, organiser))["wishCounts"]
    async with pool.acquire() as conn:
        events = await conn.fetch(
            "SELECT type, payload FROM volunteers.outbox WHERE payload->>'community_id' = $1", community
        )
    kinds = [e["type"] for e in events]
    met = [_json(e["payload"]) for e in events if e["type"] == "wish.met"]
    assert counts["posted"] == kinds.count("wish.posted") == 4
    assert counts["claimed"] == kinds.count("wish.claimed") == 3
    assert counts["met"] == len(met) == 2
    assert counts["metByPartner"] == [
        {"organisation": p["organisation"], "met": 1} for p in met if p["claimant_kind"] == "PARTNER"
    ]
    assert counts["metByWorkUnit"] == [{"organisation": "市税务局", "met": 1}]
    # Another community's organiser sees none of it.
    assert await gql.error_code(COUNTS, {**period, "c": COMMUNITY}, organiser) == "FORBIDDEN"


async def test_a_duplicate_is_merged_and_a_declined_wish_says_why(
    gql: GraphQLClient, settings: Settings, organiser_token: str
) -> None:
    _, first_token = person(settings, COMMUNITY)
    _, second_token = person(settings, COMMUNITY)
    first = await post_wish(gql, first_token, description="楼道灯坏了")
    second = await post_wish(gql, second_token, description="3号楼楼道灯不亮")
    merged = await gql.ok(
        REVIEW, {"input": {"wishId": second, "review": "MERGE", "mergeInto": first}}, organiser_token
    )
    assert merged["reviewWish"] == {
        "id": second,
        "status": "MERGED",
        "declineReason": None,
        "mergedInto": first,
    }
    # A merged wish cannot be published, nor merged into itself, nor declined without a reason.
    assert await gql.error_code(PUBLISH, {"id": second}, organiser_token) == "WISH_WRONG_STATE"
    self_merge = {"wishId": first, "review": "MERGE", "mergeInto": first}
    assert await gql.error_code(REVIEW, {"input": self_merge}, organiser_token) == "BAD_MERGE"
    assert await gql.error_code(
        REVIEW, {"input": {"wishId": first, "review": "DECLINE"}}, organiser_token
    ) == ("BAD_USER_INPUT")
    assert "wish.reviewed" in await inbox_kinds(gql, second_token, 2)


async def test_a_grid_worker_confirms_a_wish_they_posted_for_an_elder(
    gql: GraphQLClient, settings: Settings, pool: Any, organiser_token: str
) -> None:
    grid, grid_token = person(settings, COMMUNITY, GRID_WORKER)
    # An elder the grid worker registers at the desk: they have never logged in.
    phone = f"137{uuid.uuid4().int % 10**8:08d}"
    profile = {
        "communityId": COMMUNITY,
        "name": "赵淑兰",
        "phone": phone,
        "building": "5号楼",
        "unit": "1单元",
        "register": True,
        "privacyNoticeExplained": True,
    }
    elder = (await gql.ok(RESIDENT_BY_PHONE, {"input": profile}, grid_token))["residentByPhone"]["id"]
    _, volunteer_token = person(settings, COMMUNITY)
    data = await gql.ok(
        POST,
        {
            "input": {
                "communityId": COMMUNITY,
                "category": "VISIT",
                "description": "独居老人，想有人每周来聊聊天",
                "building": "5号楼",
                "idempotencyKey": uuid.uuid4().hex,
                "residentId": elder,
            }
        },
        grid_token,
    )
    wish_id = data["postWish"]["id"]
    await gql.ok(REVIEW, {"input": {"wishId": wish_id, "review": "APPROVE"}}, organiser_token)
    await gql.ok(PUBLISH, {"id": wish_id}, organiser_token)
    assert not (await claim(gql, volunteer_token, wish_id, "VOLUNTEER", None)).get("errors")
    await gql.ok(FINISH, {"input": {"wishId": wish_id, "note": "已上门陪伴两小时"}}, volunteer_token)
    assert (await gql.ok(CONFIRM, {"id": wish_id}, grid_token))["confirmWish"]["status"] == "MET"
    # The grid worker heard what the elder heard about the wish they posted.
    assert await inbox_kinds(gql, grid_token, 3) == ["wish.claimed", "wish.done", "wish.posted"]
    async with pool.acquire() as conn:
        wish = await conn.fetchrow(
            "SELECT resident_id, posted_by, confirmed_by FROM volunteers.wishes WHERE id = $1",
            uuid.UUID(wish_id),
        )
    assert dict(wish) == {"resident_id": elder, "posted_by": grid, "confirmed_by": grid}
