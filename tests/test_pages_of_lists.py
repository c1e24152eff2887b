"""Every list comes in pages (README.md, "Pages of a list"): walking a list page by page, each
time after the last item of the page before, yields every item exactly once and in the list's
order; a limit out of range and an ``after`` that names no item of the list are refused with
their codes. Each case makes its own items through the public API, as staff and residents would."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from services.common.actor import COMMUNITY_ADMIN, GRID_WORKER, ORGANISER, PLATFORM_ADMIN, RESIDENT, VOLUNTEER
from services.common.paging import MAX_LIMIT
from services.common.settings import Settings
from tests.conftest import (
    COMMUNITY,
    CREATE_ACTIVITY,
    CREATE_FESTIVAL,
    SCHEDULE_SESSION,
    SIGN_UP,
    GraphQLClient,
    eventually,
    open_session,
    token_for,
)
from tests.council_steps import concern_at_council, convene, property_company, resident_of, station
from tests.dates import at_iso, day_iso, minutes_from_now
from tests.elder_steps import FIND, elder
from tests.identity_steps import new_phone
from tests.party_steps import REGISTER, registration
from tests.test_council_lists import project
from tests.test_wishes import claim, on_the_wall, post_wish

CREATE_VENUE = "mutation($input: CreateVenueInput!) { createVenue(input: $input) { id } }"
CREATE_SHIFT = "mutation($input: CreateShiftInput!) { createShift(input: $input) { id } }"
SHIFT_SIGN_UP = "mutation($input: SignUpForShiftInput!) { signUpForShift(input: $input) { id } }"
ADD_STREET = 'mutation($name: String!) { addStreet(name: $name, district: "灵武市") { id } }'


@dataclass(frozen=True)
class Listed:
    """A list made for a case: whose it is to read, and the variables that name it."""

    token: str
    variables: dict[str, Any]
    at_least: int  # items the case made (the list may hold others made by other tests)


@dataclass(frozen=True)
class Case:
    name: str
    query: str  # takes $limit and $after (and what ``make`` returns as variables)
    path: tuple[str | int, ...]  # from data to the list
    key: str  # the item's field ``after`` names
    make: Callable[[GraphQLClient, Settings, Any], Awaitable[Listed]]


def _person(settings: Settings, *roles: str) -> tuple[str, str]:
    user_id = f"{roles[0]}-{uuid.uuid4().hex[:8]}"
    return user_id, token_for(settings, user_id, set(roles), {COMMUNITY})


async def _signed_up(gql: GraphQLClient, token: str, session_id: str) -> None:
    made = await gql.ok(
        SIGN_UP, {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}}, token
    )
    signup_id = made["signUp"]["id"]

    async def settled() -> bool:
        found = await gql.ok("query($id: ID!) { signup(id: $id) { status } }", {"id": signup_id}, token)
        return found["signup"]["status"] != "PENDING"

    assert await eventually(settled)


async def roster(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    organiser = _person(settings, ORGANISER)[1]
    session_id = await open_session(gql, organiser, capacity=3)
    for _ in range(5):  # three seats, then two waiting: the waitlist comes after them
        await _signed_up(gql, _person(settings, RESIDENT)[1], session_id)
    return Listed(organiser, {"id": session_id}, 5)


async def my_signups(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    organiser = _person(settings, ORGANISER)[1]
    resident = _person(settings, RESIDENT)[1]
    for n in range(5):
        await _signed_up(gql, resident, await open_session(gql, organiser, title=f"剪纸{n}"))
    return Listed(resident, {}, 5)


async def my_inbox(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    listed = await my_signups(gql, settings, pool)  # each sign-up is told in the inbox

    async def told() -> bool:
        found = await gql.ok("{ myInbox(limit: 200) { id } }", token=listed.token)
        return len(found["myInbox"]) >= 5

    assert await eventually(told)
    return listed


async def signups_for(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    worker = _person(settings, GRID_WORKER)[1]
    found = (await gql.ok(FIND, elder("海大爷", new_phone()), worker))["residentByPhone"]
    resident = token_for(settings, found["id"], {RESIDENT}, {COMMUNITY})
    organiser = _person(settings, ORGANISER)[1]
    for n in range(4):
        await _signed_up(
            gql, resident, await open_session(gql, organiser, title=f"象棋{n}", days_ahead=8 + n)
        )
    return Listed(worker, {"r": found["id"]}, 4)


async def festivals(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    organiser = _person(settings, ORGANISER)[1]
    for n in range(3):
        await open_session(gql, organiser, title=f"书法{n}", days_ahead=20 + n)
    return Listed(organiser, {}, 3)


async def _festival_with_activity(gql: GraphQLClient, organiser: str) -> tuple[str, str]:
    festival = {"name": "第四届幸福邻里节", "communityIds": [COMMUNITY], "startsOn": day_iso(10)}
    made = await gql.ok(
        CREATE_FESTIVAL,
        {"input": {**festival, "endsOn": day_iso(11), "idempotencyKey": uuid.uuid4().hex}},
        organiser,
    )
    festival_id: str = made["createFestival"]["id"]
    return festival_id, await _activity(gql, organiser, festival_id, "太极")


async def _activity(gql: GraphQLClient, organiser: str, festival_id: str, title: str) -> str:
    activity = {"festivalId": festival_id, "communityId": COMMUNITY, "title": title}
    made = await gql.ok(
        CREATE_ACTIVITY, {"input": {**activity, "idempotencyKey": uuid.uuid4().hex}}, organiser
    )
    activity_id: str = made["createActivity"]["id"]
    return activity_id


async def activities_of_festival(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    organiser = _person(settings, ORGANISER)[1]
    festival_id, _ = await _festival_with_activity(gql, organiser)
    for n in range(4):
        await _activity(gql, organiser, festival_id, f"太极{n}")
    return Listed(organiser, {"id": festival_id}, 5)


async def sessions_of_activity(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    organiser = _person(settings, ORGANISER)[1]
    festival_id, activity_id = await _festival_with_activity(gql, organiser)
    for hour in (12, 9, 11, 10, 8):  # scheduled out of order: listed earliest first
        session = {
            "activityId": activity_id,
            "venue": "朔方社区邻里驿家",
            "startsAt": at_iso(10, f"{hour:02d}:00"),
            "endsAt": at_iso(10, f"{hour:02d}:30"),
            "capacity": 5,
        }
        await gql.ok(SCHEDULE_SESSION, {"input": {**session, "idempotencyKey": uuid.uuid4().hex}}, organiser)
    return Listed(organiser, {"id": festival_id}, 5)


async def venues(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    organiser = _person(settings, ORGANISER)[1]
    for n in range(4):
        venue = {"communityId": COMMUNITY, "name": f"活动室{uuid.uuid4().hex[:4]}{n}", "kind": "ROOM"}
        await gql.ok(
            CREATE_VENUE, {"input": {**venue, "capacity": 20, "idempotencyKey": uuid.uuid4().hex}}, organiser
        )
    return Listed(organiser, {"c": COMMUNITY}, 4)


async def _shift(gql: GraphQLClient, organiser: str, minutes_ahead: int) -> str:
    shift = {
        "communityId": COMMUNITY,
        "venue": f"朔方社区邻里驿家 {uuid.uuid4().hex[:6]}",
        "role": "签到引导",
        "startsAt": minutes_from_now(minutes_ahead).isoformat(),
        "endsAt": minutes_from_now(minutes_ahead + 120).isoformat(),
        "headcount": 6,
    }
    made = await gql.ok(CREATE_SHIFT, {"input": shift}, organiser)
    shift_id: str = made["createShift"]["id"]
    return shift_id


async def shifts(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    organiser = _person(settings, ORGANISER)[1]
    for n in range(4):
        await _shift(gql, organiser, 600 + n)
    return Listed(organiser, {"c": COMMUNITY}, 4)


async def shift_roster(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    organiser = _person(settings, ORGANISER)[1]
    shift_id = await _shift(gql, organiser, 300)
    for _ in range(5):
        volunteer = _person(settings, VOLUNTEER)[1]
        await gql.ok(
            SHIFT_SIGN_UP, {"input": {"shiftId": shift_id, "idempotencyKey": uuid.uuid4().hex}}, volunteer
        )
    return Listed(organiser, {"id": shift_id}, 5)


async def my_shift_signups(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    organiser = _person(settings, ORGANISER)[1]
    volunteer = _person(settings, VOLUNTEER)[1]
    for n in range(5):
        shift_id = await _shift(gql, organiser, 400 + 200 * n)
        await gql.ok(
            SHIFT_SIGN_UP, {"input": {"shiftId": shift_id, "idempotencyKey": uuid.uuid4().hex}}, volunteer
        )
    return Listed(volunteer, {}, 5)


async def streets(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    admin = _person(settings, PLATFORM_ADMIN)[1]
    for _ in range(3):
        await gql.ok(ADD_STREET, {"name": f"街道{uuid.uuid4().hex[:6]}"}, admin)
    return Listed(admin, {}, 3)


async def audit_log(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    await shifts(gql, settings, pool)  # four staff actions in the community, at least
    return Listed(_person(settings, COMMUNITY_ADMIN)[1], {"c": COMMUNITY}, 4)


async def wish_wall(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    organiser = _person(settings, ORGANISER)[1]
    for _ in range(3):
        await on_the_wall(gql, _person(settings, RESIDENT)[1], organiser)
    return Listed(organiser, {"c": COMMUNITY}, 3)


async def my_claimed_wishes(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    organiser, volunteer = _person(settings, ORGANISER)[1], _person(settings, VOLUNTEER)[1]
    for _ in range(3):
        wish_id = await on_the_wall(gql, _person(settings, RESIDENT)[1], organiser)
        assert (await claim(gql, volunteer, wish_id))["data"]["claimWish"]["status"] == "CLAIMED"
    return Listed(volunteer, {}, 3)


async def my_wishes(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    resident = _person(settings, RESIDENT)[1]
    for n in range(5):
        await post_wish(gql, resident, description=f"想请人帮忙换灯泡{n}")
    return Listed(resident, {}, 5)


async def wishes_to_review(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    for _ in range(3):
        await post_wish(gql, _person(settings, RESIDENT)[1])
    return Listed(_person(settings, ORGANISER)[1], {"c": COMMUNITY}, 3)


async def my_concerns(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    resident = (await resident_of(gql, pool, "3号楼"))["token"]
    grid_worker = _person(settings, GRID_WORKER)[1]
    for n in range(4):
        await concern_at_council(gql, resident, grid_worker, f"楼道灯坏了（{n}）")
    return Listed(resident, {}, 4)


async def _as_staff(made: Awaitable[Listed], settings: Settings) -> Listed:
    """The same items, read by the community's organiser."""
    listed = await made
    return Listed(_person(settings, ORGANISER)[1], {"c": COMMUNITY}, listed.at_least)


