"""双报告 and attendance watch, through the gateway on real PostgreSQL and Redis.

Time passes by moving rows into the past: a shift that ran "earlier today" is one whose times
were moved back after the volunteers checked in.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from arq.connections import ArqRedis

from services.common.actor import ORGANISER, RESIDENT, VOLUNTEER
from services.common.clock import LOCAL_TZ
from services.common.settings import Settings
from services.common.worker import ServiceProcess
from services.volunteers import contracts
from services.volunteers.profiles import unit_key
from services.volunteers.worker import VOLUNTEERS_WORKER
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, GraphQLClient, token_for
from tests.party_steps import REVIEW, approve_own_registration

CREATE_SHIFT = "mutation($input: CreateShiftInput!) { createShift(input: $input) { id venue } }"
SIGN_UP = "mutation($input: SignUpForShiftInput!) { signUpForShift(input: $input) { id } }"
STATION_CODE = "query($venue: String!) { stationCode(venue: $venue) { code } }"
CHECK_IN = "mutation($input: CheckInInput!) { checkIn(input: $input) { id } }"
CHECK_OUT = "mutation($input: CheckOutInput!) { checkOut(input: $input) { id minutesCredited } }"
CHECK_OUT_ERROR = "mutation($input: CheckOutInput!) { checkOut(input: $input) { id } }"
CORRECT = """
mutation($input: CorrectServiceHoursInput!) { correctServiceHours(input: $input) { minutes } }
"""
REGISTER = """
mutation($input: RegisterPartyMemberInput!) {
  registerPartyMember(input: $input) { volunteerId name workUnit communityId reportedOn }
}
"""
REPORT = """
query($community: String!, $unit: String!, $from: Date!, $to: Date!) {
  partyMemberReport(communityId: $community, workUnit: $unit, startsOn: $from, endsOn: $to) {
    workUnit totalMinutes
    members { volunteerId name communityId totalMinutes activities wishesMet
              shifts { shiftId attended autoClosed minutes } }
  }
}
"""
FORGOTTEN = """
query($community: String!, $limit: Int! = 200, $after: ID) {
  forgottenCheckOuts(communityId: $community, limit: $limit, after: $after) {
    checkInId volunteerId closedAt minutesCredited }
}
"""
NO_SHOWS = """query($c: String!, $limit: Int! = 200, $after: ID) {
  volunteerNoShows(communityId: $c, limit: $limit, after: $after) { volunteerId noShows shiftIds } }"""
TOTALS = """
query($c: String!, $from: Date!, $to: Date!) {
  serviceHoursTotals(communityId: $c, startsOn: $from, endsOn: $to) {
    byVolunteer { key minutes } byWorkUnit { key label minutes volunteers }
  }
}
"""
UNIT = "灵武市供电公司"
POST_WISH = "mutation($input: PostWishInput!) { postWish(input: $input) { id } }"
REVIEW_WISH = "mutation($input: ReviewWishInput!) { reviewWish(input: $input) { id } }"
PUBLISH_WISH = "mutation($id: ID!) { publishWish(wishId: $id) { id } }"
CLAIM_WISH = "mutation($input: ClaimWishInput!) { claimWish(input: $input) { id } }"
START_WISH = "mutation($id: ID!) { startWish(wishId: $id) { id } }"
FINISH_WISH = "mutation($input: FinishWishInput!) { finishWish(input: $input) { id } }"
CONFIRM_WISH = "mutation($id: ID!) { confirmWish(wishId: $id) { status } }"


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


async def new_shift(gql: GraphQLClient, organiser: str, headcount: int = 10) -> dict[str, Any]:
    """A three-hour shift that started an hour ago, at a venue of its own."""
    starts_at = datetime.now(UTC) - timedelta(hours=1)
    data = await gql.ok(
        CREATE_SHIFT,
        {
            "input": {
                "communityId": COMMUNITY,
                "venue": f"朔方社区党群服务中心 {uuid.uuid4().hex[:6]}",
                "role": "秩序维护",
                "startsAt": starts_at.isoformat(),
                "endsAt": (starts_at + timedelta(hours=3)).isoformat(),
                "headcount": headcount,
            }
        },
        organiser,
    )
    shift: dict[str, Any] = data["createShift"]
    return shift


async def sign_up(gql: GraphQLClient, token: str, shift_id: str) -> None:
    await gql.ok(SIGN_UP, {"input": {"shiftId": shift_id, "idempotencyKey": uuid.uuid4().hex}}, token)


async def check_in(gql: GraphQLClient, token: str, organiser: str, shift: dict[str, Any]) -> str:
    code = (await gql.ok(STATION_CODE, {"venue": shift["venue"]}, organiser))["stationCode"]["code"]
    data = await gql.ok(CHECK_IN, {"input": {"shiftId": shift["id"], "code": code}}, token)
    check_in_id: str = data["checkIn"]["id"]
    return check_in_id


async def arrived_ten_minutes_in(pool: Any, check_in_id: str) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE volunteers.check_ins c SET checked_in_at = s.starts_at + interval '10 minutes' "
            "FROM volunteers.shifts s WHERE s.id = c.shift_id AND c.id = $1",
            uuid.UUID(check_in_id),
        )


async def shift_ran_earlier_today(pool: Any, shift_id: str) -> None:
    """The shift (and everyone's check-ins to it) five hours earlier: it has ended."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE volunteers.shifts SET starts_at = starts_at - interval '5 hours', "
            "ends_at = ends_at - interval '5 hours' WHERE id = $1",
            uuid.UUID(shift_id),
        )
        await conn.execute(
            "UPDATE volunteers.check_ins SET checked_in_at = checked_in_at - interval '5 hours' "
            "WHERE shift_id = $1",
            uuid.UUID(shift_id),
        )


