"""Volunteers end to end through the gateway: shifts, station codes at the door, service hours."""

from __future__ import annotations

import asyncio
import base64
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import PIL.Image
import pytest
import zxingcpp

from services.common.actor import ORGANISER, SCANNER, VOLUNTEER
from services.common.settings import Settings
from services.volunteers import codes
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, GraphQLClient, eventually, token_for

CREATE_SHIFT = """
mutation($input: CreateShiftInput!) {
  createShift(input: $input) { id venue headcount placesLeft requiredSkill }
}
"""
SIGN_UP = """
mutation($input: SignUpForShiftInput!) { signUpForShift(input: $input) { id shiftId volunteerId } }
"""
STATION_CODE = """
query($venue: String!) { stationCode(venue: $venue) { code pngDataUrl svg validUntil } }
"""
CHECK_IN = """
mutation($input: CheckInInput!) {
  checkIn(input: $input) { id volunteerId method checkedInAt checkedOutAt firstScan }
}
"""
CHECK_OUT = """
mutation($input: CheckOutInput!) { checkOut(input: $input) { id checkedOutAt minutesCredited } }
"""
HOURS = "{ myServiceHours { totalMinutes hours entries { kind minutes reason shiftId } } }"
MY_CHECK_IN = "query($id: ID!) { myCheckIn(shiftId: $id) { id checkedOutAt minutesCredited firstScan } }"
CARD = "{ myVolunteerCard { code pngDataUrl } }"
INBOX = "{ myInbox { kind title body } }"
CORRECT = """
mutation($input: CorrectServiceHoursInput!) {
  correctServiceHours(input: $input) { kind minutes reason }
}
"""


@pytest.fixture
def new_volunteer(settings: Settings) -> Any:
    """Make a fresh volunteer: returns (user id, token)."""

    def make() -> tuple[str, str]:
        user_id = f"volunteer-{uuid.uuid4().hex[:8]}"
        return user_id, token_for(settings, user_id, {VOLUNTEER}, {COMMUNITY})

    return make


@pytest.fixture
def new_venue() -> Any:
    """A venue of this test's own, so station codes of different tests never meet."""
    return lambda: f"朔方社区邻里驿家 {uuid.uuid4().hex[:6]}"


@pytest.fixture
def shift(gql: GraphQLClient, organiser_token: str, new_venue: Any) -> Any:
    """Create a shift through the public API; by default it started an hour ago."""

    async def make(
        venue: str | None = None,
        headcount: int = 5,
        starts_in: timedelta = timedelta(hours=-1),
        lasts: timedelta = timedelta(hours=3),
        required_skill: str | None = None,
    ) -> dict[str, Any]:
        starts_at = datetime.now(UTC) + starts_in
        data = await gql.ok(
            CREATE_SHIFT,
            {
                "input": {
                    "communityId": COMMUNITY,
                    "venue": venue or new_venue(),
                    "role": "引导员",
                    "startsAt": starts_at.isoformat(),
                    "endsAt": (starts_at + lasts).isoformat(),
                    "headcount": headcount,
                    "requiredSkill": required_skill,
                }
            },
            organiser_token,
        )
        created: dict[str, Any] = data["createShift"]
        return created

    return make


async def sign_up(gql: GraphQLClient, token: str, shift_id: str) -> dict[str, Any]:
    variables = {"input": {"shiftId": shift_id, "idempotencyKey": uuid.uuid4().hex}}
    data = await gql.ok(SIGN_UP, variables, token)
    signup: dict[str, Any] = data["signUpForShift"]
    return signup


async def station_code(gql: GraphQLClient, organiser_token: str, venue: str) -> dict[str, Any]:
    data = await gql.ok(STATION_CODE, {"venue": venue}, organiser_token)
    code: dict[str, Any] = data["stationCode"]
    return code


def check_in_vars(shift_id: str, code: str) -> dict[str, Any]:
    return {"input": {"shiftId": shift_id, "code": code}}


