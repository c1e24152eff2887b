"""An organiser undoes a volunteer's mistaken check-out within the shift: on duty again from the
same arrival, the credit taken back by a correction, the action in the audit trail."""

from __future__ import annotations

import uuid
from typing import Any

from services.common.actor import ORGANISER
from services.common.settings import Settings
from tests.conftest import OTHER_COMMUNITY, GraphQLClient, eventually, token_for
from tests.dates import minutes_from_now
from tests.test_station_digits_flow import STATION_CODE, shift_with_volunteer

CHECK_IN = "mutation($input: CheckInInput!) { checkIn(input: $input) { id } }"
CHECK_OUT = "mutation($input: CheckOutInput!) { checkOut(input: $input) { minutesCredited } }"
UNDO = """
mutation($input: UndoCheckOutInput!) { undoCheckOut(input: $input) { id checkedInAt checkedOutAt } }
"""
MY_CHECK_IN = "query($id: ID!) { myCheckIn(shiftId: $id) { id checkedInAt checkedOutAt } }"
HOURS = "{ myServiceHours { totalMinutes entries { kind minutes reason } } }"
ROSTER = "query($id: ID!) { shiftRoster(shiftId: $id) { volunteerId checkedOutAt minutesCredited } }"
ME = "{ me { id } }"


async def test_an_organiser_undoes_a_mistaken_check_out_and_it_is_audited(
    gql: GraphQLClient, settings: Settings, pool: Any, workers: None
) -> None:
    shift = await shift_with_volunteer(gql, settings, started_minutes_ago=60)
    volunteer = shift["volunteer"]
    volunteer_id = (await gql.ok(ME, {}, volunteer))["me"]["id"]
    digits = (await gql.ok(STATION_CODE, {"venue": shift["venue"]}, shift["organiser"]))["stationCode"][
        "digits"
    ]
    await gql.ok(CHECK_IN, {"input": {"shiftId": shift["id"], "code": digits}}, volunteer)
    # they arrived when the shift started (an hour ago), as if they had scanned then
    await pool.execute(
        "UPDATE volunteers.check_ins SET checked_in_at = $1 WHERE shift_id = $2",
        minutes_from_now(-60),
        uuid.UUID(shift["id"]),
    )
    preview = await gql.ok(
        "query($id: ID!) { myCheckOutPreview(shiftId: $id) }", {"id": shift["id"]}, volunteer
    )
    assert preview["myCheckOutPreview"] == 60  # what the page asks "确认签退？本次将计入 60 分钟" with
    out = await gql.ok(CHECK_OUT, {"input": {"shiftId": shift["id"]}}, volunteer)
    assert out["checkOut"]["minutesCredited"] == 60

    stranger = token_for(settings, f"organiser-{uuid.uuid4().hex[:6]}", {ORGANISER}, {OTHER_COMMUNITY})
    asked = {
        "input": {"shiftId": shift["id"], "volunteerId": volunteer_id, "idempotencyKey": uuid.uuid4().hex}
    }
    assert await gql.error_code(UNDO, asked, stranger) == "FORBIDDEN"
    assert await gql.error_code(UNDO, asked, volunteer) == "FORBIDDEN"

    undone = (await gql.ok(UNDO, asked, shift["organiser"]))["undoCheckOut"]
    assert undone["checkedOutAt"] is None
    mine = (await gql.ok(MY_CHECK_IN, {"id": shift["id"]}, volunteer))["myCheckIn"]
    assert mine["checkedOutAt"] is None and mine["checkedInAt"] == undone["checkedInAt"]  # same arrival
    hours = (await gql.ok(HOURS, {}, volunteer))["myServiceHours"]
    assert hours["totalMinutes"] == 0
    assert [(e["kind"], e["minutes"]) for e in hours["entries"]] == [("ATTENDANCE", 60), ("CORRECTION", -60)]
    assert hours["entries"][1]["reason"] == "撤销误签退（组织者）"
    roster = (await gql.ok(ROSTER, {"id": shift["id"]}, shift["organiser"]))["shiftRoster"]
    assert roster[0]["checkedOutAt"] is None and roster[0]["minutesCredited"] == 0

    again = {"input": {**asked["input"], "idempotencyKey": uuid.uuid4().hex}}
    assert await gql.error_code(UNDO, again, shift["organiser"]) == "NOT_CHECKED_OUT"

    # the real check-out later counts the whole visit once
    out = await gql.ok(CHECK_OUT, {"input": {"shiftId": shift["id"]}}, volunteer)
    assert out["checkOut"]["minutesCredited"] == 60
    assert (await gql.ok(HOURS, {}, volunteer))["myServiceHours"]["totalMinutes"] == 60

    async def audited() -> Any:
        return await pool.fetchrow(
            "SELECT actor_id, details FROM identity.audit_log WHERE action = 'undoCheckOut' "
            "AND details->'input'->'input'->>'shiftId' = $1",
            shift["id"],
        )

    row = await eventually(audited)
    assert row is not None and row["actor_id"].startswith("organiser-")
    assert row["details"]["input"]["input"]["volunteerId"] == volunteer_id
