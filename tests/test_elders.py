"""People without a smartphone and parties that shrink, through the API: an elder registered
with a landline, a family member's phone or none gets no SMS and is on the grid workers' "to
tell" list once per event; grid workers cancel or shrink what they signed up at the desk
(audited); a resident takes one of a party off and the freed seat promotes the waitlist head;
another community's grid worker sees and changes none of it."""

from __future__ import annotations

import uuid
from typing import Any

from services.common.outbox import event_envelope
from services.common.settings import Settings
from services.notify.handlers import handle_events
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, GraphQLClient, eventually, token_for
from tests.dates import FESTIVAL_DAY, at_iso
from tests.elder_steps import (
    ADD_MEMBER_FOR,
    CANCEL_FOR,
    CUT,
    CUT_FOR,
    FIND,
    MARK_TOLD,
    MOVE,
    SIGN_UP,
    SIGN_UP_FOR,
    SIGNUP,
    SIGNUPS_FOR,
    TICKET,
    TO_TELL,
    elder,
    grid_worker,
    key,
    open_session,
    resident_with_household,
)
from tests.identity_steps import new_phone

INBOX = "{ myInbox { kind body } }"


async def entries_of(gql: GraphQLClient, token: str, resident_id: str, n: int) -> list[dict[str, Any]]:
    """The to-tell entries about one resident (masked names: picked by their contact's words),
    once there are ``n`` of them."""

    async def listed() -> list[dict[str, Any]]:
        rows = await gql.every(TO_TELL, {"c": COMMUNITY, "all": True}, token)
        mine = [r for r in rows if r["id"] in await _ids_of(resident_id)]
        return mine if len(mine) >= n else []

    return list(await eventually(listed))


_POOL: list[Any] = []


async def _ids_of(resident_id: str) -> set[str]:
    async with _POOL[0].acquire() as conn:
        rows = await conn.fetch("SELECT id FROM notify.to_tell WHERE person_id = $1", resident_id)
    return {str(r["id"]) for r in rows}


async def test_an_elder_with_a_landline_gets_no_sms_and_is_told_of_each_change_once(
    gql: GraphQLClient, settings: Settings, pool: Any, redis: Any, organiser_token: str
) -> None:
    _POOL[:] = [pool]
    worker, worker_token = grid_worker(settings)
    session_id = await open_session(gql, organiser_token, capacity=10)

    # A landline, written as people write it, is accepted and kept in one spelling.
    found = (await gql.ok(FIND, elder("马福贵", "0951 1234567"), worker_token))["residentByPhone"]
    assert found["created"] and not found["getsSms"]
    assert found["contact"] == "固定电话 0951-***4567"
    again = (await gql.ok(FIND, elder("马福贵", "(0951)1234567"), worker_token))["residentByPhone"]
    assert again["id"] == found["id"] and not again["created"]
    resident_id = found["id"]
    wife = (await gql.ok(ADD_MEMBER_FOR, {"r": resident_id, "name": "马桂兰"}, worker_token))[
        "addHouseholdMemberFor"
    ]["household"][0]
    signup = (
        await gql.ok(
            SIGN_UP_FOR,
            {
                "input": {
                    "residentId": resident_id,
                    "sessionId": session_id,
                    "idempotencyKey": key(),
                    "attendeeIds": [wife["id"]],
                }
            },
            worker_token,
        )
    )["signUpFor"]
    assert (signup["status"], signup["partySize"]) == ("CONFIRMED", 2)

    # The session moves: his grid worker must tell him, in words.
    moved = {
        "sessionId": session_id,
        "idempotencyKey": key(),
        "startsAt": at_iso(FESTIVAL_DAY, "14:00"),
        "endsAt": at_iso(FESTIVAL_DAY, "16:00"),
    }
    await gql.ok(MOVE, {"input": moved}, organiser_token)
    cancelled = (
        await gql.ok(CANCEL_FOR, {"input": {"signupId": signup["id"], "idempotencyKey": key()}}, worker_token)
    )["cancelSignupFor"]
    assert cancelled["status"] == "CANCELLED"

    entries = await entries_of(gql, worker_token, resident_id, 3)
    by_kind = {e["kind"]: e for e in entries}
    assert sorted(by_kind) == ["session.rescheduled", "signup.cancelled", "signup.confirmed"]
    assert len(entries) == 3  # once per event
    assert "共2人" in by_kind["signup.confirmed"]["say"]
    assert "14:00" in by_kind["session.rescheduled"]["say"]
    assert all(e["resident"] == "马**" and e["contact"] == "固定电话 0951-1234567" for e in entries)
    assert all(not e["told"] for e in entries)

    # The grid worker rang him: ticked off, with who and when.
    told = (await gql.ok(MARK_TOLD, {"id": by_kind["session.rescheduled"]["id"]}, worker_token))["markTold"]
    assert told["told"] and told["toldAt"] and told["toldBy"]
    open_now = await gql.every(TO_TELL, {"c": COMMUNITY}, worker_token)
    assert by_kind["session.rescheduled"]["id"] not in {e["id"] for e in open_now}
    assert by_kind["signup.confirmed"]["id"] in {e["id"] for e in open_now}

    # The same events handled again (a redelivery) add nothing.
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT * FROM activities.outbox WHERE payload->>'resident_id' = $1", resident_id
        )
    await handle_events(
        {"pool": pool, "settings": settings, "redis": redis}, [event_envelope(r, "activities") for r in rows]
    )
    async with pool.acquire() as conn:
        counts = await conn.fetch(
            "SELECT event_id, count(*) AS n FROM notify.to_tell WHERE person_id = $1 GROUP BY event_id",
            resident_id,
        )
        sms = await conn.fetch(
            "SELECT * FROM notify.deliveries WHERE recipient_id = $1 AND channel = 'sms'", resident_id
        )
        texts = await conn.fetch("SELECT * FROM notify.sms_outbox WHERE phone LIKE '%1234567%'")
        audit = await conn.fetch(
            "SELECT action, actor_id FROM identity.audit_log WHERE subject = $1 ORDER BY at, id", resident_id
        )
    assert len(counts) == 3 and all(c["n"] == 1 for c in counts)
    assert sms == [] and texts == []  # nothing is ever texted to a landline
    assert [a["action"] for a in audit if a["action"].startswith("signup.")] == [
        "signup.by_proxy",
        "signup.cancelled_by_proxy",
    ]
    assert {a["actor_id"] for a in audit if "proxy" in a["action"]} == {worker}


