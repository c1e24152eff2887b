"""The station's six digits through the gateway and the volunteers worker: shown beside the QR,
typed by hand to check in, wrong tries limited per volunteer; check-out says first what it records."""

from __future__ import annotations

import uuid
from typing import Any

from services.common.actor import ORGANISER, VOLUNTEER
from services.common.settings import Settings
from services.volunteers import codes
from tests.conftest import COMMUNITY, GraphQLClient, token_for
from tests.dates import minutes_from_now

CREATE_SHIFT = "mutation($input: CreateShiftInput!) { createShift(input: $input) { id } }"
SIGN_UP = "mutation($input: SignUpForShiftInput!) { signUpForShift(input: $input) { id } }"
STATION_CODE = "query($venue: String!) { stationCode(venue: $venue) { code digits validUntil } }"
CHECK_IN = "mutation($input: CheckInInput!) { checkIn(input: $input) { id method firstScan } }"
CHECK_OUT = "mutation($input: CheckOutInput!) { checkOut(input: $input) { minutesCredited } }"
PREVIEW = "query($id: ID!) { myCheckOutPreview(shiftId: $id) }"


async def shift_with_volunteer(
    gql: GraphQLClient, settings: Settings, started_minutes_ago: int
) -> dict[str, Any]:
    organiser = token_for(settings, f"organiser-{uuid.uuid4().hex[:6]}", {ORGANISER}, {COMMUNITY})
    venue = f"朔方社区邻里驿家 {uuid.uuid4().hex[:6]}"
    made = await gql.ok(
        CREATE_SHIFT,
        {
            "input": {
                "communityId": COMMUNITY,
                "venue": venue,
                "role": "签到引导",
                "startsAt": minutes_from_now(-started_minutes_ago).isoformat(),
                "endsAt": minutes_from_now(180).isoformat(),
                "headcount": 3,
            }
        },
        organiser,
    )
    shift_id = made["createShift"]["id"]
    volunteer = token_for(settings, f"volunteer-{uuid.uuid4().hex[:8]}", {VOLUNTEER}, {COMMUNITY})
    await gql.ok(SIGN_UP, {"input": {"shiftId": shift_id, "idempotencyKey": uuid.uuid4().hex}}, volunteer)
    return {"id": shift_id, "venue": venue, "organiser": organiser, "volunteer": volunteer}


async def test_the_station_shows_six_digits_that_check_a_volunteer_in(
    gql: GraphQLClient, settings: Settings, workers: None
) -> None:
    shift = await shift_with_volunteer(gql, settings, started_minutes_ago=60)
    shown = (await gql.ok(STATION_CODE, {"venue": shift["venue"]}, shift["organiser"]))["stationCode"]
    assert len(shown["digits"]) == 6 and shown["digits"].isdigit()
    typed = f"{shown['digits'][:3]} {shown['digits'][3:]}"
    checked = await gql.ok(CHECK_IN, {"input": {"shiftId": shift["id"], "code": typed}}, shift["volunteer"])
    assert checked["checkIn"]["method"] == "STATION" and checked["checkIn"]["firstScan"] is True

    preview = (await gql.ok(PREVIEW, {"id": shift["id"]}, shift["volunteer"]))["myCheckOutPreview"]
    # checked in just now: out now would count nothing yet, and the check-out says the same
    assert preview == 0
    out = await gql.ok(CHECK_OUT, {"input": {"shiftId": shift["id"]}}, shift["volunteer"])
    assert out["checkOut"]["minutesCredited"] == preview
    assert (await gql.ok(PREVIEW, {"id": shift["id"]}, shift["volunteer"]))["myCheckOutPreview"] is None


async def test_digits_of_another_venue_or_guessed_are_refused_and_guessing_is_limited(
    gql: GraphQLClient, settings: Settings, workers: None
) -> None:
    shift = await shift_with_volunteer(gql, settings, started_minutes_ago=10)
    other = await shift_with_volunteer(gql, settings, started_minutes_ago=10)
    elsewhere = (await gql.ok(STATION_CODE, {"venue": other["venue"]}, other["organiser"]))["stationCode"]
    here = (await gql.ok(STATION_CODE, {"venue": shift["venue"]}, shift["organiser"]))["stationCode"]
    guesses = [elsewhere["digits"]] + [f"{n:06d}" for n in range(100_000, 999_999, 97_331)]
    guesses = [g for g in guesses if g != here["digits"]][: codes.WRONG_DIGITS_LIMIT]
    for guess in guesses:
        code = await gql.error_code(
            CHECK_IN, {"input": {"shiftId": shift["id"], "code": guess}}, shift["volunteer"]
        )
        assert code == "WRONG_STATION_DIGITS"
    # past the limit even the right digits wait: guessing a million codes is not an option
    code = await gql.error_code(
        CHECK_IN, {"input": {"shiftId": shift["id"], "code": here["digits"]}}, shift["volunteer"]
    )
    assert code == "TOO_MANY_WRONG_DIGITS"
    # another volunteer is not held up by this one's guesses
    other_here = (await gql.ok(STATION_CODE, {"venue": other["venue"]}, other["organiser"]))["stationCode"]
    await gql.ok(
        CHECK_IN, {"input": {"shiftId": other["id"], "code": other_here["digits"]}}, other["volunteer"]
    )