async def sweep(redis: ArqRedis, settings: Settings) -> int:
    """Run the forgotten check-out sweep on the real volunteers worker and wait for it."""
    job = await redis.enqueue_job(
        contracts.CLOSE_FORGOTTEN_CHECK_INS, _queue_name=settings.queue(contracts.SERVICE)
    )
    assert job is not None
    closed: int = await job.result(timeout=20, poll_delay=0.05)
    return closed


def volunteer(settings: Settings, community: str = COMMUNITY) -> tuple[str, str]:
    user_id = f"volunteer-{uuid.uuid4().hex[:8]}"
    return user_id, token_for(settings, user_id, {VOLUNTEER}, {community})


async def ledger_total(pool: Any, volunteer_id: str) -> int:
    async with pool.acquire() as conn:
        return int(
            await conn.fetchval(
                "SELECT coalesce(sum(minutes), 0) FROM volunteers.ledger WHERE volunteer_id = $1",
                volunteer_id,
            )
        )


async def register(gql: GraphQLClient, token: str, name: str, unit: str = UNIT) -> None:
    await gql.ok(
        REGISTER,
        {
            "input": {
                "communityId": COMMUNITY,
                "name": name,
                "workUnit": unit,
                "partyBranch": "营销部党支部",
                "reportedOn": (today() - timedelta(days=30)).isoformat(),
            }
        },
        token,
    )


async def wish_met_by(
    gql: GraphQLClient, settings: Settings, organiser: str, member_token: str, unit: str
) -> None:
    """A resident's 微心愿, claimed by a party member for their work unit and confirmed met."""
    resident = token_for(settings, f"resident-{uuid.uuid4().hex[:8]}", {RESIDENT}, {COMMUNITY})
    wish = {
        "communityId": COMMUNITY,
        "category": "REPAIR",
        "description": "灯坏了，想请人换一下",
        "building": "5号楼",
        "idempotencyKey": uuid.uuid4().hex,
    }
    wish_id = (await gql.ok(POST_WISH, {"input": wish}, resident))["postWish"]["id"]
    await gql.ok(REVIEW_WISH, {"input": {"wishId": wish_id, "review": "APPROVE"}}, organiser)
    await gql.ok(PUBLISH_WISH, {"id": wish_id}, organiser)
    await approve_own_registration(gql, organiser, member_token)
    claim = {
        "wishId": wish_id,
        "kind": "PARTY_MEMBER",
        "organisation": unit,
        "idempotencyKey": uuid.uuid4().hex,
    }
    await gql.ok(CLAIM_WISH, {"input": claim}, member_token)
    await gql.ok(START_WISH, {"id": wish_id}, member_token)
    await gql.ok(FINISH_WISH, {"input": {"wishId": wish_id, "note": "已更换灯泡"}}, member_token)
    assert (await gql.ok(CONFIRM_WISH, {"id": wish_id}, resident))["confirmWish"]["status"] == "MET"


