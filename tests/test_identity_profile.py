"""A resident says where she lives and who lives with her; nobody else can change it."""

from __future__ import annotations

from typing import Any

from tests.conftest import COMMUNITY, GraphQLClient
from tests.identity_steps import identity, no_cookies, resident_logs_in, staff_account, staff_logs_in

__all__ = ["identity", "no_cookies"]  # fixtures, used by name

UPDATE_PROFILE = """
mutation($community: String!, $building: String!, $unit: String!, $name: String!) {
  updateMyProfile(communityId: $community, building: $building, unit: $unit, name: $name) {
    name communityId building unit
  }
}
"""
ADD_MEMBER = """
mutation($name: String!, $relation: Relation!, $ageBand: AgeBand!, $guardian: Boolean! = true) {
  addHouseholdMember(name: $name, relation: $relation, ageBand: $ageBand, guardianConsent: $guardian) {
    id name relation ageBand
  }
}
"""
REMOVE_MEMBER = "mutation($id: ID!) { removeHouseholdMember(id: $id) }"
ME = """
{ me { id roles communities name communityId building unit householdMembers { name relation ageBand } } }
"""
REFRESH = "mutation($token: String) { refreshToken(refreshToken: $token) { accessToken } }"
HOME = {"community": COMMUNITY, "building": "3号楼", "unit": "2单元", "name": "王秀兰"}


async def test_a_resident_registers_her_home_and_household(gql: GraphQLClient, pool: Any) -> None:
    me = await resident_logs_in(gql, pool)
    token = me["accessToken"]

    profile = await gql.ok(UPDATE_PROFILE, HOME, token)
    grandson = await gql.ok(
        ADD_MEMBER, {"name": "王小明", "relation": "GRANDCHILD", "ageBand": "CHILD"}, token
    )
    await gql.ok(ADD_MEMBER, {"name": "李建国", "relation": "SPOUSE", "ageBand": "ELDER"}, token)
    await gql.ok(REMOVE_MEMBER, {"id": grandson["addHouseholdMember"]["id"]}, token)

    assert profile["updateMyProfile"] == {
        "name": "王秀兰",
        "communityId": COMMUNITY,
        "building": "3号楼",
        "unit": "2单元",
    }
    found = (await gql.ok(ME, token=token))["me"]
    assert found["householdMembers"] == [{"name": "李建国", "relation": "SPOUSE", "ageBand": "ELDER"}]
    # Her next token names her community.
    fresh = await gql.ok(REFRESH, {"token": me["refreshToken"]})
    gql.http.cookies.clear()
    assert (await gql.ok(ME, token=fresh["refreshToken"]["accessToken"]))["me"]["communities"] == [COMMUNITY]


async def test_a_neighbour_cannot_remove_my_household_members(gql: GraphQLClient, pool: Any) -> None:
    mine = (await resident_logs_in(gql, pool))["accessToken"]
    neighbour = (await resident_logs_in(gql, pool))["accessToken"]
    member = await gql.ok(ADD_MEMBER, {"name": "张伟", "relation": "CHILD", "ageBand": "TEEN"}, mine)

    code = await gql.error_code(REMOVE_MEMBER, {"id": member["addHouseholdMember"]["id"]}, neighbour)

    assert code == "NOT_FOUND"
    assert len((await gql.ok(ME, token=mine))["me"]["householdMembers"]) == 1


async def test_a_household_has_at_most_ten_members(gql: GraphQLClient, pool: Any) -> None:
    token = (await resident_logs_in(gql, pool))["accessToken"]
    for n in range(10):
        await gql.ok(ADD_MEMBER, {"name": f"成员{n}", "relation": "OTHER", "ageBand": "ADULT"}, token)

    one_more = {"name": "成员十一", "relation": "OTHER", "ageBand": "ADULT"}
    assert await gql.error_code(ADD_MEMBER, one_more, token) == "HOUSEHOLD_FULL"


async def test_a_profile_needs_a_name_and_a_well_formed_community(gql: GraphQLClient, pool: Any) -> None:
    token = (await resident_logs_in(gql, pool))["accessToken"]

    for bad in ({**HOME, "name": "  "}, {**HOME, "community": "灵武 朔方!"}, {**HOME, "unit": "x" * 21}):
        assert await gql.error_code(UPDATE_PROFILE, bad, token) == "BAD_USER_INPUT"
    assert (await gql.ok(ME, token=token))["me"]["name"] == ""


async def test_staff_have_no_resident_profile_to_change(gql: GraphQLClient, identity: Any) -> None:
    organiser = await staff_logs_in(gql, *await staff_account(identity, "organiser", COMMUNITY))
    token = organiser["accessToken"]
    assert await gql.error_code(UPDATE_PROFILE, HOME, token) == "FORBIDDEN"
    assert (await gql.ok(ME, token=token))["me"]["householdMembers"] == []
