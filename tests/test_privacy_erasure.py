"""A resident deletes her account (PIPL): afterwards her name, her husband's and her number appear
in no text, array or JSON column of any Linli schema, while the session's seat count and the
volunteer ledger still add up, under a pseudonym; her certificate still checks out, naming
nobody, and the concern she took to the 邻里议事会 stays on the community's record without her."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from services.common.actor import ORGANISER, RESIDENT
from services.common.erasure import ERASED_RESIDENT, pseudonym_for
from services.common.masking import mask_phone
from services.common.outbox import event_envelope
from services.common.settings import Settings
from services.notify import handlers as notify_handlers
from services.notify.sms import LoginPhone
from services.volunteers.council import ERASED_CONCERN, PHONE_REMOVED
from tests.certificate_steps import ISSUE, VERIFY, served
from tests.conftest import COMMUNITY, GraphQLClient, eventually
from tests.council_steps import (
    BOARD,
    COMPLETE,
    INVITEES,
    MINUTES,
    PROGRESS,
    RAISE,
    RATE,
    SET_LEADER,
    concern_at_council,
    convene,
    decision,
    key,
    property_company,
    staff,
    station,
)
from tests.dates import day_iso, minutes_from_now
from tests.door_steps import couple_signed_up, session_on
from tests.erasure_steps import DELETE, rare_name, where_found
from tests.identity_steps import resident_logs_in

POST_WISH = """
mutation($input: PostWishInput!) { postWish(input: $input) { id } }
"""
PROFILE = """
mutation($input: UpdateVolunteerProfileInput!) { updateVolunteerProfile(input: $input) { volunteerId } }
"""
CREATE_SHIFT = "mutation($input: CreateShiftInput!) { createShift(input: $input) { id } }"
SHIFT_SIGN_UP = "mutation($input: SignUpForShiftInput!) { signUpForShift(input: $input) { id } }"
CORRECT = "mutation($input: CorrectServiceHoursInput!) { correctServiceHours(input: $input) { minutes } }"


async def counts(conn: Any, session_id: str, resident_id: str) -> dict[str, Any]:
    session = await conn.fetchrow(
        """
        SELECT s.taken, (SELECT coalesce(sum(party_size), 0) FROM activities.signups
                         WHERE session_id = s.id AND status = 'CONFIRMED') AS confirmed
        FROM activities.sessions s WHERE s.id = $1
        """,
        uuid.UUID(session_id),
    )
    minutes = await conn.fetchval(
        "SELECT sum(minutes) FROM volunteers.ledger WHERE volunteer_id = $1", resident_id
    )
    return {"taken": session["taken"], "confirmed": session["confirmed"], "minutes": minutes}


async def her_concerns_at_the_council(
    gql: GraphQLClient, settings: Settings, token: str, desk: str, name: str, phone: str, daughter: str
) -> dict[str, Any]:
    """She raises two concerns: one her grid worker handles with her alone, one that goes to the
    council, where she is the building's 楼栋长, supervises the work and rates it."""
    private = await gql.ok(
        RAISE,
        {
            "input": {
                "communityId": COMMUNITY,
                "building": "3号楼",
                "words": f"{name}家门口的路灯坏了",
                "photoUrl": "https://img.example.cn/lamp.jpg",
                "idempotencyKey": key(),
            }
        },
        token,
    )
    words = f"{name}反映：3号楼水管漏水，请联系{phone}或她女儿{daughter}"
    public = await concern_at_council(gql, token, desk, words)
    organiser = staff(settings, ORGANISER)[1]
    manager = staff(settings, RESIDENT)
    partner = await property_company(gql, organiser, manager)
    await gql.ok(SET_LEADER, {"c": COMMUNITY, "b": "3号楼", "p": phone}, organiser)
    invitees = (await gql.ok(INVITEES, {"c": COMMUNITY}, organiser))["councilInvitees"]
    leader = next(i for i in invitees if i["role"] == "BUILDING_LEADER" and i["building"] == "3号楼")
    assert leader["name"] == name
    inviting = [{k: leader[k] for k in ("role", "partnerId", "personId", "name")}]
    meeting = await convene(gql, organiser, public, await station(gql, settings), inviting)
    split = [{"party": partner["name"], "fen": 60_000}, {"party": f"{name}家", "fen": 60_000}]
    fix = {**decision(public, partner, day_iso(7), split), "supervisorId": leader["personId"]}
    fix["supervisorName"] = name
    recorded = await gql.ok(
        MINUTES,
        {"input": {"meetingId": meeting["id"], "minutes": f"{name}介绍了漏水情况", "decisions": [fix]}},
        organiser,
    )
    task = recorded["recordMinutes"]["concerns"][0]["tasks"][0]
    note = {"taskId": task["id"], "note": "已采购新支架", "idempotencyKey": key()}
    await gql.ok(PROGRESS, {"input": note}, manager[1])
    await gql.ok(COMPLETE, {"id": task["id"], "n": "支架已更换"}, manager[1])
    rating = {"taskId": task["id"], "stars": 4, "comment": f"我是{name}，修得及时"}
    rated = (await gql.ok(RATE, {"input": rating}, token))["rateTask"]
    assert rated["ratingCount"] == 1
    return {"private": private["raiseConcern"]["id"], "public": public, "words": words}