async def test_elders_with_a_family_phone_or_none_get_no_sms_and_are_on_the_list(
    gql: GraphQLClient, settings: Settings, pool: Any, organiser_token: str
) -> None:
    _POOL[:] = [pool]
    _, worker_token = grid_worker(settings)
    session_id = await open_session(gql, organiser_token, capacity=1)
    daughter = new_phone()
    by_family = (await gql.ok(FIND, elder("杨秀兰", daughter, "FAMILY", "女儿"), worker_token))[
        "residentByPhone"
    ]
    assert (
        by_family["contact"] == f"女儿的电话 {daughter[:3]}****{daughter[-4:]}" and not by_family["getsSms"]
    )
    nobody = (await gql.ok(FIND, elder("海大爷", "", "NONE", unit="5单元101"), worker_token))[
        "residentByPhone"
    ]
    assert nobody["contact"] == "没有电话，请上门告知" and nobody["phone"] == ""
    same = (await gql.ok(FIND, elder("海大爷", "", "NONE", unit="5单元101"), worker_token))["residentByPhone"]
    assert same["id"] == nobody["id"]
    # Whose phone it is must be said; a number that is neither mobile nor landline is refused.
    assert await gql.error_code(FIND, elder("杨秀兰", daughter, "FAMILY"), worker_token) == "BAD_USER_INPUT"
    assert await gql.error_code(FIND, elder("杨秀兰", "1234567"), worker_token) == "BAD_PHONE"

    # One place: she gets it, he waits; she withdraws at the desk and he moves up.
    signups = []
    for resident in (by_family, nobody):
        answer = {"residentId": resident["id"], "sessionId": session_id, "idempotencyKey": key()}
        signups.append((await gql.ok(SIGN_UP_FOR, {"input": answer}, worker_token))["signUpFor"])
    assert [s["status"] for s in signups] == ["CONFIRMED", "WAITLISTED"]
    await gql.ok(CANCEL_FOR, {"input": {"signupId": signups[0]["id"], "idempotencyKey": key()}}, worker_token)
    hers = await entries_of(gql, worker_token, by_family["id"], 2)
    his = await entries_of(gql, worker_token, nobody["id"], 2)
    assert sorted(e["kind"] for e in hers) == ["signup.cancelled", "signup.confirmed"]
    assert sorted(e["kind"] for e in his) == ["signup.waitlisted", "waitlist.promoted"]
    assert "从候补转为报名成功" in next(e["say"] for e in his if e["kind"] == "waitlist.promoted")
    family_entry = hers[0]
    assert family_entry["contact"] == f"女儿的电话 {daughter}"  # in full: she must be able to ring

    async with pool.acquire() as conn:
        sms = await conn.fetch(
            "SELECT * FROM notify.deliveries WHERE recipient_id = ANY($1::text[]) AND channel = 'sms'",
            [by_family["id"], nobody["id"]],
        )
        texts = await conn.fetch("SELECT * FROM notify.sms_outbox WHERE phone = $1", daughter)
    assert sms == [] and texts == []  # the daughter never agreed to get texts


