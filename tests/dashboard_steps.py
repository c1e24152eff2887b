"""A street with a little of a year's work in it, made through the real commands and handlers:
what the dashboard's tests count."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from services.common.actor import ORGANISER, RESIDENT, SCANNER, VOLUNTEER, Actor
from services.common.ids import new_id
from services.common.settings import Settings
from services.volunteers import codes, council_handlers, domain, handlers, list_handlers
from services.volunteers import repository as volunteers_repo
from services.volunteers.profiles import PartyMember, PartyMemberStatus
from tests.conftest import CREATE_ACTIVITY, CREATE_FESTIVAL, SCHEDULE_SESSION, GraphQLClient, token_for
from tests.door_steps import ADMIT
from tests.identity_steps import resident_logs_in
from tests.test_directory import add_community, add_street, platform
from tests.test_door import admit
from tests.test_wishes import CONFIRM, FINISH, START, claim, on_the_wall, post_wish
from tests.ticket_steps import schedule_at, sign_up

TITLE = "亲子手工"


async def volunteer_served(
    pool: Any, settings: Settings, community: str, minutes: int, person: str | None = None
) -> str:
    """A volunteer checked in ``minutes`` ago to a shift under way, checks out now; the shift."""
    started = datetime.now(UTC) - timedelta(minutes=minutes)
    person = person or f"volunteer-{uuid.uuid4().hex[:8]}"
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
    return str(shift["id"])


@dataclass(frozen=True)
class StreetWithWork:
    admin: str
    street: str
    community: str
    organiser: str
    signups: list[str]
    resident_id: str
    session_id: str  # the session the six signed up for


async def street_with_work(gql: GraphQLClient, settings: Settings, pool: Any) -> StreetWithWork:
    """A new street of one community, and a neighbouring street, through the public API; in the
    community six residents sign up for a session and two come through the door, a volunteer
    serves an hour and a half, and a resident posts two wishes, one of them met."""
    admin = platform(settings)
    street = await add_street(gql, admin, f"仪表街道{uuid.uuid4().hex[:4]}")
    community = await add_community(gql, admin, f"仪表社区{uuid.uuid4().hex[:4]}", street)
    other_street = await add_street(gql, admin, f"邻街道{uuid.uuid4().hex[:4]}")
    await add_community(gql, admin, f"邻社区{uuid.uuid4().hex[:4]}", other_street)
    organiser = token_for(settings, "dash-organiser", {ORGANISER}, {community})

    session_id = await schedule_at(gql, organiser, timedelta(minutes=20), title=TITLE, community=community)
    signups = []
    for _ in range(6):
        resident = token_for(settings, f"resident-{uuid.uuid4().hex[:8]}", {RESIDENT}, {community})
        signups.append((await sign_up(gql, resident, session_id))["id"])
    scanner = token_for(settings, "dash-scanner", {SCANNER}, {community})
    for signup_id in signups[:2]:
        await gql.ok(ADMIT, admit(session_id, signup_id, 1), scanner)

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

    return StreetWithWork(admin, street, community, organiser, signups, resident_id, session_id)


THREE_AND_TEN = "社区义诊"


SECOND_ACTIVITY = "健康讲座"


async def three_beside_ten(gql: GraphQLClient, settings: Settings, lecture: int = 0) -> tuple[str, str, str]:
    """A new street of two communities, each with a session of the same activity in three hours:
    three residents sign up in the first, ten in the second, and ``lecture`` for another activity
    in the first; (street, first, second)."""
    admin = platform(settings)
    street = await add_street(gql, admin, f"隐私街道{uuid.uuid4().hex[:4]}")
    few = await add_community(gql, admin, f"小社区{uuid.uuid4().hex[:4]}", street)
    many = await add_community(gql, admin, f"大社区{uuid.uuid4().hex[:4]}", street)
    planned = [(few, 3, THREE_AND_TEN), (many, 10, THREE_AND_TEN)] + (
        [(few, lecture, SECOND_ACTIVITY)] if lecture else []
    )
    for community, people, title in planned:
        organiser = token_for(settings, f"organiser-{community}", {ORGANISER}, {community})
        session = await schedule_at(
            gql, organiser, timedelta(hours=3), capacity=20, title=title, community=community
        )
        for _ in range(people):
            resident = token_for(settings, f"resident-{uuid.uuid4().hex[:8]}", {RESIDENT}, {community})
            await sign_up(gql, resident, session)
    return street, few, many


STATION = "朔方邻里驿家"
CATEGORY = "文体"
WORK_UNIT = "市供电公司"
PARTNER = "朔方物业"
ADD_MEMBER = """
mutation($name: String!, $relation: Relation!, $ageBand: AgeBand!) {
  addHouseholdMember(name: $name, relation: $relation, ageBand: $ageBand, guardianConsent: true) { id }
}
"""
FAMILY_SIGN_UP = "mutation($input: SignUpInput!) { signUp(input: $input) { id status partySize } }"
CANCEL_SIGNUP = "mutation($input: CancelSignupInput!) { cancelSignup(input: $input) { id status } }"
MOVE_SESSION = "mutation($input: MoveSessionInput!) { moveSession(input: $input) { id venue } }"
CREATE_VENUE = "mutation($input: CreateVenueInput!) { createVenue(input: $input) { id } }"


@dataclass(frozen=True)
class MoreWork:
    station: str
    moved_to: str  # the second station, where the first session moved
    partner: str
    work_unit: str
    names: list[str]  # people's names and phones that must never reach the dashboard


async def station_venue(gql: GraphQLClient, organiser: str, community: str, name: str) -> str:
    venue = {"communityId": community, "name": name, "kind": "STATION", "capacity": 30}
    made = await gql.ok(CREATE_VENUE, {"input": {**venue, "idempotencyKey": uuid.uuid4().hex}}, organiser)
    venue_id: str = made["createVenue"]["id"]
    return venue_id


async def station_session(gql: GraphQLClient, organiser: str, community: str, station: str) -> str:
    """A 文体 activity's session at the community's 邻里驿家 station, starting in 20 minutes, an hour long."""
    key = lambda: uuid.uuid4().hex  # noqa: E731
    venue_id = await station_venue(gql, organiser, community, station)
    starts = (datetime.now(UTC) + timedelta(minutes=20)).replace(second=0, microsecond=0)
    festival = {
        "name": "第四届幸福邻里节",
        "communityIds": [community],
        "startsOn": (starts - timedelta(days=1)).date().isoformat(),
        "endsOn": (starts + timedelta(days=1)).date().isoformat(),
        "published": True,
        "idempotencyKey": key(),
    }
    festival_id = (await gql.ok(CREATE_FESTIVAL, {"input": festival}, organiser))["createFestival"]["id"]
    activity = {
        "festivalId": festival_id,
        "communityId": community,
        "title": "广场舞",
        "category": CATEGORY,
        "idempotencyKey": key(),
    }
    activity_id = (await gql.ok(CREATE_ACTIVITY, {"input": activity}, organiser))["createActivity"]["id"]
    session = {
        "activityId": activity_id,
        "venueId": venue_id,
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=1)).isoformat(),
        "capacity": 10,
        "idempotencyKey": key(),
    }
    session_id: str = (await gql.ok(SCHEDULE_SESSION, {"input": session}, organiser))["scheduleSession"]["id"]
    return session_id


async def more_work(gql: GraphQLClient, settings: Settings, pool: Any, made: StreetWithWork) -> MoreWork:
    """On top of ``street_with_work``: at the community's station a family of three (a child, a
    grandfather and the mother) and two neighbours sign up for a 文体 session, one neighbour
    cancels, two of the family come through the door; a party member of a work unit, who is
    also in a partner unit, serves an hour and is corrected by half an hour; the partner unit
    claims two project items and one is closed; two concerns are raised and one handled; the
    first session moves to a second station."""
    community, organiser = made.community, made.organiser
    tag = uuid.uuid4().hex[:4]
    station, partner_name, work_unit = f"{STATION}{tag}", f"{PARTNER}{tag}", f"{WORK_UNIT}{tag}"
    session_id = await station_session(gql, organiser, community, station)
    mother = (await resident_logs_in(gql, pool))["accessToken"]
    gql.http.cookies.clear()
    members = [
        (await gql.ok(ADD_MEMBER, {"name": name, "relation": relation, "ageBand": band}, mother))[
            "addHouseholdMember"
        ]["id"]
        for name, relation, band in (("王小明", "CHILD", "CHILD"), ("王建国", "PARENT", "ELDER"))
    ]
    family_input = {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex, "attendeeIds": members}
    family = (await gql.ok(FAMILY_SIGN_UP, {"input": family_input}, mother))["signUp"]
    assert (family["status"], family["partySize"]) == ("CONFIRMED", 3)
    neighbours = [
        token_for(settings, f"resident-{uuid.uuid4().hex[:8]}", {RESIDENT}, {community}) for _ in "ab"
    ]
    signed = [(await sign_up(gql, n, session_id))["id"] for n in neighbours]
    cancel = {"signupId": signed[1], "idempotencyKey": uuid.uuid4().hex}
    assert (await gql.ok(CANCEL_SIGNUP, {"input": cancel}, neighbours[1]))["cancelSignup"][
        "status"
    ] == "CANCELLED"
    scanner = token_for(settings, "dash-scanner", {SCANNER}, {community})
    await gql.ok(ADMIT, admit(session_id, family["id"], 2), scanner)

    moved_to = f"{STATION}二{tag}"
    second = await station_venue(gql, organiser, community, moved_to)
    move = {"sessionId": made.session_id, "venueId": second, "idempotencyKey": uuid.uuid4().hex}
    assert (await gql.ok(MOVE_SESSION, {"input": move}, organiser))["moveSession"]["venue"] == moved_to

    ctx = {"pool": pool, "settings": settings}
    boss = Actor("dash-organiser", frozenset({ORGANISER}), frozenset({community}))
    member_id = f"member-{uuid.uuid4().hex[:8]}"
    async with pool.acquire() as conn:
        member = PartyMember("李党员", work_unit, "第一支部", community, datetime.now(UTC).date())
        await volunteers_repo.upsert_party_member(
            conn, member_id, member, "dash-organiser", may_move=True, status=PartyMemberStatus.APPROVED
        )
        partner = await volunteers_repo.insert_partner_organisation(
            conn, uuid.uuid4(), community, partner_name, "dash-organiser"
        )
        assert partner is not None
        await volunteers_repo.insert_partner_member(conn, partner["id"], member_id, "dash-organiser")
    shift_id = await volunteer_served(pool, settings, community, 60, member_id)
    correction = {
        "id": str(uuid.uuid4()),
        "shift_id": shift_id,
        "volunteer_id": member_id,
        "minutes": 30,
        "reason": "提前到场布置",
    }
    await handlers.correct_service_hours(ctx, boss, correction)

    partner_member = Actor(member_id, frozenset({VOLUNTEER}), frozenset({community}))
    for n, title in enumerate(("为3号楼老人安装扶手", "修缮驿家屋顶")):
        item_id = str(uuid.uuid4())
        item = {"id": item_id, "community_id": community, "kind": "PROJECT", "title": title}
        await list_handlers.publish_list_item(ctx, boss, item)
        await list_handlers.claim_project_item(ctx, partner_member, {"item_id": item_id})
        if n == 0:
            await list_handlers.complete_claim(ctx, partner_member, {"item_id": item_id, "note": "装好了"})
            await list_handlers.close_list_item(ctx, boss, {"item_id": item_id})

    resident = Actor(f"resident-{uuid.uuid4().hex[:8]}", frozenset({RESIDENT}), frozenset({community}))
    concerns = []
    for words in ("3号楼楼道灯坏了，找王秀兰13912345678", "小区门口积水"):
        concern = {"id": str(uuid.uuid4()), "community_id": community, "building": "3号楼", "words": words}
        concerns.append((await council_handlers.raise_concern(ctx, resident, concern))["id"])
    handled = {"concern_id": str(concerns[0]), "triage": "HANDLED", "note": "已换灯泡"}
    await council_handlers.triage_concern(ctx, boss, handled)
    return MoreWork(
        station, moved_to, partner_name, work_unit, ["王小明", "王建国", "李党员", "王秀兰", member_id]
    )
