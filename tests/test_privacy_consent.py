"""Consent under PIPL: a resident registers only having accepted the privacy notice (its version
and the time recorded), and a child joins a household only with a guardian's consent."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from services.common.clock import now
from services.identity.privacy_notice import VERSION
from services.identity.service import Identity
from tests.conftest import GraphQLClient
from tests.door_steps import grid_worker_token
from tests.identity_steps import REQUEST_CODE, identity, new_phone, no_cookies, resident_logs_in, texted_code

__all__ = ["identity", "no_cookies"]  # fixtures, used by name

NOTICE = "{ privacyNotice { version textZh textEn } }"
LOG_IN = """
mutation($phone: String!, $code: String!, $notice: String) {
  logIn(phone: $phone, code: $code, privacyNoticeVersion: $notice) { me { id } }
}
"""
ADD_CHILD = """
mutation($guardian: Boolean!) {
  addHouseholdMember(name: "王小明", relation: GRANDCHILD, ageBand: CHILD, guardianConsent: $guardian) { id }
}
"""
ME = "{ me { householdMembers { name } } }"


async def consents(pool: Any, resident_id: str) -> list[Any]:
    async with pool.acquire() as conn:
        return list(
            await conn.fetch(
                "SELECT kind, notice_version, member_id, recorded_by, given_at FROM identity.consents "
                "WHERE resident_id = $1 ORDER BY given_at",
                uuid.UUID(resident_id),
            )
        )


async def test_a_resident_registers_only_having_accepted_the_notice_and_it_is_recorded_once(
    gql: GraphQLClient, pool: Any, identity: Identity
) -> None:
    notice = (await gql.ok(NOTICE))["privacyNotice"]
    assert notice["version"] == VERSION and "监护人" in notice["textZh"] and "guardian" in notice["textEn"]
    phone = new_phone()
    await gql.ok(REQUEST_CODE, {"phone": phone})
    code = await texted_code(pool, phone)

    without = await gql.raw(LOG_IN, {"phone": phone, "code": code})
    stale = await gql.raw(LOG_IN, {"phone": phone, "code": code, "notice": "2020-01"})
    async with pool.acquire() as conn:
        made = await conn.fetchval("SELECT count(*) FROM identity.residents WHERE phone = $1", phone)
    # The same code, now with the notice accepted, logs her in.
    accepted = await gql.ok(LOG_IN, {"phone": phone, "code": code, "notice": VERSION})
    gql.http.cookies.clear()

    refusal = without["errors"][0]["extensions"]
    assert refusal["code"] == "PRIVACY_CONSENT_REQUIRED" and "隐私告知" in refusal["messageZh"]
    assert stale["errors"][0]["extensions"]["code"] == "PRIVACY_NOTICE_OUTDATED"
    assert made == 0
    resident_id = accepted["logIn"]["me"]["id"]
    [consent] = await consents(pool, resident_id)
    assert consent["kind"] == "PRIVACY_NOTICE" and consent["notice_version"] == VERSION
    assert consent["recorded_by"] == resident_id and consent["given_at"] is not None
    # Logging in again a few minutes later, the page sending the version again, records nothing new.
    settings = identity.settings
    later = Identity(identity.pool, identity.redis, settings, clock=lambda: now() + timedelta(minutes=3))
    await later.request_login_code(phone, "198.51.100.9")
    await later.log_in(phone, await texted_code(pool, phone, nth=2), privacy_notice_version=VERSION)
    assert len(await consents(pool, resident_id)) == 1


async def test_a_child_is_added_only_with_the_guardians_consent_which_is_recorded(
    gql: GraphQLClient, pool: Any
) -> None:
    me = await resident_logs_in(gql, pool)
    token, resident_id = me["accessToken"], me["me"]["id"]

    body = await gql.raw(ADD_CHILD, {"guardian": False}, token)
    assert (await gql.ok(ME, token=token))["me"]["householdMembers"] == []
    child = await gql.ok(ADD_CHILD, {"guardian": True}, token)

    refusal = body["errors"][0]["extensions"]
    assert refusal["code"] == "GUARDIAN_CONSENT_REQUIRED"
    assert "监护人" in refusal["messageZh"] and "guardian" in refusal["messageEn"]
    guardian = [c for c in await consents(pool, resident_id) if c["kind"] == "GUARDIAN"]
    assert [(str(c["member_id"]), c["recorded_by"]) for c in guardian] == [
        (child["addHouseholdMember"]["id"], resident_id)
    ]


ADD_CHILD_FOR = """
mutation($r: ID!, $guardian: Boolean!) {
  addHouseholdMemberFor(residentId: $r, name: "李小红", relation: GRANDCHILD, ageBand: TEEN,
                        guardianConsent: $guardian) { household { name } }
}
"""
FIND = """
mutation($input: ResidentByPhoneInput!) { residentByPhone(input: $input) { id } }
"""


async def test_at_the_desk_a_grid_worker_records_the_consents_given_in_person(
    gql: GraphQLClient, pool: Any, settings: Any
) -> None:
    desk, phone = grid_worker_token(settings), new_phone()
    elder = {
        "communityId": "lingwu-shuofang",
        "name": "李秀英",
        "phone": phone,
        "building": "1号楼",
        "unit": "1单元",
        "register": True,
    }
    unexplained = await gql.raw(FIND, {"input": elder}, desk)
    async with pool.acquire() as conn:
        made = await conn.fetchval("SELECT count(*) FROM identity.residents WHERE phone = $1", phone)
    found = await gql.ok(FIND, {"input": {**elder, "privacyNoticeExplained": True}}, desk)
    resident_id = found["residentByPhone"]["id"]

    refusal = unexplained["errors"][0]["extensions"]
    assert refusal["code"] == "PRIVACY_CONSENT_REQUIRED" and "隐私告知" in refusal["messageZh"]
    assert made == 0

    code = await gql.error_code(ADD_CHILD_FOR, {"r": resident_id, "guardian": False}, desk)
    added = await gql.ok(ADD_CHILD_FOR, {"r": resident_id, "guardian": True}, desk)

    assert code == "GUARDIAN_CONSENT_REQUIRED"
    assert [m["name"] for m in added["addHouseholdMemberFor"]["household"]] == ["李**"]  # masked for staff
    notice, guardian = await consents(pool, resident_id)
    assert (notice["kind"], notice["notice_version"]) == ("PRIVACY_NOTICE", VERSION)
    assert guardian["kind"] == "GUARDIAN" and guardian["member_id"] is not None
    assert notice["recorded_by"] == guardian["recorded_by"] != resident_id  # the grid worker