async def test_a_deleted_resident_is_named_nowhere_while_seats_and_hours_still_add_up(
    gql: GraphQLClient, pool: Any, settings: Settings, redis: Any, organiser_token: str
) -> None:
    name, partner = rare_name(4), rare_name(4)
    session_id = await session_on(gql, organiser_token)
    couple = await couple_signed_up(gql, settings, session_id, name=name, partner=partner)
    phone, resident_id = couple["phone"], couple["resident_id"]
    # She logs in herself later, with the number the desk registered: texts and audit rows name it.
    token = (await resident_logs_in(gql, pool, phone))["accessToken"]
    await gql.ok(
        POST_WISH,
        {
            "input": {
                "communityId": COMMUNITY,
                "category": "REPAIR",
                "description": f"{name}家的水龙头坏了，请打{phone}",
                "building": "3号楼",
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        token,
    )
    await gql.ok(PROFILE, {"input": {"communityId": COMMUNITY, "displayName": name}}, token)
    starts = minutes_from_now(24 * 60)
    shift = await gql.ok(
        CREATE_SHIFT,
        {
            "input": {
                "communityId": COMMUNITY,
                "venue": f"朔方社区邻里驿家 {uuid.uuid4().hex[:6]}",
                "role": "引导员",
                "startsAt": starts.isoformat(),
                "endsAt": (starts + timedelta(hours=2)).isoformat(),
                "headcount": 3,
            }
        },
        organiser_token,
    )
    shift_id = shift["createShift"]["id"]
    await gql.ok(SHIFT_SIGN_UP, {"input": {"shiftId": shift_id, "idempotencyKey": uuid.uuid4().hex}}, token)
    await gql.ok(
        CORRECT,
        {
            "input": {
                "volunteerId": resident_id,
                "shiftId": shift_id,
                "minutes": 90,
                "reason": f"{name}布置场地（补记）",
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        organiser_token,
    )

    async def inbox() -> list[Any]:
        data = await gql.ok("{ myInbox { kind } }", token=token)
        kinds = {m["kind"] for m in data["myInbox"]}
        return data["myInbox"] if {"signup.confirmed", "shift.signed_up"} <= kinds else []

    # 120 minutes she served last week, certified by the community.
    await served(pool, resident_id, minutes=120)
    period = {"communityId": COMMUNITY, "startsOn": day_iso(-30), "endsOn": day_iso(0)}
    issue = {"input": {**period, "volunteerId": resident_id, "idempotencyKey": key()}}
    certificate = (await gql.ok(ISSUE, issue, organiser_token))["issueCertificate"]
    assert certificate["volunteerName"] == name
    verified = (await gql.ok(VERIFY, {"n": certificate["number"]}))["verifyCertificate"]
    daughter = f"139{uuid.uuid4().int % 10**8:08d}"
    concerns = await her_concerns_at_the_council(gql, settings, token, couple["desk"], name, phone, daughter)

    assert await eventually(inbox), "her messages never reached her inbox"
    needles = [name, partner, phone, mask_phone(phone), daughter]
    async with pool.acquire() as conn:
        assert await where_found(conn, needles), "the story left nothing to erase"
        before = await counts(conn, session_id, resident_id)

    assert (await gql.ok(DELETE, token=token))["deleteMyAccount"] is True

    async with pool.acquire() as conn:
        assert await where_found(conn, needles) == []
        after = await counts(conn, session_id, resident_id)
        kept = await conn.fetchrow(
            "SELECT name, phone, erased_at FROM identity.residents WHERE id = $1", uuid.UUID(resident_id)
        )
        audit_subjects = await conn.fetchval(
            "SELECT count(*) FROM identity.audit_log WHERE subject = $1", resident_id
        )
    # Her (and her husband's) seats at the session next week went back; her hours stay.
    assert before["taken"] == 2 and after["taken"] == after["confirmed"] == 0
    assert after["minutes"] == before["minutes"] == 90 + 120
    assert kept["name"] == pseudonym_for(resident_id) and kept["phone"] is None and kept["erased_at"]
    assert audit_subjects >= 2  # her log-in and the deletion itself stay, under the account id
    assert await gql.error_code("{ me { id } }", token=token) == "UNAUTHENTICATED"

    # Her certificate's number still checks out: the same hours and issuer, no name.
    still = (await gql.ok(VERIFY, {"n": certificate["number"]}))["verifyCertificate"]
    assert still == {**verified, "maskedName": ERASED_RESIDENT} and still["valid"]

    # The concern the council took up stays on the board, without her; the other one is gone.
    async with pool.acquire() as conn:
        kept_concerns = {
            str(row["id"]): row
            for row in await conn.fetch(
                "SELECT id, words, photo_url, resident_id, raised_by FROM volunteers.concerns "
                "WHERE id = ANY($1::uuid[])",
                [uuid.UUID(concerns["private"]), uuid.UUID(concerns["public"])],
            )
        }
        ratings = await conn.fetch(
            "SELECT r.resident_id, r.stars, r.comment, t.supervisor_id FROM volunteers.task_ratings r "
            "JOIN volunteers.council_tasks t ON t.id = r.task_id WHERE t.concern_id = $1",
            uuid.UUID(concerns["public"]),
        )
    pseudonym = pseudonym_for(resident_id)
    for row in kept_concerns.values():
        assert (row["photo_url"], row["resident_id"], row["raised_by"]) == (None, None, None)
    assert kept_concerns[concerns["private"]]["words"] == ERASED_CONCERN
    on_record = f"{pseudonym}反映：3号楼水管漏水，请联系{pseudonym}或她女儿{PHONE_REMOVED}"
    assert kept_concerns[concerns["public"]]["words"] == on_record
    [rating] = ratings
    assert (rating["resident_id"], rating["stars"], rating["comment"], rating["supervisor_id"]) == (
        pseudonym,
        4,
        "",
        None,
    )
    board = (await gql.ok(BOARD, {"c": COMMUNITY}))["publicBoard"]
    item = next(i for i in board["items"] if i["words"] == on_record)
    assert item["decisions"][0]["ratingCount"] == 1

    # What was still on its way to her when she deleted the account writes nothing for her.
    ctx = {"pool": pool, "settings": settings, "redis": redis}
    async with pool.acquire() as conn:
        kept_event = await conn.fetchrow(
            "SELECT * FROM volunteers.outbox "
            "WHERE type = 'shift.signed_up' AND payload->>'volunteer_id' = $1",
            resident_id,
        )
    late = {**event_envelope(kept_event, "volunteers"), "id": str(uuid.uuid4())}
    # (handled now, or put off in a burst and drained: either way nothing lands in her inbox;
    # what it takes along for other people may be written)
    await notify_handlers.handle_events(ctx, [late])
    await notify_handlers.handle_deferred(ctx)
    async with pool.acquire() as conn:
        hers = await conn.fetchval("SELECT count(*) FROM notify.inbox WHERE recipient_id = $1", resident_id)
    assert hers == 0
    assert await notify_handlers.default_sms_preferences(ctx, LoginPhone(resident_id, phone)) is False
    async with pool.acquire() as conn:
        assert await where_found(conn, needles) == []


async def test_deleting_needs_the_word_typed_and_changes_nothing_without_it(
    gql: GraphQLClient, pool: Any
) -> None:
    answer = await resident_logs_in(gql, pool)
    token = answer["accessToken"]
    body = await gql.raw('mutation { deleteMyAccount(confirmation: "yes") }', token=token)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "CONFIRMATION_REQUIRED"
    assert "注销" in error["extensions"]["messageZh"] and "confirm" in error["extensions"]["messageEn"]
    assert (await gql.ok("{ me { id } }", token=token))["me"]["id"] == answer["me"]["id"]


MY_DATA = "{ myData }"


async def test_a_resident_sees_everything_held_about_her_in_one_download(
    gql: GraphQLClient, pool: Any, settings: Settings, organiser_token: str
) -> None:
    name, partner = rare_name(3), rare_name(3)
    session_id = await session_on(gql, organiser_token, title="剪纸书法")
    couple = await couple_signed_up(gql, settings, session_id, name=name, partner=partner)
    token = (await resident_logs_in(gql, pool, couple["phone"]))["accessToken"]

    async def confirmed() -> dict[str, Any]:
        data: dict[str, Any] = (await gql.ok(MY_DATA, token=token))["myData"]
        return data if any(m["kind"] == "signup.confirmed" for m in data["inbox"]) else {}

    mine = await eventually(confirmed)
    assert mine, "her confirmation never reached her inbox"
    assert mine["accountId"] == couple["resident_id"]
    assert mine["profile"]["name"] == name and mine["profile"]["phone"] == couple["phone"]
    assert mine["profile"]["community_name"] == "朔方社区"
    assert [m["name"] for m in mine["household"]] == [partner]
    [signup] = mine["signups"]
    assert signup["activity"] == "剪纸书法" and signup["party_size"] == 2
    assert [a["name"] for a in signup["attendees"]] == [partner]
    assert mine["preferences"][0]["phone"] == couple["phone"]
    assert {"wishes", "serviceHours", "shifts", "consents", "partyMember"} <= set(mine)
    others = await gql.error_code(MY_DATA, token=organiser_token)
    assert others == "FORBIDDEN"