async def check_in(gql: GraphQLClient, token: str, shift_id: str, code: str) -> dict[str, Any]:
    data = await gql.ok(CHECK_IN, check_in_vars(shift_id, code), token)
    result: dict[str, Any] = data["checkIn"]
    return result


async def check_out(gql: GraphQLClient, token: str, shift_id: str) -> dict[str, Any]:
    data = await gql.ok(CHECK_OUT, {"input": {"shiftId": shift_id}}, token)
    result: dict[str, Any] = data["checkOut"]
    return result


async def hours(gql: GraphQLClient, token: str) -> dict[str, Any]:
    data = await gql.ok(HOURS, token=token)
    result: dict[str, Any] = data["myServiceHours"]
    return result


async def recorded(pool: Any, volunteer_id: str) -> tuple[int, int]:
    """How many check-ins and how many events the service holds for one volunteer."""
    async with pool.acquire() as conn:
        check_ins = await conn.fetchval(
            "SELECT count(*) FROM volunteers.check_ins WHERE volunteer_id = $1", volunteer_id
        )
        events = await conn.fetchval(
            "SELECT count(*) FROM volunteers.outbox "
            "WHERE type LIKE 'volunteer.%' AND payload->>'volunteer_id' = $1",
            volunteer_id,
        )
    return check_ins, events


async def test_a_volunteer_checks_in_with_a_fresh_station_code_and_out_again_and_her_hours_count(
    gql: GraphQLClient, organiser_token: str, shift: Any, new_volunteer: Any, pool: Any
) -> None:
    duty = await shift(starts_in=timedelta(hours=-3), lasts=timedelta(hours=4))
    volunteer_id, token = new_volunteer()
    await sign_up(gql, token, duty["id"])
    code = await station_code(gql, organiser_token, duty["venue"])

    arrived = await check_in(gql, token, duty["id"], code["code"])

    assert arrived["volunteerId"] == volunteer_id and arrived["method"] == "STATION"
    assert arrived["checkedOutAt"] is None and arrived["firstScan"] is True
    # Two hours of service pass: she arrived two hours before she now leaves.
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE volunteers.check_ins SET checked_in_at = checked_in_at - interval '2 hours' "
            "WHERE id = $1",
            uuid.UUID(arrived["id"]),
        )
    left = await check_out(gql, token, duty["id"])

    assert left["id"] == arrived["id"] and left["minutesCredited"] == 120
    assert await hours(gql, token) == {
        "totalMinutes": 120,
        "hours": 2.0,
        "entries": [{"kind": "ATTENDANCE", "minutes": 120, "reason": None, "shiftId": duty["id"]}],
    }
    mine = await gql.ok(MY_CHECK_IN, {"id": duty["id"]}, token)
    assert mine["myCheckIn"] == {
        "id": arrived["id"],
        "checkedOutAt": left["checkedOutAt"],
        "minutesCredited": 120,
        "firstScan": None,
    }
    async with pool.acquire() as conn:
        events = await conn.fetch(
            "SELECT type FROM volunteers.outbox WHERE payload->>'volunteer_id' = $1 ORDER BY id",
            volunteer_id,
        )
    assert [e["type"] for e in events] == [
        "shift.signed_up",
        "volunteer.checked_in",
        "volunteer.checked_out",
    ]

    async def inbox() -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = (await gql.ok(INBOX, token=token))["myInbox"]
        return messages if len(messages) == 2 else []

    told = sorted(await eventually(inbox), key=lambda m: m["kind"])
    assert [m["kind"] for m in told] == ["shift.signed_up", "volunteer.checked_out"]
    assert duty["venue"] in told[0]["body"] and "引导员" in told[0]["body"]
    assert "120分钟" in told[1]["body"]