async def council_meetings(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    resident = (await resident_of(gql, pool, "5号楼"))["token"]
    grid_worker, organiser = _person(settings, GRID_WORKER)[1], _person(settings, ORGANISER)[1]
    place = await station(gql, settings)
    partner = [{"role": "PARTNER_UNIT", "partnerId": (await property_company(gql, organiser))["id"]}]
    for n in range(3):
        concern = await concern_at_council(gql, resident, grid_worker, f"电梯异响（{n}）")
        await convene(gql, organiser, concern, place, partner)
    return Listed(organiser, {"c": COMMUNITY}, 3)


async def party_members(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    for n in range(4):  # their own 双报到, waiting for the community
        member = _person(settings, VOLUNTEER)[1]
        await gql.ok(REGISTER, {"input": registration(f"党员{n}", f"税务局{n % 2}")}, member)
    return Listed(_person(settings, ORGANISER)[1], {"c": COMMUNITY}, 4)


async def partner_organisations(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    organiser = _person(settings, ORGANISER)[1]
    for _ in range(3):
        await property_company(gql, organiser)
    return Listed(organiser, {"c": COMMUNITY}, 3)


async def projects(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
    organiser = _person(settings, ORGANISER)[1]
    for n in range(4):
        await project(gql, organiser, f"楼道粉刷{n}")
    return Listed(organiser, {"c": COMMUNITY}, 4)


CASES = [
    Case(
        "sessionRoster",
        "query($id: ID!, $limit: Int!, $after: ID) { list: sessionRoster(sessionId: $id, limit: $limit, "
        "after: $after) { signupId status } }",
        ("list",),
        "signupId",
        roster,
    ),
    Case(
        "mySignups",
        "query($limit: Int!, $after: ID) { list: mySignups(limit: $limit, after: $after) { id } }",
        ("list",),
        "id",
        my_signups,
    ),
    Case(
        "myInbox",
        "query($limit: Int!, $after: ID) { list: myInbox(limit: $limit, after: $after) { id } }",
        ("list",),
        "id",
        my_inbox,
    ),
    Case(
        "signupsFor",
        "query($r: ID!, $limit: Int!, $after: ID) { list: signupsFor(residentId: $r, limit: $limit, "
        "after: $after) { id } }",
        ("list",),
        "id",
        signups_for,
    ),
    Case(
        "festivals",
        "query($limit: Int!, $after: ID) { list: festivals(limit: $limit, after: $after) { id startsOn } }",
        ("list",),
        "id",
        festivals,
    ),
    Case(
        "festival.activities",
        "query($id: ID!, $limit: Int!, $after: ID) { festival(id: $id) { "
        "list: activities(limit: $limit, after: $after) { id } } }",
        ("festival", "list"),
        "id",
        activities_of_festival,
    ),
    Case(
        "activity.sessions",
        "query($id: ID!, $limit: Int!, $after: ID) { festival(id: $id) { activities(limit: 1) { "
        "list: sessions(limit: $limit, after: $after) { id startsAt } } } }",
        ("festival", "activities", 0, "list"),
        "id",
        sessions_of_activity,
    ),
    Case(
        "venues",
        "query($c: String!, $limit: Int!, $after: ID) { list: venues(communityId: $c, limit: $limit, "
        "after: $after) { id name } }",
        ("list",),
        "id",
        venues,
    ),
    Case(
        "shifts",
        "query($c: String!, $limit: Int!, $after: ID) { list: shifts(communityId: $c, limit: $limit, "
        "after: $after) { id startsAt } }",
        ("list",),
        "id",
        shifts,
    ),
    Case(
        "shiftRoster",
        "query($id: ID!, $limit: Int!, $after: ID) { list: shiftRoster(shiftId: $id, limit: $limit, "
        "after: $after) { volunteerId } }",
        ("list",),
        "volunteerId",
        shift_roster,
    ),
    Case(
        "myShiftSignups",
        "query($limit: Int!, $after: ID) { list: myShiftSignups(limit: $limit, after: $after) { id } }",
        ("list",),
        "id",
        my_shift_signups,
    ),
    Case(
        "streets",
        "query($limit: Int!, $after: ID) { list: streets(limit: $limit, after: $after) { id } }",
        ("list",),
        "id",
        streets,
    ),
    Case(
        "wishWall",
        "query($c: String!, $limit: Int!, $after: ID) { list: wishWall(communityId: $c, limit: $limit, "
        "after: $after) { id } }",
        ("list",),
        "id",
        wish_wall,
    ),
    Case(
        "myClaimedWishes",
        "query($limit: Int!, $after: ID) { list: myClaimedWishes(limit: $limit, after: $after) { id } }",
        ("list",),
        "id",
        my_claimed_wishes,
    ),
    Case(
        "myWishes",
        "query($limit: Int!, $after: ID) { list: myWishes(limit: $limit, after: $after) { id } }",
        ("list",),
        "id",
        my_wishes,
    ),
    Case(
        "wishesToReview",
        "query($c: String!, $limit: Int!, $after: ID) { list: wishesToReview(communityId: $c, limit: $limit, "
        "after: $after) { id } }",
        ("list",),
        "id",
        wishes_to_review,
    ),
    Case(
        "myConcerns",
        "query($limit: Int!, $after: ID) { list: myConcerns(limit: $limit, after: $after) { id } }",
        ("list",),
        "id",
        my_concerns,
    ),
    Case(
        "communityConcerns",
        "query($c: String!, $limit: Int!, $after: ID) { list: communityConcerns(communityId: $c, "
        "limit: $limit, after: $after) { id } }",
        ("list",),
        "id",
        lambda gql, settings, pool: _as_staff(my_concerns(gql, settings, pool), settings),
    ),
    Case(
        "councilMeetings",
        "query($c: String!, $limit: Int!, $after: ID) { list: councilMeetings(communityId: $c, "
        "limit: $limit, after: $after) { id } }",
        ("list",),
        "id",
        council_meetings,
    ),
    Case(
        "partyMembers",
        "query($c: String!, $limit: Int!, $after: ID) { list: partyMembers(communityId: $c, limit: $limit, "
        "after: $after) { volunteerId } }",
        ("list",),
        "volunteerId",
        party_members,
    ),
    Case(
        "partyMembersToReview",
        "query($c: String!, $limit: Int!, $after: ID) { list: partyMembersToReview(communityId: $c, "
        "limit: $limit, after: $after) { volunteerId } }",
        ("list",),
        "volunteerId",
        party_members,
    ),
    Case(
        "partnerOrganisations",
        "query($c: String!, $limit: Int!, $after: ID) { list: partnerOrganisations(communityId: $c, "
        "limit: $limit, after: $after) { id } }",
        ("list",),
        "id",
        partner_organisations,
    ),
    Case(
        "communityLists.projects",
        "query($c: String!, $limit: Int!, $after: ID) { communityLists(communityId: $c) { "
        "list: projects(limit: $limit, after: $after) { id } } }",
        ("communityLists", "list"),
        "id",
        projects,
    ),
    Case(
        "auditLog",
        "query($c: String!, $limit: Int!, $after: ID) { list: auditLog(communityId: $c, limit: $limit, "
        "after: $after) { id at } }",
        ("list",),
        "id",
        audit_log,
    ),
]


def _as(*roles: str, **variables: Any) -> Callable[[GraphQLClient, Settings, Any], Awaitable[Listed]]:
    """Someone with ``roles`` who may read the list (of however many items it holds now)."""

    async def make(gql: GraphQLClient, settings: Settings, pool: Any) -> Listed:
        return Listed(_person(settings, *roles)[1], variables, 0)

    return make


def _field(name: str, args: str = "", declared: str = "", fields: str = "id") -> str:
    """A query of one list field, taking $limit and $after (and what ``declared`` declares)."""
    return (
        f"query({declared}$limit: Int!, $after: ID) {{ list: {name}({args}limit: $limit, after: $after) "
        f"{{ {fields} }} }}"
    )


# The other list fields: made by longer stories elsewhere (check-outs, certificates, council
# tasks); here each refuses a limit out of range and an after not in the list.
OTHERS = [
    Case(
        "myServiceHours.entries",
        "query($limit: Int!, $after: ID) { myServiceHours { "
        "list: entries(limit: $limit, after: $after) { id } } }",
        ("myServiceHours", "list"),
        "id",
        _as(VOLUNTEER),
    ),
    Case("deadLetters", _field("deadLetters"), ("list",), "id", _as(ORGANISER)),
    Case("deliveries", _field("deliveries"), ("list",), "id", _as(ORGANISER)),
    Case(
        "toTell",
        _field("toTell", "communityId: $c, ", "$c: String!, "),
        ("list",),
        "id",
        _as(GRID_WORKER, c=COMMUNITY),
    ),
    Case(
        "volunteerNoShows",
        _field("volunteerNoShows", "communityId: $c, ", "$c: String!, ", "volunteerId"),
        ("list",),
        "volunteerId",
        _as(ORGANISER, c=COMMUNITY),
    ),
    Case(
        "forgottenCheckOuts",
        _field("forgottenCheckOuts", "communityId: $c, ", "$c: String!, ", "checkInId"),
        ("list",),
        "checkInId",
        _as(ORGANISER, c=COMMUNITY),
    ),
    Case("myCertificates", _field("myCertificates"), ("list",), "id", _as(VOLUNTEER)),
    Case(
        "certificateRegister",
        _field("certificateRegister", "communityId: $c, ", "$c: String!, "),
        ("list",),
        "id",
        _as(ORGANISER, c=COMMUNITY),
    ),
    Case("myRecordCorrections", _field("myRecordCorrections"), ("list",), "id", _as(VOLUNTEER)),
    Case(
        "openRecordCorrections",
        _field("openRecordCorrections", "communityId: $c, ", "$c: String!, "),
        ("list",),
        "id",
        _as(ORGANISER, c=COMMUNITY),
    ),
    Case("myCouncilInvitations", _field("myCouncilInvitations"), ("list",), "id", _as(RESIDENT)),
    Case("myCouncilTasks", _field("myCouncilTasks"), ("list",), "id", _as(RESIDENT)),
    Case(
        "communityCouncilTasks",
        _field("communityCouncilTasks", "communityId: $c, ", "$c: String!, "),
        ("list",),
        "id",
        _as(ORGANISER, c=COMMUNITY),
    ),
    Case(
        "wishCallBacks",
        _field("wishCallBacks", "communityId: $c, ", "$c: String!, "),
        ("list",),
        "id",
        _as(ORGANISER, c=COMMUNITY),
    ),
]


def _items(data: Any, path: tuple[str | int, ...]) -> list[dict[str, Any]]:
    for step in path:
        data = data[step]
    items: list[dict[str, Any]] = data
    return items


async def _walk(gql: GraphQLClient, case: Case, listed: Listed, limit: int) -> list[str]:
    """The whole list, page by page; every page but the last is full."""
    keys: list[str] = []
    after: str | None = None
    while True:
        variables = {**listed.variables, "limit": limit, "after": after}
        page = _items(await gql.ok(case.query, variables, listed.token), case.path)
        keys += [item[case.key] for item in page]
        if len(page) < limit:
            return keys
        after = page[-1][case.key]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_walking_a_list_page_by_page_yields_every_item_once_in_order(
    gql: GraphQLClient, settings: Settings, pool: Any, workers: None, case: Case
) -> None:
    listed = await case.make(gql, settings, pool)
    whole = await _walk(gql, case, listed, MAX_LIMIT)
    assert len(whole) >= listed.at_least
    assert await _walk(gql, case, listed, 2) == whole
    assert len(set(whole)) == len(whole)


@pytest.mark.parametrize("case", CASES + OTHERS, ids=[case.name for case in CASES + OTHERS])
async def test_a_limit_out_of_range_or_an_after_not_in_the_list_is_refused(
    gql: GraphQLClient, settings: Settings, pool: Any, workers: None, case: Case
) -> None:
    listed = await case.make(gql, settings, pool)
    for limit in (0, MAX_LIMIT + 1):
        variables = {**listed.variables, "limit": limit, "after": None}
        assert await gql.error_code(case.query, variables, listed.token) == "BAD_USER_INPUT"
    for after in ("不是编号", str(uuid.uuid4())):
        variables = {**listed.variables, "limit": 2, "after": after}
        assert await gql.error_code(case.query, variables, listed.token) == "BAD_CURSOR"