async def test_a_resident_cancels_one_of_a_party_and_the_waitlist_head_moves_up(
    gql: GraphQLClient, settings: Settings, pool: Any, organiser_token: str
) -> None:
    _, worker_token = grid_worker(settings)
    session_id = await open_session(gql, organiser_token, capacity=2)
    wang, wang_token, husband = await resident_with_household(gql, settings, worker_token, "王阿姨", "张大爷")
    _, li_token, _ = await resident_with_household(gql, settings, worker_token, "李奶奶", "李爷爷")
    _, zhao_token, _ = await resident_with_household(gql, settings, worker_token, "赵叔", "赵婶")

    party = (
        await gql.ok(
            SIGN_UP,
            {"input": {"sessionId": session_id, "idempotencyKey": key(), "attendeeIds": [husband]}},
            wang_token,
        )
    )["signUp"]
    assert (party["status"], party["partySize"]) == ("CONFIRMED", 2)
    head = (await gql.ok(SIGN_UP, {"input": {"sessionId": session_id, "idempotencyKey": key()}}, li_token))[
        "signUp"
    ]
    behind = (
        await gql.ok(SIGN_UP, {"input": {"sessionId": session_id, "idempotencyKey": key()}}, zhao_token)
    )["signUp"]
    assert [head["waitlistPosition"], behind["waitlistPosition"]] == [1, 2]

    change = {"signupId": party["id"], "idempotencyKey": key(), "attendeeIds": [husband]}
    cut = (await gql.ok(CUT, {"input": change}, wang_token))["cancelPartyMembers"]
    assert (cut["status"], cut["partySize"], cut["attendees"]) == ("CONFIRMED", 1, [])
    # The same request again changes nothing more.
    assert (await gql.ok(CUT, {"input": change}, wang_token))["cancelPartyMembers"]["partySize"] == 1

    promoted = (await gql.ok(SIGNUP, {"id": head["id"]}, li_token))["signup"]
    still = (await gql.ok(SIGNUP, {"id": behind["id"]}, zhao_token))["signup"]
    assert promoted["status"] == "CONFIRMED"
    assert (still["status"], still["waitlistPosition"]) == ("WAITLISTED", 1)
    ticket = (await gql.ok(TICKET, {"id": party["id"]}, wang_token))["ticket"]
    assert ticket["partySize"] == 1  # the same ticket, now for one
    async with pool.acquire() as conn:
        taken = await conn.fetchval(
            "SELECT taken FROM activities.sessions WHERE id = $1", uuid.UUID(session_id)
        )
    assert taken == 2

    async def told() -> list[Any]:
        inbox = (await gql.ok(INBOX, None, wang_token))["myInbox"]
        return [m for m in inbox if m["kind"] == "signup.party_reduced"]

    [message] = await eventually(told)
    assert "已为张大爷取消报名，您本人的报名保留，共1人" in message["body"]

    # Nobody left is a whole cancellation, said so; someone not in the party is refused.
    assert (
        await gql.error_code(
            CUT, {"input": {"signupId": party["id"], "idempotencyKey": key(), "me": True}}, wang_token
        )
        == "PARTY_WOULD_BE_EMPTY"
    )
    assert (
        await gql.error_code(
            CUT,
            {"input": {"signupId": party["id"], "idempotencyKey": key(), "attendeeIds": [husband]}},
            wang_token,
        )
        == "NOT_IN_PARTY"
    )
    # Another resident cannot touch it.
    assert (
        await gql.error_code(
            CUT, {"input": {"signupId": party["id"], "idempotencyKey": key(), "me": True}}, li_token
        )
        == "FORBIDDEN"
    )
    assert wang