async def test_a_rotated_out_a_foreign_and_a_forged_code_are_refused_and_change_nothing(
    gql: GraphQLClient, settings: Settings, shift: Any, new_volunteer: Any, pool: Any
) -> None:
    duty = await shift()
    volunteer_id, token = new_volunteer()
    await sign_up(gql, token, duty["id"])
    now = datetime.now(UTC).timestamp()
    # A photo of the station screen taken two minutes ago.
    photographed = codes.mint_station_code(settings.secret, COMMUNITY, duty["venue"], now - 120)
    across_the_road = codes.mint_station_code(settings.secret, COMMUNITY, "西苑社区广场", now)
    forged = codes.mint_station_code("guessed-secret", COMMUNITY, duty["venue"], now)
    # The same venue name, but another community's.
    same_name_elsewhere = codes.mint_station_code(settings.secret, OTHER_COMMUNITY, duty["venue"], now)

    for code, refusal in [
        (photographed, "EXPIRED_CODE"),
        (across_the_road, "WRONG_VENUE"),
        (same_name_elsewhere, "WRONG_VENUE"),
        (forged, "INVALID_CODE"),
        ("LS" + "A" * 36, "INVALID_CODE"),
    ]:
        assert await gql.error_code(CHECK_IN, check_in_vars(duty["id"], code), token) == refusal

    assert await recorded(pool, volunteer_id) == (0, 0)
    assert (await gql.ok(MY_CHECK_IN, {"id": duty["id"]}, token))["myCheckIn"] is None


async def test_the_station_qr_image_scans_to_a_code_the_service_accepts(
    gql: GraphQLClient, organiser_token: str, shift: Any, new_volunteer: Any
) -> None:
    duty = await shift()
    _, token = new_volunteer()
    await sign_up(gql, token, duty["id"])
    shown = await station_code(gql, organiser_token, duty["venue"])

    header, png = shown["pngDataUrl"].split(",", 1)
    assert header == "data:image/png;base64"
    scanned = zxingcpp.read_barcodes(PIL.Image.open(io.BytesIO(base64.b64decode(png))))
    assert [barcode.text for barcode in scanned] == [shown["code"]]
    assert shown["svg"].startswith("<svg")

    arrived = await check_in(gql, token, duty["id"], scanned[0].text)
    assert arrived["firstScan"] is True


async def test_two_hundred_volunteers_check_in_at_once_each_recorded_exactly_once(
    gql: GraphQLClient, organiser_token: str, shift: Any, new_volunteer: Any, pool: Any
) -> None:
    duty = await shift(headcount=200)
    crowd = [new_volunteer() for _ in range(200)]
    await asyncio.gather(*(sign_up(gql, token, duty["id"]) for _, token in crowd))
    code = (await station_code(gql, organiser_token, duty["venue"]))["code"]

    # Everyone scans, and everyone's phone sends the scan twice.
    answers = await asyncio.gather(
        *(check_in(gql, token, duty["id"], code) for _, token in crowd for _ in range(2))
    )

    # A phone's two sends name one check-in: the second is either the same request (the same
    # answer) or, once the first landed, answered as a second scan.
    pairs = list(zip(answers[::2], answers[1::2], strict=True))
    assert all(first["id"] == again["id"] for first, again in pairs)
    assert all(first["firstScan"] or again["firstScan"] for first, again in pairs)
    assert len({answer["id"] for answer in answers}) == 200
    async with pool.acquire() as conn:
        rows = await conn.fetchrow(
            "SELECT count(*) AS check_ins, count(DISTINCT volunteer_id) AS people "
            "FROM volunteers.check_ins WHERE shift_id = $1",
            uuid.UUID(duty["id"]),
        )
        events = await conn.fetchval(
            "SELECT count(*) FROM volunteers.outbox "
            "WHERE type = 'volunteer.checked_in' AND payload->>'shift_id' = $1",
            duty["id"],
        )
    assert (rows["check_ins"], rows["people"], events) == (200, 200, 200)


async def test_an_organiser_scans_a_volunteer_card_and_a_second_scan_changes_nothing(
    gql: GraphQLClient, organiser_token: str, shift: Any, new_volunteer: Any, pool: Any
) -> None:
    duty = await shift()
    volunteer_id, token = new_volunteer()
    await sign_up(gql, token, duty["id"])
    card = (await gql.ok(CARD, token=token))["myVolunteerCard"]
    png = base64.b64decode(card["pngDataUrl"].split(",", 1)[1])
    scanned = zxingcpp.read_barcodes(PIL.Image.open(io.BytesIO(png)))[0].text

    first = await check_in(gql, organiser_token, duty["id"], scanned)
    again = await check_in(gql, organiser_token, duty["id"], scanned)

    assert first["volunteerId"] == volunteer_id and first["method"] == "CARD"
    assert (again["id"], again["firstScan"]) == (first["id"], False)
    assert await recorded(pool, volunteer_id) == (1, 1)