async def test_a_forgotten_check_out_is_closed_at_shift_end_flagged_and_credited_up_to_the_end(
    gql: GraphQLClient, organiser_token: str, settings: Settings, pool: Any, redis: ArqRedis
) -> None:
    duty = await new_shift(gql, organiser_token)
    forgetful, token = volunteer(settings)
    await sign_up(gql, token, duty["id"])
    check_in_id = await check_in(gql, token, organiser_token, duty)
    # The check-in scheduled the closing of the shift's forgotten check-ins at its end.
    assert await redis.get(f"arq:job:{settings.namespace}:close-shift:{duty['id']}") is not None
    await arrived_ten_minutes_in(pool, check_in_id)

    await shift_ran_earlier_today(pool, duty["id"])
    assert await sweep(redis, settings) >= 1

    async with pool.acquire() as conn:
        closed = await conn.fetchrow(
            "SELECT c.checked_out_at, c.auto_closed, s.ends_at, l.minutes, l.auto_closed AS entry_flagged, "
            "l.recorded_by FROM volunteers.check_ins c JOIN volunteers.shifts s ON s.id = c.shift_id "
            "JOIN volunteers.ledger l ON l.check_in_id = c.id WHERE c.id = $1",
            uuid.UUID(check_in_id),
        )
    # Three hours less the ten minutes she was late, in whole quarter hours: nothing after the end.
    assert closed["checked_out_at"] == closed["ends_at"] and closed["auto_closed"]
    assert (closed["minutes"], closed["entry_flagged"], closed["recorded_by"]) == (165, True, "system")
    flagged = await gql.every(FORGOTTEN, {"community": COMMUNITY}, organiser_token, "checkInId")
    mine = [f for f in flagged if f["checkInId"] == check_in_id]
    assert mine == [
        {
            "checkInId": check_in_id,
            "volunteerId": forgetful,
            "closedAt": mine[0]["closedAt"],
            "minutesCredited": 165,
        }
    ]
    assert datetime.fromisoformat(mine[0]["closedAt"]) == closed["ends_at"]

    # Remembering later changes nothing; the sweep again closes nothing of hers.
    late = await gql.error_code(CHECK_OUT_ERROR, {"input": {"shiftId": duty["id"]}}, token)
    assert late == "ALREADY_CHECKED_OUT"
    await sweep(redis, settings)
    assert await ledger_total(pool, forgetful) == 165
    other = token_for(settings, "organiser-elsewhere", {ORGANISER}, {OTHER_COMMUNITY})
    assert await gql.error_code(FORGOTTEN, {"community": COMMUNITY}, other) == "FORBIDDEN"


async def test_volunteers_who_never_came_are_counted_per_volunteer_for_organisers(
    gql: GraphQLClient, organiser_token: str, settings: Settings, pool: Any
) -> None:
    absent, absent_token = volunteer(settings)
    present, present_token = volunteer(settings)
    first = await new_shift(gql, organiser_token)
    await sign_up(gql, absent_token, first["id"])
    await sign_up(gql, present_token, first["id"])
    await check_in(gql, present_token, organiser_token, first)

    def counted(rows: list[dict[str, Any]]) -> dict[str, tuple[int, set[str]]]:
        return {
            row["volunteerId"]: (row["noShows"], set(row["shiftIds"]))
            for row in rows
            if row["volunteerId"] in (absent, present)
        }

    # While the shift runs, nobody is a no-show yet.
    running = await gql.every(NO_SHOWS, {"c": COMMUNITY}, organiser_token, "volunteerId")
    assert counted(running) == {}

    await shift_ran_earlier_today(pool, first["id"])
    second = await new_shift(gql, organiser_token)
    await sign_up(gql, absent_token, second["id"])
    await shift_ran_earlier_today(pool, second["id"])
    ended = await gql.every(NO_SHOWS, {"c": COMMUNITY}, organiser_token, "volunteerId")
    assert counted(ended) == {absent: (2, {first["id"], second["id"]})}

    other = token_for(settings, "organiser-elsewhere", {ORGANISER}, {OTHER_COMMUNITY})
    assert await gql.error_code(NO_SHOWS, {"c": COMMUNITY}, other) == "FORBIDDEN"
    assert await gql.error_code(NO_SHOWS, {"c": COMMUNITY}, absent_token) == "FORBIDDEN"


