"""志愿服务记录证明 and record corrections, on real PostgreSQL and Redis: numbers without gaps
under a burst, corrections accepted and declined, revocation, and the public check that leaks
nothing personal."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import httpx

from services.common.actor import ORGANISER, RESIDENT, VOLUNTEER, Actor
from services.common.masking import mask_phone
from services.common.settings import Settings
from services.volunteers import certificate_handlers
from tests.certificate_steps import ASK, DECIDE, INBOX, ISSUE, OPEN, REGISTER, REVOKE, VERIFY, named, served
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, GraphQLClient, eventually, token_for
from tests.dates import day, day_iso
from tests.identity_steps import resident_logs_in

LEDGER = "{ myServiceHours { totalMinutes entries { kind minutes reason } } }"
AUDIT = "query($c: String!) { auditLog(communityId: $c) { action actorId details } }"


def period(key: str | None = None) -> dict[str, Any]:
    return {
        "communityId": COMMUNITY,
        "startsOn": day_iso(-30),
        "endsOn": day_iso(0),
        "idempotencyKey": key or uuid.uuid4().hex,
    }


def volunteer(settings: Settings) -> tuple[str, str]:
    user_id = f"volunteer-{uuid.uuid4().hex[:8]}"
    return user_id, token_for(settings, user_id, {VOLUNTEER}, {COMMUNITY})


async def inbox_says(gql: GraphQLClient, token: str, title: str) -> list[dict[str, Any]]:
    async def found() -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = (await gql.ok(INBOX, token=token))["myInbox"]
        return [m for m in messages if m["title"] == title]

    messages: list[dict[str, Any]] = await eventually(found)
    return messages


async def test_fifty_certificates_requested_at_once_are_numbered_one_to_fifty(
    pool: Any, settings: Settings
) -> None:
    community = f"cert-{uuid.uuid4().hex[:8]}"  # an issuer of its own: its count starts at 1
    people = [f"volunteer-{uuid.uuid4().hex[:8]}" for _ in range(50)]
    for person in people:
        await served(pool, person, minutes=60, community=community)
    organiser = Actor("organiser-certs", frozenset({ORGANISER}), frozenset({community}))
    ctx = {"pool": pool, "settings": settings}
    ids = [str(uuid.uuid4()) for _ in people]

    def args(person: str, certificate_id: str) -> dict[str, Any]:
        return {
            "id": certificate_id,
            "community_id": community,
            "volunteer_id": person,
            "starts_on": day(-30).isoformat(),
            "ends_on": day(0).isoformat(),
            "volunteer_name": "王小明",
            "volunteer_identity": "",
            "issuer": {
                "name": "测试社区",
                "person_in_charge": "",
                "handler": "",
                "contact": "",
                "code": "TS",
            },
        }

    # Ten of the requests are sent twice at the same moment: each twin loses on the id and
    # rolls back, giving back the number it had taken.
    calls = [args(p, i) for p, i in zip(people, ids, strict=True)] + [
        args(p, i) for p, i in zip(people[:10], ids[:10], strict=True)
    ]
    replies = await asyncio.gather(
        *(certificate_handlers.issue_certificate(ctx, organiser, call) for call in calls)
    )

    numbers = {reply["id"]: reply["number"] for reply in replies}
    assert len(numbers) == 50  # a twin answers with its original's certificate
    serials = sorted(int(n.rsplit("-", 1)[1]) for n in numbers.values())
    assert serials == list(range(1, 51))
    year = day(0).year
    assert all(re.fullmatch(rf"LW-TS-{year}-0000[0-5]\d", n) for n in numbers.values())
    async with pool.acquire() as conn:
        last = await conn.fetchval(
            "SELECT last FROM volunteers.certificate_counters WHERE issuer_id = $1", community
        )
    assert last == 50


async def test_an_accepted_correction_changes_the_hours_only_by_a_correction_entry(
    gql: GraphQLClient, pool: Any, settings: Settings, organiser_token: str
) -> None:
    volunteer_id, token = volunteer(settings)
    await named(pool, volunteer_id, "赵红梅")
    shift_id = await served(pool, volunteer_id, minutes=90)
    asked = await gql.ok(
        ASK,
        {
            "input": {
                "shiftId": str(shift_id),
                "minutes": 120,
                "reason": "签退时手机没电，实际服务到11点",
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        token,
    )
    request = asked["requestRecordCorrection"]
    assert (request["status"], request["creditedMinutes"], request["askedMinutes"]) == ("OPEN", 90, 120)

    waiting = await gql.every(OPEN, {"c": COMMUNITY}, organiser_token)
    mine = [r for r in waiting if r["id"] == request["id"]]
    assert mine and mine[0]["name"] == "赵红梅" and mine[0]["minutesNow"] == 90
    decided = await gql.ok(
        DECIDE, {"input": {"requestId": request["id"], "decision": "ACCEPT"}}, organiser_token
    )
    assert decided["decideRecordCorrection"]["status"] == "ACCEPTED"
    assert decided["decideRecordCorrection"]["minutesNow"] == 120

    ledger = (await gql.ok(LEDGER, token=token))["myServiceHours"]
    assert ledger["totalMinutes"] == 120
    assert sorted((e["kind"], e["minutes"]) for e in ledger["entries"]) == [
        ("ATTENDANCE", 90),
        ("CORRECTION", 30),
    ]
    assert "签退时手机没电" in next(e["reason"] for e in ledger["entries"] if e["kind"] == "CORRECTION")
    open_now = await gql.every(OPEN, {"c": COMMUNITY}, organiser_token)
    assert request["id"] not in {r["id"] for r in open_now}
    told = await inbox_says(gql, token, "服务记录已更正")
    assert told and "120分钟" in told[0]["body"]
    admin = token_for(settings, "admin-certs", {"community_admin"}, {COMMUNITY})
    audit = (await gql.ok(AUDIT, {"c": COMMUNITY}, admin))["auditLog"]
    assert any(e["action"] == "decideRecordCorrection" for e in audit)

    certificate = (await gql.ok(ISSUE, {"input": period()}, token))["issueCertificate"]
    assert (certificate["minutes"], certificate["hours"]) == (120, 2.0)
    assert certificate["activities"][0]["minutes"] == 120


async def test_a_declined_correction_changes_nothing_and_the_volunteer_reads_why(
    gql: GraphQLClient, pool: Any, settings: Settings, organiser_token: str
) -> None:
    volunteer_id, token = volunteer(settings)
    shift_id = await served(pool, volunteer_id, minutes=90)
    ask = {"shiftId": str(shift_id), "minutes": 180, "reason": "我一直在", "idempotencyKey": uuid.uuid4().hex}
    request = (await gql.ok(ASK, {"input": ask}, token))["requestRecordCorrection"]
    again = {**ask, "idempotencyKey": uuid.uuid4().hex}
    assert await gql.error_code(ASK, {"input": again}, token) == "CORRECTION_ALREADY_OPEN"

    no_reason = {"requestId": request["id"], "decision": "DECLINE"}
    assert await gql.error_code(DECIDE, {"input": no_reason}, organiser_token) == "BAD_USER_INPUT"
    other = token_for(settings, "organiser-xiyuan", {ORGANISER}, {OTHER_COMMUNITY})
    accept = {"requestId": request["id"], "decision": "ACCEPT"}
    assert await gql.error_code(DECIDE, {"input": accept}, other) == "FORBIDDEN"
    decline = {**no_reason, "reason": "班次只有两小时，签到记录为9:00-10:30"}
    decided = (await gql.ok(DECIDE, {"input": decline}, organiser_token))["decideRecordCorrection"]
    assert decided["status"] == "DECLINED"
    assert await gql.error_code(DECIDE, {"input": accept}, organiser_token) == "CORRECTION_DECIDED"

    ledger = (await gql.ok(LEDGER, token=token))["myServiceHours"]
    assert [(e["kind"], e["minutes"]) for e in ledger["entries"]] == [("ATTENDANCE", 90)]
    told = await inbox_says(gql, token, "服务记录更正申请未通过")
    assert "班次只有两小时" in told[0]["body"]


async def test_a_request_for_nothing_to_change_or_someone_elses_shift_is_refused(
    gql: GraphQLClient, pool: Any, settings: Settings
) -> None:
    volunteer_id, token = volunteer(settings)
    shift_id = await served(pool, volunteer_id, minutes=60)
    same = {"shiftId": str(shift_id), "minutes": 60, "reason": "核对", "idempotencyKey": uuid.uuid4().hex}
    assert await gql.error_code(ASK, {"input": same}, token) == "BAD_USER_INPUT"
    _, stranger = volunteer(settings)
    theirs = {**same, "minutes": 90}
    assert await gql.error_code(ASK, {"input": theirs}, stranger) == "NOT_SIGNED_UP"


async def test_a_revoked_certificate_verifies_as_revoked(
    gql: GraphQLClient, pool: Any, settings: Settings, organiser_token: str
) -> None:
    volunteer_id, token = volunteer(settings)
    await named(pool, volunteer_id, "孙立新")
    await served(pool, volunteer_id, minutes=150)
    issued = (await gql.ok(ISSUE, {"input": {**period(), "volunteerId": volunteer_id}}, organiser_token))[
        "issueCertificate"
    ]
    number = issued["number"]
    assert issued["issuerName"] == "朔方社区" and number.startswith("LW-SF-")
    verified = (await gql.ok(VERIFY, {"n": number}))["verifyCertificate"]
    assert verified == {
        "number": number,
        "maskedName": "孙**",
        "hours": 2.5,
        "issuerName": "朔方社区",
        "valid": True,
    }

    other = token_for(settings, "organiser-xiyuan", {ORGANISER}, {OTHER_COMMUNITY})
    revoke = {"number": number, "reason": "服务时长有误，已重新出具"}
    assert await gql.error_code(REVOKE, {"input": revoke}, other) == "FORBIDDEN"
    assert await gql.error_code(REVOKE, {"input": {"number": number, "reason": " "}}, organiser_token) == (
        "BAD_USER_INPUT"
    )
    assert (await gql.ok(VERIFY, {"n": number}))["verifyCertificate"]["valid"] is True
    revoked = (await gql.ok(REVOKE, {"input": revoke}, organiser_token))["revokeCertificate"]
    assert revoked["status"] == "REVOKED"

    assert (await gql.ok(VERIFY, {"n": number}))["verifyCertificate"]["valid"] is False
    page = await gql.http.get(f"/v/{number}")
    assert page.status_code == 200 and "已作废" in page.text and "有效 Valid" not in page.text
    register = (await gql.ok(REGISTER, {"c": COMMUNITY}, organiser_token))["certificateRegister"]
    entry = next(c for c in register if c["number"] == number)
    assert (entry["status"], entry["revokeReason"], entry["volunteerName"]) == (
        "REVOKED",
        "服务时长有误，已重新出具",
        "孙立新",
    )
    assert await gql.error_code(REGISTER, {"c": COMMUNITY}, token) == "FORBIDDEN"
    assert (await inbox_says(gql, token, "志愿服务记录证明已作废"))[0]["body"].count(number) == 1


async def test_the_verification_page_shows_no_phone_and_no_full_name(
    gql: GraphQLClient, client: httpx.AsyncClient, pool: Any, settings: Settings
) -> None:
    answer = await resident_logs_in(gql, pool)
    resident_id, phone, token = answer["me"]["id"], answer["me"]["phone"], answer["accessToken"]
    await named(pool, resident_id, "欧阳建国")
    await served(pool, resident_id, minutes=45)
    issued = (await gql.ok(ISSUE, {"input": period()}, token))["issueCertificate"]
    assert issued["volunteerIdentity"] == f"手机号 {mask_phone(phone)}"  # masked on the certificate too

    page = await client.get(issued["verificationPath"])

    assert page.status_code == 200
    for shown in (issued["number"], "欧***", "0.75", "朔方社区", "有效"):
        assert shown in page.text
    for hidden in ("欧阳建国", phone, mask_phone(phone), phone[-4:], resident_id):
        assert hidden not in page.text
    assert (await client.get("/v/LW-SF-1999-000001")).status_code == 404
    assert (await client.get("/v/<script>")).status_code == 404


async def test_no_certificate_without_hours_or_for_a_community_they_never_served(
    gql: GraphQLClient, pool: Any, settings: Settings, organiser_token: str
) -> None:
    volunteer_id, token = volunteer(settings)
    await named(pool, volunteer_id, "钱多多", community=OTHER_COMMUNITY)
    assert await gql.error_code(ISSUE, {"input": period()}, token) == "FORBIDDEN"  # never served here
    await served(pool, volunteer_id, minutes=60, days_ago=60)  # before the period
    assert await gql.error_code(ISSUE, {"input": period()}, token) == "NO_SERVICE_IN_PERIOD"
    _, unnamed = volunteer(settings)
    assert await gql.error_code(ISSUE, {"input": period()}, unnamed) == "NAME_REQUIRED"
    for_another = {**period(), "volunteerId": volunteer_id}
    assert await gql.error_code(ISSUE, {"input": for_another}, unnamed) == "FORBIDDEN"


async def test_the_same_request_sent_again_gets_the_same_certificate(
    gql: GraphQLClient, pool: Any, settings: Settings
) -> None:
    volunteer_id, token = volunteer(settings)
    await named(pool, volunteer_id, "李四")
    await served(pool, volunteer_id, minutes=30)
    same_key = uuid.uuid4().hex
    first = (await gql.ok(ISSUE, {"input": period(same_key)}, token))["issueCertificate"]
    second = (await gql.ok(ISSUE, {"input": period(same_key)}, token))["issueCertificate"]
    assert first["number"] == second["number"]


async def test_a_residents_token_without_volunteering_role_may_request_for_themself(
    gql: GraphQLClient, pool: Any, settings: Settings
) -> None:
    resident_id = f"resident-{uuid.uuid4().hex[:8]}"
    token = token_for(settings, resident_id, {RESIDENT}, {COMMUNITY})
    await named(pool, resident_id, "周芳")
    await served(pool, resident_id, minutes=60)
    issued = (await gql.ok(ISSUE, {"input": period()}, token))["issueCertificate"]
    assert issued["volunteerName"] == "周芳" and issued["status"] == "VALID"


RECORDS = """
{ myServiceHours { entries { kind minutes content place confirmedBy confirmedAt locked } } }
"""
CONFIRM = "mutation($s: ID!) { confirmServiceRecords(shiftId: $s) }"
CORRECT = """
mutation($input: CorrectServiceHoursInput!) { correctServiceHours(input: $input) { minutes } }
"""


async def test_records_carry_content_place_and_who_confirmed_them_and_lock_after_the_set_days(
    gql: GraphQLClient, pool: Any, settings: Settings, organiser_token: str
) -> None:
    volunteer_id, token = volunteer(settings)
    recent = await served(pool, volunteer_id, minutes=60, days_ago=2)
    old = await served(pool, volunteer_id, minutes=60, days_ago=settings.volunteer_record_lock_days + 2)

    assert (await gql.ok(CONFIRM, {"s": str(recent)}, organiser_token))["confirmServiceRecords"] == 1
    assert await gql.error_code(CONFIRM, {"s": str(old)}, organiser_token) == "RECORD_LOCKED"
    fix = {"volunteerId": volunteer_id, "minutes": 15, "reason": "补记", "idempotencyKey": uuid.uuid4().hex}
    assert await gql.error_code(CORRECT, {"input": {**fix, "shiftId": str(old)}}, organiser_token) == (
        "RECORD_LOCKED"
    )
    fix_recent = {**fix, "shiftId": str(recent), "idempotencyKey": uuid.uuid4().hex}
    await gql.ok(CORRECT, {"input": fix_recent}, organiser_token)

    entries = (await gql.ok(RECORDS, token=token))["myServiceHours"]["entries"]
    assert {(e["kind"], e["minutes"], e["locked"]) for e in entries} == {
        ("ATTENDANCE", 60, False),
        ("ATTENDANCE", 60, True),
        ("CORRECTION", 15, False),
    }
    confirmed = [e for e in entries if e["confirmedAt"]]
    assert len(confirmed) == 1 and confirmed[0]["confirmedBy"].startswith("organiser-")
    assert all(e["content"] == "秩序维护" and e["place"].startswith("朔方社区党群服务中心") for e in entries)

    # Locked, the record still changes through the volunteer's request, once accepted.
    ask = {"shiftId": str(old), "minutes": 75, "reason": "漏记一刻钟", "idempotencyKey": uuid.uuid4().hex}
    request = (await gql.ok(ASK, {"input": ask}, token))["requestRecordCorrection"]
    accept = {"requestId": request["id"], "decision": "ACCEPT"}
    decided = (await gql.ok(DECIDE, {"input": accept}, organiser_token))["decideRecordCorrection"]
    assert decided["minutesNow"] == 75


SET_ISSUER = """
mutation($c: String!, $p: String!, $h: String!, $code: String!) {
  setCertificateIssuer(communityId: $c, personInCharge: $p, handler: $h, numberCode: $code) {
    name personInCharge handler numberCode
  }
}
"""


async def test_a_community_admin_names_who_signs_and_the_next_certificate_prints_it(
    gql: GraphQLClient, pool: Any, settings: Settings, organiser_token: str
) -> None:
    admin = token_for(settings, "admin-certs", {"community_admin"}, {COMMUNITY})
    names = {"c": COMMUNITY, "p": "马秀英", "h": "张文", "code": "sf"}
    assert await gql.error_code(SET_ISSUER, names, organiser_token) == "FORBIDDEN"
    assert await gql.error_code(SET_ISSUER, {**names, "code": "朔方"}, admin) == "BAD_USER_INPUT"
    issuer = (await gql.ok(SET_ISSUER, names, admin))["setCertificateIssuer"]
    assert issuer == {"name": "朔方社区", "personInCharge": "马秀英", "handler": "张文", "numberCode": "SF"}

    volunteer_id, token = volunteer(settings)
    await named(pool, volunteer_id, "吴敏")
    await served(pool, volunteer_id, minutes=60)
    printed = "{ myCertificates { personInCharge handler issuerName } }"
    await gql.ok(ISSUE, {"input": period()}, token)
    [certificate] = (await gql.ok(printed, token=token))["myCertificates"]
    assert certificate == {"personInCharge": "马秀英", "handler": "张文", "issuerName": "朔方社区"}
    audit = (await gql.ok(AUDIT, {"c": COMMUNITY}, admin))["auditLog"]
    assert any(e["action"] == "directory.certificate_issuer_set" for e in audit)