async def test_only_staff_scan_cards_and_a_forged_card_is_invalid(
    gql: GraphQLClient, settings: Settings, organiser_token: str, shift: Any, new_volunteer: Any
) -> None:
    duty = await shift()
    volunteer_id, token = new_volunteer()
    await sign_up(gql, token, duty["id"])
    _, friend = new_volunteer()
    card = codes.issue_card(settings.secret, volunteer_id)
    forged = codes.issue_card("guessed-secret", volunteer_id)

    assert await gql.error_code(CHECK_IN, check_in_vars(duty["id"], card), friend) == "FORBIDDEN"
    assert await gql.error_code(CHECK_IN, check_in_vars(duty["id"], forged), organiser_token) == (
        "INVALID_CODE"
    )


async def test_check_in_and_out_refuse_what_does_not_fit_the_shift(
    gql: GraphQLClient, organiser_token: str, shift: Any, new_volunteer: Any, pool: Any
) -> None:
    duty = await shift()
    tomorrow = await shift(starts_in=timedelta(days=1))
    volunteer_id, token = new_volunteer()
    _, stranger = new_volunteer()
    await sign_up(gql, token, duty["id"])
    await sign_up(gql, token, tomorrow["id"])
    code = (await station_code(gql, organiser_token, duty["venue"]))["code"]
    later = (await station_code(gql, organiser_token, tomorrow["venue"]))["code"]
    out = {"input": {"shiftId": duty["id"]}}

    assert await gql.error_code(CHECK_IN, check_in_vars(duty["id"], code), stranger) == "NOT_SIGNED_UP"
    assert await gql.error_code(CHECK_IN, check_in_vars(tomorrow["id"], later), token) == "OUTSIDE_WINDOW"
    assert await gql.error_code(CHECK_OUT, out, token) == "NOT_CHECKED_IN"
    await check_in(gql, token, duty["id"], code)
    await check_out(gql, token, duty["id"])
    assert await gql.error_code(CHECK_OUT, out, token) == "ALREADY_CHECKED_OUT"
    assert await recorded(pool, volunteer_id) == (1, 2)


async def test_shifts_fill_up_and_a_volunteer_cannot_be_in_two_places_at_once(
    gql: GraphQLClient, shift: Any, new_volunteer: Any, new_resident: Any
) -> None:
    small = await shift(headcount=3, starts_in=timedelta(hours=2))
    racers = [new_volunteer()[1] for _ in range(8)]
    results = await asyncio.gather(
        *(
            gql.raw(SIGN_UP, {"input": {"shiftId": small["id"], "idempotencyKey": uuid.uuid4().hex}}, t)
            for t in racers
        )
    )
    refusals = [r["errors"][0]["extensions"]["code"] for r in results if r.get("errors")]
    assert refusals == ["SHIFT_FULL"] * 5
    left = await gql.ok("query($id: ID!) { shift(id: $id) { placesLeft } }", {"id": small["id"]})
    assert left["shift"]["placesLeft"] == 0

    morning = await shift(starts_in=timedelta(hours=2), lasts=timedelta(hours=2))
    lunch = await shift(starts_in=timedelta(hours=3), lasts=timedelta(hours=2))
    afternoon = await shift(starts_in=timedelta(hours=4), lasts=timedelta(hours=2))
    _, resident = new_resident()  # residents volunteer too
    await sign_up(gql, resident, morning["id"])
    variables = {"input": {"shiftId": lunch["id"], "idempotencyKey": uuid.uuid4().hex}}
    assert await gql.error_code(SIGN_UP, variables, resident) == "SHIFT_OVERLAP"
    await sign_up(gql, resident, afternoon["id"])
    variables = {"input": {"shiftId": afternoon["id"], "idempotencyKey": uuid.uuid4().hex}}
    assert await gql.error_code(SIGN_UP, variables, resident) == "ALREADY_SIGNED_UP"