async def test_the_report_for_a_work_unit_with_three_party_members_matches_their_ledger(
    gql: GraphQLClient,
    client: httpx.AsyncClient,
    organiser_token: str,
    settings: Settings,
    pool: Any,
    redis: ArqRedis,
) -> None:
    unit = f"{UNIT} {uuid.uuid4().hex[:6]}"
    (li, li_token), (wang, wang_token), (zhao, zhao_token) = (volunteer(settings) for _ in range(3))
    outsider, outsider_token = volunteer(settings)
    await register(gql, li_token, "李<b>明</b>", unit)
    # The work unit as another member typed it: spacing and letter case differ, the unit is the same.
    await register(gql, wang_token, "王芳", "  " + unit.upper().replace(" ", "　 "))
    await register(gql, zhao_token, "赵强", unit)
    await register(gql, outsider_token, "孙丽", "灵武市第一中学")
    for token in (li_token, wang_token, zhao_token, outsider_token):
        await approve_own_registration(gql, organiser_token, token)
    # Two more of the unit whose 双报到 the community has not approved: one waits for review, one
    # was declined. They serve on the same shift, but they are not reported to the work unit.
    (waiting, waiting_token), (declined, declined_token) = (volunteer(settings) for _ in range(2))
    await register(gql, waiting_token, "钱进", unit)
    await register(gql, declined_token, "周明", unit)
    decline = {"volunteerId": declined, "review": "DECLINE", "reason": "党支部名称请写全称"}
    await gql.ok(REVIEW, {"input": decline}, organiser_token)

    duty = await new_shift(gql, organiser_token)
    for token in (li_token, wang_token, zhao_token, outsider_token, waiting_token, declined_token):
        await sign_up(gql, token, duty["id"])
    # 李明 comes and checks out herself; 王芳 comes and forgets to; 赵强 does not come but the
    # organiser credits him for setting up the venue the evening before; 孙丽 comes (other unit);
    # 钱进 and 周明 (not approved) come and check out.
    for token in (li_token, wang_token, outsider_token, waiting_token, declined_token):
        await arrived_ten_minutes_in(pool, await check_in(gql, token, organiser_token, duty))
    left = await gql.ok(CHECK_OUT, {"input": {"shiftId": duty["id"]}}, li_token)
    for token in (outsider_token, waiting_token, declined_token):
        await gql.ok(CHECK_OUT, {"input": {"shiftId": duty["id"]}}, token)
    await gql.ok(
        CORRECT,
        {
            "input": {
                "volunteerId": zhao,
                "shiftId": duty["id"],
                "minutes": 90,
                "reason": "前一晚布置场地",
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        organiser_token,
    )
    await shift_ran_earlier_today(pool, duty["id"])
    # The shift's end comes: the job its first check-in scheduled for then closes what is open.
    job = await redis.enqueue_job(
        contracts.CLOSE_FORGOTTEN_CHECK_INS_OF_SHIFT,
        duty["id"],
        _queue_name=settings.queue(contracts.SERVICE),
    )
    assert job is not None and await job.result(timeout=20, poll_delay=0.05) == 1
    # 李明 also met a resident's small wish (微心愿) for her work unit.
    await wish_met_by(gql, settings, organiser_token, li_token, unit)

    period = {"from": (today() - timedelta(days=1)).isoformat(), "to": today().isoformat()}
    variables = {"community": COMMUNITY, "unit": unit, **period}
    report = (await gql.ok(REPORT, variables, organiser_token))["partyMemberReport"]

    ledger = {person: await ledger_total(pool, person) for person in (li, wang, zhao)}
    assert ledger[li] == left["checkOut"]["minutesCredited"] > 0
    assert ledger[wang] == 165 and ledger[zhao] == 90
    assert report["workUnit"] == unit and report["totalMinutes"] == sum(ledger.values())
    members = {m["volunteerId"]: m for m in report["members"]}
    assert set(members) == {li, wang, zhao} and outsider not in members
    assert await ledger_total(pool, waiting) > 0 and await ledger_total(pool, declined) > 0
    assert {person: m["totalMinutes"] for person, m in members.items()} == ledger
    assert members[li]["name"] == "李<b>明</b>" and members[li]["communityId"] == COMMUNITY
    assert members[wang]["shifts"] == [
        {"shiftId": duty["id"], "attended": True, "autoClosed": True, "minutes": 165}
    ]
    assert members[zhao]["shifts"] == [
        {"shiftId": duty["id"], "attended": False, "autoClosed": False, "minutes": 90}
    ]
    assert members[li]["activities"] == ["秩序维护"]
    assert {person: m["wishesMet"] for person, m in members.items()} == {li: 1, wang: 0, zhao: 0}

    # The same report as CSV: Excel's BOM, one row per member and shift, then each member's total.
    params = {"communityId": COMMUNITY, "workUnit": unit, "startsOn": period["from"], "endsOn": period["to"]}
    auth = {"Authorization": f"Bearer {organiser_token}"}
    response = await client.get("/exports/volunteers/party-report.csv", params=params, headers=auth)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    totals = {row[0]: (int(row[10]), int(row[12])) for row in rows[2:-1] if row[4] == "合计 Total"}
    assert totals == {"李<b>明</b>": (ledger[li], 1), "王芳": (ledger[wang], 0), "赵强": (ledger[zhao], 0)}
    assert rows[-1][0] == "总计 Total" and int(rows[-1][10]) == sum(ledger.values())
    # The work unit reads the community's name, never its id.
    assert {row[2] for row in rows[2:-1]} == {"朔方社区"} and COMMUNITY not in response.text

    # And as a printable page, every value escaped.
    page = await client.get("/reports/volunteers/party-report.html", params=params, headers=auth)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "李&lt;b&gt;明&lt;/b&gt;" in page.text and "<b>明" not in page.text
    assert "孙丽" not in page.text
    assert "报到社区 朔方社区" in page.text and "社区（盖章）：朔方社区" in page.text
    assert COMMUNITY not in page.text
    assert not {"钱进", "周明"} & {row[0] for row in rows}
    assert "钱进" not in page.text and "周明" not in page.text

    # 李明's own certificate of hours, and the organiser's copy.
    dates = {"startsOn": period["from"], "endsOn": period["to"]}
    for token in (li_token, organiser_token):
        certificate = await client.get(
            f"/reports/volunteers/{li}/certificate.html",
            params=dates,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert certificate.status_code == 200
        assert f"{ledger[li] / 60:.2f}" in certificate.text and "&lt;b&gt;" in certificate.text
        assert "向朔方社区报到" in certificate.text and "朔方社区（盖章）" in certificate.text
        assert COMMUNITY not in certificate.text

    # Totals per work unit and per volunteer for the community agree with the ledger too.
    totals_data = await gql.ok(TOTALS, {"c": COMMUNITY, **period}, organiser_token)
    by_unit = {t["key"]: t for t in totals_data["serviceHoursTotals"]["byWorkUnit"]}
    assert (by_unit[unit_key(unit)]["minutes"], by_unit[unit_key(unit)]["volunteers"]) == (
        sum(ledger.values()),
        3,
    )
    by_volunteer = {t["key"]: t["minutes"] for t in totals_data["serviceHoursTotals"]["byVolunteer"]}
    assert {person: by_volunteer[person] for person in ledger} == ledger


async def test_another_communitys_organiser_and_the_members_themselves_cannot_read_the_report(
    gql: GraphQLClient, client: httpx.AsyncClient, settings: Settings
) -> None:
    member, member_token = volunteer(settings)
    await register(gql, member_token, "周杰")
    other = token_for(settings, "organiser-elsewhere", {ORGANISER}, {OTHER_COMMUNITY})
    period = {"from": (today() - timedelta(days=7)).isoformat(), "to": today().isoformat()}
    variables = {"community": COMMUNITY, "unit": UNIT, **period}

    assert await gql.error_code(REPORT, variables, other) == "FORBIDDEN"
    assert await gql.error_code(REPORT, variables, member_token) == "FORBIDDEN"
    params = {"communityId": COMMUNITY, "workUnit": UNIT, "startsOn": period["from"], "endsOn": period["to"]}
    for token, status in ((other, 403), (member_token, 403), (None, 401)):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for path in ("/exports/volunteers/party-report.csv", "/reports/volunteers/party-report.html"):
            response = await client.get(path, params=params, headers=headers)
            assert response.status_code == status, (path, response.text)
    certificate = await client.get(
        f"/reports/volunteers/{member}/certificate.html",
        params={"startsOn": period["from"], "endsOn": period["to"]},
        headers={"Authorization": f"Bearer {other}"},
    )
    assert certificate.status_code == 403 and certificate.json()["code"] == "FORBIDDEN"
    # A period the wrong way round is bad input, by name.
    backwards = {**variables, "from": period["to"], "to": period["from"]}
    organiser = token_for(settings, "organiser-here", {ORGANISER}, {COMMUNITY})
    assert await gql.error_code(REPORT, backwards, organiser) == "BAD_USER_INPUT"


async def test_the_volunteers_worker_sweeps_hourly_under_its_own_namespace(
    settings: Settings, redis: ArqRedis
) -> None:
    process = ServiceProcess(VOLUNTEERS_WORKER, settings)
    process.ctx["redis"] = redis
    arq = process._arq_worker(settings.queue(contracts.SERVICE))

    jobs = {job.name: job for job in arq.cron_jobs}  # the wishes' claim sweep runs there too
    sweep_job = jobs[f"{settings.namespace}:{contracts.CLOSE_FORGOTTEN_CHECK_INS}"]
    assert sweep_job.name == f"{settings.namespace}:{contracts.CLOSE_FORGOTTEN_CHECK_INS}"
    assert sweep_job.minute == 23 and sweep_job.name in arq.functions
    # The module's own job is left alone: every process keeps its own schedule.
    assert VOLUNTEERS_WORKER.cron_jobs[0].name == contracts.CLOSE_FORGOTTEN_CHECK_INS
