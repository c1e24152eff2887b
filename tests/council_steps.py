"""Steps the 邻里议事会 stories share: residents of a building, a station, the property company,
a concern sent to the council and a meeting convened about it."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from services.common.actor import PLATFORM_ADMIN
from services.common.settings import Settings
from tests.conftest import COMMUNITY, GraphQLClient, token_for
from tests.dates import at_iso
from tests.identity_steps import new_phone, resident_logs_in

RAISE = """
mutation($input: RaiseConcernInput!) { raiseConcern(input: $input) { id status statusWords building words } }
"""
TRIAGE = """
mutation($input: TriageConcernInput!) { triageConcern(input: $input) { id status statusWords } }
"""
CONVENE = """
mutation($input: ConveneCouncilMeetingInput!) {
  conveneCouncilMeeting(input: $input) {
    id title place concerns { id status } invitations { id role roleWords name reply }
  }
}
"""
REPLY = """
mutation($id: ID!, $r: InvitationReply!) { replyToInvitation(invitationId: $id, reply: $r) { id reply name } }
"""
MINUTES = """
mutation($input: RecordMinutesInput!) {
  recordMinutes(input: $input) {
    id minutes recordedAt
    concerns { id status tasks { id ownerName costTotalFen shares { party fen } votesFor votesAgainst } }
  }
}
"""
PROGRESS = """
mutation($input: TaskProgressInput!) { noteTaskProgress(input: $input) { id status notes { note } } }
"""
COMPLETE = "mutation($id: ID!, $n: String!) { completeTask(taskId: $id, note: $n) { id status doneNote } }"
RATE = "mutation($input: RateTaskInput!) { rateTask(input: $input) { id ratingCount averageStars } }"
MY_CONCERNS = "query { myConcerns { id status statusWords tasks { status } } }"
MY_INVITATIONS = """query($limit: Int! = 200, $after: ID) {
  myCouncilInvitations(limit: $limit, after: $after) { id meetingTitle roleWords reply } }"""
INVITEES = """
query($c: String!) { councilInvitees(communityId: $c) { role roleWords name personId partnerId building } }
"""
SET_LEADER = """
mutation($c: String!, $b: String!, $p: String!) {
  setBuildingLeader(communityId: $c, building: $b, phone: $p) { name personId building }
}
"""
BOARD = """
query($c: String!) {
  publicBoard(communityId: $c) {
    communityName
    items {
      building words statusWords
      decisions {
        decision ownerName deadline costTotalFen shares { party fen } votesFor votesAgainst statusWords
        progress ratingCount averageStars
      }
    }
  }
}
"""
INBOX = "query { myInbox { kind title body } }"
ADD_STATION = """
mutation($c: String!, $n: String!, $a: String!) { addStation(communityId: $c, name: $n, address: $a) { id } }
"""
CREATE_PARTNER = """
mutation($input: CreatePartnerOrganisationInput!) { createPartnerOrganisation(input: $input) { id name } }
"""
ADD_PARTNER_MEMBER = "mutation($input: AddPartnerMemberInput!) { addPartnerMember(input: $input) { id } }"
VOLUNTEER_PROFILE = (
    "mutation($input: UpdateVolunteerProfileInput!) { updateVolunteerProfile(input: $input) { volunteerId } }"
)
REFRESH = "mutation($t: String) { refreshToken(refreshToken: $t) { accessToken } }"
UPDATE_PROFILE = """
mutation($c: String!, $b: String!, $n: String!) {
  updateMyProfile(communityId: $c, building: $b, unit: "2单元", name: $n) { communityId }
}
"""

WATER_PIPE = "3号楼的自来水管支架掉落，水管悬空，担心冬天冻裂"


def key() -> str:
    return uuid.uuid4().hex


def staff(settings: Settings, role: str, community: str = COMMUNITY) -> tuple[str, str]:
    user_id = f"{role[:4]}-{uuid.uuid4().hex[:8]}"
    return user_id, token_for(settings, user_id, {role}, {community})


async def resident_of(gql: GraphQLClient, pool: Any, building: str, name: str = "王秀兰") -> dict[str, Any]:
    """A resident who logged in and said where she lives: id, token and phone."""
    phone = new_phone()
    answer = await resident_logs_in(gql, pool, phone)
    await gql.ok(UPDATE_PROFILE, {"c": COMMUNITY, "b": building, "n": name}, answer["accessToken"])
    refreshed = await gql.ok(REFRESH, {"t": answer["refreshToken"]})  # now a resident of the community
    gql.http.cookies.clear()
    return {"id": answer["me"]["id"], "token": refreshed["refreshToken"]["accessToken"], "phone": phone}


async def station(gql: GraphQLClient, settings: Settings) -> str:
    admin = token_for(settings, "platform-council", {PLATFORM_ADMIN}, set())
    name = f"朔方社区邻里驿家{secrets.token_hex(3)}"
    data = await gql.ok(ADD_STATION, {"c": COMMUNITY, "n": name, "a": "朔方路8号"}, admin)
    station_id: str = data["addStation"]["id"]
    return station_id


async def property_company(
    gql: GraphQLClient, organiser: str, member: tuple[str, str] | None = None
) -> dict[str, str]:
    """The property company, a partner unit of the community, and its manager as its member
    (who keeps a volunteer profile in the community, as partner members do)."""
    name = f"朔方物业{secrets.token_hex(2)}"
    made = await gql.ok(
        CREATE_PARTNER,
        {"input": {"communityId": COMMUNITY, "name": name, "idempotencyKey": key()}},
        organiser,
    )
    partner_id = made["createPartnerOrganisation"]["id"]
    if member is not None:
        profile = {"communityId": COMMUNITY, "availability": "工作日"}
        await gql.ok(VOLUNTEER_PROFILE, {"input": profile}, member[1])
        add = {"organisationId": partner_id, "volunteerId": member[0]}
        await gql.ok(ADD_PARTNER_MEMBER, {"input": add}, organiser)
    return {"id": partner_id, "name": name}


async def concern_at_council(gql: GraphQLClient, resident_token: str, grid_worker: str, words: str) -> str:
    raised = await gql.ok(
        RAISE,
        {"input": {"communityId": COMMUNITY, "building": "3号楼", "words": words, "idempotencyKey": key()}},
        resident_token,
    )
    concern_id: str = raised["raiseConcern"]["id"]
    await gql.ok(TRIAGE, {"input": {"concernId": concern_id, "triage": "TO_COUNCIL"}}, grid_worker)
    return concern_id


async def convene(
    gql: GraphQLClient,
    organiser: str,
    concern_id: str,
    station_id: str,
    invitees: list[dict[str, Any]],
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    data = await gql.ok(
        CONVENE,
        {
            "input": {
                "communityId": COMMUNITY,
                "title": "3号楼水管议事会",
                "concernIds": [concern_id],
                "startsAt": at_iso(2, "19:00"),
                "stationId": station_id,
                "invitees": invitees,
                "idempotencyKey": idempotency_key or key(),
            }
        },
        organiser,
    )
    meeting: dict[str, Any] = data["conveneCouncilMeeting"]
    return meeting


def decision(
    concern_id: str, partner: dict[str, str], deadline: str, shares: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "concernId": concern_id,
        "decision": "物业更换3号楼水管支架，费用物业与居民各半",
        "ownerName": partner["name"],
        "ownerPartnerId": partner["id"],
        "supervisorName": "3号楼居民代表",
        "deadline": deadline,
        "costTotalFen": 120_000,
        "shares": shares,
    }