async def test_a_shift_needing_a_skill_takes_only_volunteers_who_have_it(
    gql: GraphQLClient, organiser_token: str, shift: Any, new_volunteer: Any
) -> None:
    first_aid = await shift(required_skill="急救")
    volunteer_id, token = new_volunteer()
    variables = {"input": {"shiftId": first_aid["id"], "idempotencyKey": uuid.uuid4().hex}}
    assert await gql.error_code(SIGN_UP, variables, token) == "MISSING_SKILL"

    # A community records skills for the volunteers serving there (issue 16): she keeps her profile here.
    await gql.ok(
        "mutation($i: UpdateVolunteerProfileInput!) { updateVolunteerProfile(input: $i) { communityId } }",
        {"i": {"communityId": COMMUNITY}},
        token,
    )
    await gql.ok(
        "mutation($input: RecordVolunteerSkillInput!) { recordVolunteerSkill(input: $input) }",
        {"input": {"communityId": COMMUNITY, "volunteerId": volunteer_id, "skill": "急救"}},
        organiser_token,
    )
    assert (await sign_up(gql, token, first_aid["id"]))["volunteerId"] == volunteer_id


async def test_an_organiser_corrects_hours_with_a_reason_and_the_history_stays(
    gql: GraphQLClient, organiser_token: str, shift: Any, new_volunteer: Any, new_resident: Any
) -> None:
    duty = await shift()
    volunteer_id, token = new_volunteer()
    await sign_up(gql, token, duty["id"])
    code = (await station_code(gql, organiser_token, duty["venue"]))["code"]
    await check_in(gql, token, duty["id"], code)
    await check_out(gql, token, duty["id"])  # left at once: nothing to credit
    correction = {
        "volunteerId": volunteer_id,
        "shiftId": duty["id"],
        "minutes": 90,
        "reason": "扫码设备故障，现场登记到岗",
        "idempotencyKey": uuid.uuid4().hex,
    }

    entry = await gql.ok(CORRECT, {"input": correction}, organiser_token)
    again = await gql.ok(CORRECT, {"input": correction}, organiser_token)  # a retry

    assert entry == again
    assert (await hours(gql, token))["entries"] == [
        {"kind": "ATTENDANCE", "minutes": 0, "reason": None, "shiftId": duty["id"]},
        {"kind": "CORRECTION", "minutes": 90, "reason": "扫码设备故障，现场登记到岗", "shiftId": duty["id"]},
    ]
    too_much = {**correction, "minutes": -120, "idempotencyKey": uuid.uuid4().hex}
    assert await gql.error_code(CORRECT, {"input": too_much}, organiser_token) == "BAD_USER_INPUT"
    _, resident = new_resident()
    other = {**correction, "idempotencyKey": uuid.uuid4().hex}
    assert await gql.error_code(CORRECT, {"input": other}, resident) == "FORBIDDEN"
    assert (await hours(gql, token))["totalMinutes"] == 90


async def test_only_organisers_of_the_community_create_shifts_and_show_station_codes(
    gql: GraphQLClient, settings: Settings, shift: Any, new_volunteer: Any
) -> None:
    duty = await shift()
    _, volunteer = new_volunteer()
    elsewhere = token_for(settings, "organiser-xiyuan", {ORGANISER}, {OTHER_COMMUNITY})
    starts_at = datetime.now(UTC) + timedelta(hours=1)
    plan = {
        "communityId": COMMUNITY,
        "venue": duty["venue"],
        "role": "引导员",
        "startsAt": starts_at.isoformat(),
        "endsAt": (starts_at + timedelta(hours=2)).isoformat(),
        "headcount": 3,
    }

    assert await gql.error_code(CREATE_SHIFT, {"input": plan}, volunteer) == "FORBIDDEN"
    assert await gql.error_code(CREATE_SHIFT, {"input": plan}, elsewhere) == "FORBIDDEN"
    assert await gql.error_code(STATION_CODE, {"venue": duty["venue"]}, volunteer) == "FORBIDDEN"
    assert await gql.error_code(STATION_CODE, {"venue": duty["venue"]}, elsewhere) == "FORBIDDEN"
    assert await gql.error_code(STATION_CODE, {"venue": duty["venue"]}) == "UNAUTHENTICATED"
    scanner = token_for(settings, "scanner-1", {SCANNER}, {COMMUNITY})
    assert (await gql.ok(STATION_CODE, {"venue": duty["venue"]}, scanner))["stationCode"]["code"]


