"""Steps the tests of people without a smartphone and of shrinking parties share: a session to
sign up for (dates from tests/dates.py), a grid worker registering an elder, a resident with a
household, and the GraphQL documents they use."""

from __future__ import annotations

import uuid
from typing import Any

from services.common.actor import GRID_WORKER, RESIDENT
from services.common.settings import Settings
from tests.conftest import (
    COMMUNITY,
    CREATE_ACTIVITY,
    CREATE_FESTIVAL,
    SCHEDULE_SESSION,
    GraphQLClient,
    token_for,
)
from tests.conftest import (
    open_session as a_session,
)
from tests.dates import FESTIVAL_DAY, at_iso, day_iso
from tests.identity_steps import new_phone

FIND = """
mutation($input: ResidentByPhoneInput!) {
  residentByPhone(input: $input) { id name phone contact contactEn getsSms created household { id name } }
}
"""
ADD_MEMBER_FOR = """
mutation($r: ID!, $name: String!) {
  addHouseholdMemberFor(residentId: $r, name: $name, relation: SPOUSE, ageBand: ELDER) {
    household { id name } }
}
"""
ADD_MEMBER = """
mutation($name: String!) { addHouseholdMember(name: $name, relation: SPOUSE, ageBand: ELDER) { id name } }
"""
SIGN_UP_FOR = """
mutation($input: SignUpForInput!) { signUpFor(input: $input) { id status partySize } }
"""
SIGN_UP = """
mutation($input: SignUpInput!) { signUp(input: $input) { id status partySize waitlistPosition } }
"""
SIGNUPS_FOR = """
query($r: ID!) { signupsFor(residentId: $r) {
  id status partySize activityTitle madeByProxy members { id name me } } }
"""
CANCEL_FOR = "mutation($input: CancelSignupForInput!) { cancelSignupFor(input: $input) { id status } }"
CUT_FOR = """
mutation($input: CancelPartyMembersInput!) {
  cancelPartyMembersFor(input: $input) { id status partySize attendees { id name } } }
"""
CUT = """
mutation($input: CancelPartyMembersInput!) {
  cancelPartyMembers(input: $input) { id status partySize attendees { id name } } }
"""
SIGNUP = "query($id: ID!) { signup(id: $id) { id status partySize waitlistPosition attendees { name } } }"
TICKET = "query($id: ID!) { ticket(signupId: $id) { signupId partySize code } }"
TO_TELL = """
query($c: String, $all: Boolean! = false, $limit: Int! = 200, $after: ID) {
  toTell(communityId: $c, includeTold: $all, limit: $limit, after: $after) {
  id kind title say resident building contact told toldAt toldBy } }
"""
MARK_TOLD = "mutation($id: ID!) { markTold(id: $id) { id told toldAt toldBy } }"
MOVE = "mutation($input: MoveSessionInput!) { moveSession(input: $input) { id startsAt } }"


def key() -> str:
    return uuid.uuid4().hex


def grid_worker(settings: Settings, community: str = COMMUNITY) -> tuple[str, str]:
    user_id = str(uuid.uuid4())
    return user_id, token_for(settings, user_id, {GRID_WORKER}, {community})


async def open_session(
    gql: GraphQLClient,
    organiser_token: str,
    capacity: int = 10,
    title: str = "义诊",
    days: int = FESTIVAL_DAY,
) -> str:
    """A session of a fresh published festival in the test community, a week ahead."""
    name = f"幸福邻里节 {uuid.uuid4().hex[:4]}"
    return await a_session(
        gql, organiser_token, capacity=capacity, title=title, days_ahead=days, festival_name=name
    )


def elder(
    name: str, phone: str, phone_of: str = "SELF", owner: str = "", unit: str = "2单元201"
) -> dict[str, Any]:
    return {
        "input": {
            "communityId": COMMUNITY,
            "name": name,
            "phone": phone,
            "building": "3号楼",
            "unit": unit,
            "phoneOf": phone_of,
            "phoneOwner": owner,
            "register": True,
            "privacyNoticeExplained": True,
        }
    }


async def resident_with_household(
    gql: GraphQLClient, settings: Settings, worker_token: str, name: str, member: str
) -> tuple[str, str, str]:
    """A resident with a mobile (made at the desk, then using the phone page themself) and one
    household member they added: (resident id, their token, the member's id)."""
    found = (await gql.ok(FIND, elder(name, new_phone()), worker_token))["residentByPhone"]
    token = token_for(settings, found["id"], {RESIDENT}, {COMMUNITY})
    added = (await gql.ok(ADD_MEMBER, {"name": member}, token))["addHouseholdMember"]
    return found["id"], token, added["id"]


async def plan_festival(
    gql: GraphQLClient, organiser_token: str, sessions: list[tuple[str, int, str, str, int]]
) -> tuple[str, dict[str, str]]:
    """A published festival of the test community with sessions (title, days ahead, start,
    end, capacity): its id and each title's (first) session id."""
    days = [d for _, d, _, _, _ in sessions]
    festival = await gql.ok(
        CREATE_FESTIVAL,
        {
            "input": {
                "name": f"幸福邻里节 {uuid.uuid4().hex[:4]}",
                "communityIds": [COMMUNITY],
                "startsOn": day_iso(min(days)),
                "endsOn": day_iso(max(days) + 1),
            }
        },
        organiser_token,
    )
    festival_id: str = festival["createFestival"]["id"]
    activities: dict[str, str] = {}
    made: dict[str, str] = {}
    for title, days_ahead, starts, ends, capacity in sessions:
        if title not in activities:
            activity = await gql.ok(
                CREATE_ACTIVITY,
                {"input": {"festivalId": festival_id, "communityId": COMMUNITY, "title": title}},
                organiser_token,
            )
            activities[title] = activity["createActivity"]["id"]
        session = await gql.ok(
            SCHEDULE_SESSION,
            {
                "input": {
                    "activityId": activities[title],
                    "venue": "朔方社区邻里驿家",
                    "startsAt": at_iso(days_ahead, starts),
                    "endsAt": at_iso(days_ahead, ends),
                    "capacity": capacity,
                }
            },
            organiser_token,
        )
        made.setdefault(title, session["scheduleSession"]["id"])
    return festival_id, made
