"""Steps the door, printed-ticket and roster tests share: an elder and her husband signed up at the
grid workers' desk (a party of two, both named), a session on a chosen day, the door's queries."""

from __future__ import annotations

import random
import uuid
from typing import Any

from services.common.actor import COMMUNITY_ADMIN, GRID_WORKER
from services.common.settings import Settings
from tests.conftest import (
    COMMUNITY,
    GraphQLClient,
    open_session,
    token_for,
)
from tests.dates import FESTIVAL_DAY

FIND = """
mutation($input: ResidentByPhoneInput!) { residentByPhone(input: $input) { id household { id } } }
"""
ADD_MEMBER = """
mutation($r: ID!, $name: String!) {
  addHouseholdMemberFor(residentId: $r, name: $name, relation: SPOUSE, ageBand: ELDER) {
    household { id name }
  }
}
"""
SIGN_UP_FOR = """
mutation($input: SignUpForInput!) { signUpFor(input: $input) { id status partySize } }
"""
DOOR_ATTENDEES = """
query($s: ID!, $q: String!) {
  doorAttendees(sessionId: $s, search: $q) {
    signupId resident phone partySize partyNames admitted stillToCome
  }
}
"""
ADMIT = """
mutation($input: AdmitAttendeeInput!) {
  admitAttendee(input: $input) { signupId partySize people admitted partyNames checkedInAt }
}
"""
SHEET = """
query($id: ID!) {
  ticket(signupId: $id) {
    code
    sheet {
      activity festival dateLabel timeLabel venue holder partySize partyNames arriveBy
      community deskPhone shortCode
    }
  }
}
"""


def new_phone() -> str:
    return f"137{random.randrange(10**8):08d}"


def grid_worker_token(settings: Settings, community: str = COMMUNITY) -> str:
    return token_for(settings, str(uuid.uuid4()), {GRID_WORKER}, {community})


async def couple_signed_up(
    gql: GraphQLClient,
    settings: Settings,
    session_id: str,
    name: str = "王秀兰",
    partner: str = "李建国",
) -> dict[str, Any]:
    """An elder registered at the desk with her husband, both signed up for the session."""
    desk = grid_worker_token(settings)
    phone = new_phone()
    found = await gql.ok(
        FIND,
        {
            "input": {
                "communityId": COMMUNITY,
                "name": name,
                "phone": phone,
                "building": "3号楼",
                "unit": "2单元",
                "register": True,
                "privacyNoticeExplained": True,
            }
        },
        desk,
    )
    resident_id = found["residentByPhone"]["id"]
    household = await gql.ok(ADD_MEMBER, {"r": resident_id, "name": partner}, desk)
    member_id = household["addHouseholdMemberFor"]["household"][-1]["id"]
    signup = await gql.ok(
        SIGN_UP_FOR,
        {
            "input": {
                "residentId": resident_id,
                "sessionId": session_id,
                "idempotencyKey": uuid.uuid4().hex,
                "attendeeIds": [member_id],
            }
        },
        desk,
    )
    answer = signup["signUpFor"]
    assert answer["status"] == "CONFIRMED" and answer["partySize"] == 2
    return {
        "signup_id": answer["id"],
        "resident_id": resident_id,
        "phone": phone,
        "names": [name, partner],
        "desk": desk,
    }


async def session_on(
    gql: GraphQLClient,
    organiser_token: str,
    days_ahead: int = FESTIVAL_DAY,
    clock: str = "09:00",
    ends: str = "11:00",
    title: str = "剪纸书法",
    venue: str = "朔方社区邻里驿家",
    community: str = COMMUNITY,
    venue_id: str | None = None,
) -> str:
    """A published session on a day ``days_ahead`` from today (festival and activity made on the way)."""
    return await open_session(
        gql,
        organiser_token,
        capacity=20,
        title=title,
        community=community,
        days_ahead=days_ahead,
        starts=clock,
        ends=ends,
        venue=venue,
        venue_id=venue_id,
    )


DESK_PHONE = "0951-4012345"
SET_DESK_PHONE = """
mutation($c: String!, $phone: String) { updateCommunity(communityId: $c, deskPhone: $phone) { deskPhone } }
"""


async def desk_phone_listed(gql: GraphQLClient, settings: Settings) -> str:
    """The community's admin keeps its desk phone in the directory, as printed tickets show it."""
    admin = token_for(settings, f"admin-{uuid.uuid4().hex[:6]}", {COMMUNITY_ADMIN}, {COMMUNITY})
    await gql.ok(SET_DESK_PHONE, {"c": COMMUNITY, "phone": DESK_PHONE}, admin)
    return DESK_PHONE