async def test_a_shift_that_makes_no_sense_is_refused_as_bad_input(
    gql: GraphQLClient, organiser_token: str, new_venue: Any
) -> None:
    starts_at = datetime.now(UTC) + timedelta(hours=1)
    plan = {
        "communityId": COMMUNITY,
        "venue": new_venue(),
        "role": "引导员",
        "startsAt": starts_at.isoformat(),
        "endsAt": (starts_at + timedelta(hours=2)).isoformat(),
        "headcount": 3,
    }
    for wrong in (
        {"endsAt": starts_at.isoformat()},
        {"headcount": 0},
        {"venue": "   "},
        {"role": ""},
        {"endsAt": (starts_at + timedelta(days=2)).isoformat()},
    ):
        variables = {"input": {**plan, **wrong}}
        assert await gql.error_code(CREATE_SHIFT, variables, organiser_token) == "BAD_USER_INPUT"
    nowhere = await gql.error_code(STATION_CODE, {"venue": new_venue()}, organiser_token)
    assert nowhere == "NOT_FOUND"
    huge = await gql.error_code(STATION_CODE, {"venue": "场" * 10_000}, organiser_token)
    assert huge == "BAD_USER_INPUT"
    unknown = check_in_vars(str(uuid.uuid4()), "LS" + "A" * 36)
    assert await gql.error_code(CHECK_IN, unknown, organiser_token) == "SHIFT_NOT_FOUND"
    assert await gql.error_code(CHECK_IN, check_in_vars("not-an-id", "X"), organiser_token) == (
        "BAD_USER_INPUT"
    )


ROSTER = """
query($id: ID!) {
  shiftRoster(shiftId: $id) { volunteerId checkedInAt checkedOutAt method minutesCredited }
}
"""


async def test_staff_see_the_roster_and_check_out_a_volunteer_who_forgot(
    gql: GraphQLClient, settings: Settings, organiser_token: str, shift: Any, new_volunteer: Any
) -> None:
    duty = await shift()
    here_id, here = new_volunteer()
    away_id, away = new_volunteer()
    await sign_up(gql, here, duty["id"])
    await sign_up(gql, away, duty["id"])
    code = (await station_code(gql, organiser_token, duty["venue"]))["code"]
    await check_in(gql, here, duty["id"], code)

    roster = (await gql.ok(ROSTER, {"id": duty["id"]}, organiser_token))["shiftRoster"]
    assert {r["volunteerId"]: r["method"] for r in roster} == {here_id: "STATION", away_id: None}
    assert await gql.error_code(ROSTER, {"id": duty["id"]}, here) == "FORBIDDEN"

    card = codes.issue_card(settings.secret, here_id)
    by_staff = {"input": {"shiftId": duty["id"], "card": card}}
    assert await gql.error_code(CHECK_OUT, by_staff, away) == "FORBIDDEN"
    out = (await gql.ok(CHECK_OUT, by_staff, organiser_token))["checkOut"]
    assert out["checkedOutAt"] is not None and out["minutesCredited"] == 0
    roster = (await gql.ok(ROSTER, {"id": duty["id"]}, organiser_token))["shiftRoster"]
    assert [r["checkedOutAt"] is not None for r in roster if r["volunteerId"] == here_id] == [True]
    assert await gql.error_code(CHECK_OUT, {"input": {"shiftId": duty["id"]}}, here) == (
        "ALREADY_CHECKED_OUT"
    )