async def test_a_grid_worker_shrinks_a_desk_sign_up_but_not_one_the_resident_made(
    gql: GraphQLClient, settings: Settings, pool: Any, organiser_token: str
) -> None:
    worker, worker_token = grid_worker(settings)
    session_id = await open_session(gql, organiser_token, capacity=5)
    found = (await gql.ok(FIND, elder("马福贵", "0951-7654321"), worker_token))["residentByPhone"]
    wife = (await gql.ok(ADD_MEMBER_FOR, {"r": found["id"], "name": "马桂兰"}, worker_token))[
        "addHouseholdMemberFor"
    ]["household"][0]
    signup = (
        await gql.ok(
            SIGN_UP_FOR,
            {
                "input": {
                    "residentId": found["id"],
                    "sessionId": session_id,
                    "idempotencyKey": key(),
                    "attendeeIds": [wife["id"]],
                }
            },
            worker_token,
        )
    )["signUpFor"]
    [listed] = (await gql.ok(SIGNUPS_FOR, {"r": found["id"]}, worker_token))["signupsFor"]
    assert listed["madeByProxy"] and listed["activityTitle"] == "义诊"
    assert [(m["name"], m["me"]) for m in listed["members"]] == [("马**", True), ("马**", False)]

    cut = (
        await gql.ok(
            CUT_FOR, {"input": {"signupId": signup["id"], "idempotencyKey": key(), "me": True}}, worker_token
        )
    )["cancelPartyMembersFor"]
    assert (cut["partySize"], [a["name"] for a in cut["attendees"]]) == (1, ["马桂兰"])
    async with pool.acquire() as conn:
        change = await conn.fetchrow(
            "SELECT asked_by, party_before, party_after FROM activities.party_changes WHERE signup_id = $1",
            uuid.UUID(signup["id"]),
        )
        audit = await conn.fetchval(
            "SELECT actor_id FROM identity.audit_log "
            "WHERE subject = $1 AND action = 'signup.party_reduced_by_proxy'",
            found["id"],
        )
    assert dict(change) == {"asked_by": worker, "party_before": 2, "party_after": 1}
    assert audit == worker

    # A sign-up the resident made on their own phone is theirs to change.
    own, own_token, _ = await resident_with_household(gql, settings, worker_token, "王阿姨", "张大爷")
    theirs = (
        await gql.ok(SIGN_UP, {"input": {"sessionId": session_id, "idempotencyKey": key()}}, own_token)
    )["signUp"]
    assert (
        await gql.error_code(
            CANCEL_FOR, {"input": {"signupId": theirs["id"], "idempotencyKey": key()}}, worker_token
        )
        == "SIGNUP_NOT_BY_PROXY"
    )
    assert own


async def test_another_communitys_grid_worker_cannot_see_the_list_or_cancel(
    gql: GraphQLClient, settings: Settings, pool: Any, organiser_token: str
) -> None:
    _POOL[:] = [pool]
    _, worker_token = grid_worker(settings)
    _, stranger_token = grid_worker(settings, OTHER_COMMUNITY)
    session_id = await open_session(gql, organiser_token, capacity=5)
    found = (await gql.ok(FIND, elder("海大爷", "", "NONE", unit="9单元"), worker_token))["residentByPhone"]
    signup = (
        await gql.ok(
            SIGN_UP_FOR,
            {"input": {"residentId": found["id"], "sessionId": session_id, "idempotencyKey": key()}},
            worker_token,
        )
    )["signUpFor"]
    [entry] = await entries_of(gql, worker_token, found["id"], 1)

    assert await gql.error_code(TO_TELL, {"c": COMMUNITY}, stranger_token) == "FORBIDDEN"
    theirs = await gql.every(TO_TELL, {"all": True}, stranger_token)
    assert entry["id"] not in {e["id"] for e in theirs}
    assert await gql.error_code(MARK_TOLD, {"id": entry["id"]}, stranger_token) == "FORBIDDEN"
    assert await gql.error_code(SIGNUPS_FOR, {"r": found["id"]}, stranger_token) == "FORBIDDEN"
    cancel = {"signupId": signup["id"], "idempotencyKey": key()}
    assert await gql.error_code(CANCEL_FOR, {"input": cancel}, stranger_token) == "FORBIDDEN"
    assert await gql.error_code(CUT_FOR, {"input": {**cancel, "me": True}}, stranger_token) == "FORBIDDEN"
    # Nor may a resident read the list or cancel for someone else.
    resident_token = token_for(settings, str(uuid.uuid4()), {"resident"}, {COMMUNITY})
    assert await gql.error_code(TO_TELL, {"c": COMMUNITY}, resident_token) == "FORBIDDEN"
    assert await gql.error_code(CANCEL_FOR, {"input": cancel}, resident_token) == "FORBIDDEN"
    still = (await gql.ok(SIGNUPS_FOR, {"r": found["id"]}, worker_token))["signupsFor"]
    assert [s["status"] for s in still] == ["CONFIRMED"]
