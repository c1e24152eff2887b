"""Exports: the organiser's roster opens in Excel with the Chinese intact and nobody's number
readable; calendars (.ics) of a session and of a resident's sign-ups open in calendar apps."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import icalendar

from services.common.masking import mask_name, mask_phone
from services.common.settings import Settings
from services.gateway.exports import CalendarEvent, calendar, roster_csv
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, GraphQLClient, token_for
from tests.identity_steps import new_phone, resident_logs_in
from tests.ticket_steps import CHECK_IN, check_in_vars, scanner_token, schedule_at, sign_up, ticket_of

UPDATE_PROFILE = """
mutation($name: String!, $community: String!) {
  updateMyProfile(communityId: $community, building: "3栋", unit: "2单元", name: $name) { id }
}
"""
CANCEL_SESSION = """
mutation($input: CancelSessionInput!) { cancelSession(input: $input) { id status } }
"""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def events_of(body: bytes) -> list[Any]:
    parsed = icalendar.Calendar.from_ical(body)
    return list(parsed.walk("VEVENT"))


def test_a_calendar_is_valid_icalendar_whatever_the_text() -> None:
    starts = datetime(2026, 12, 5, 9, 0, tzinfo=UTC) + timedelta(hours=-8)
    awkward = "义诊；血压、血糖免费测量, 请带医保卡; 反斜杠\\ 也行\n第二行" * 3
    event = CalendarEvent(
        uid="session-1@linli",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        summary=awkward,
        location="朔方社区邻里驿家, 2楼",
        description=awkward,
        cancelled=False,
    )
    text = calendar("我的邻里节活动", [event], datetime(2026, 11, 25, tzinfo=UTC))

    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    [parsed] = events_of(text.encode())
    assert str(parsed["SUMMARY"]) == awkward
    assert str(parsed["LOCATION"]) == "朔方社区邻里驿家, 2楼"
    assert parsed.decoded("DTSTART") == starts
    assert parsed.decoded("DTEND") == starts + timedelta(hours=2)
    assert str(parsed["UID"]) == "session-1@linli"
    assert "DTSTAMP" in parsed


def test_a_roster_cell_a_spreadsheet_would_run_as_a_formula_is_kept_as_text() -> None:
    rows = [
        (1, mask_name("=HYPERLINK(1)"), "", "候补 Waiting", 1, "否 No", ""),
        (2, "+1", "-2", "@3", 1, "", ""),
    ]
    text = roster_csv(rows).decode("utf-8-sig")
    [_, first, second] = list(csv.reader(io.StringIO(text)))
    assert first[1] == "'=" + "*" * 12
    assert second[1:4] == ["'+1", "'-2", "'@3"]


async def resident_with_profile(gql: GraphQLClient, pool: Any, name: str) -> tuple[str, str, str]:
    """A resident who logged in by SMS and filled in her name: (user id, token, phone)."""
    phone = new_phone()
    answer = await resident_logs_in(gql, pool, phone)
    token = answer["accessToken"]
    await gql.ok(UPDATE_PROFILE, {"name": name, "community": COMMUNITY}, token)
    return answer["me"]["id"], token, phone


async def test_the_roster_csv_opens_in_excel_with_full_names_and_numbers_masked(
    gql: GraphQLClient,
    client: httpx.AsyncClient,
    organiser_token: str,
    new_resident: Any,
    settings: Settings,
    pool: Any,
) -> None:
    session_id = await schedule_at(gql, organiser_token, timedelta(minutes=20), capacity=3)
    _, zhang, phone = await resident_with_profile(gql, pool, "张三丰")
    anonymous_id, anonymous = new_resident()
    late_id, late = new_resident()
    family = await sign_up(gql, zhang, session_id, party_size=2)
    await sign_up(gql, anonymous, session_id)
    await sign_up(gql, late, session_id)  # the session is full: waits
    code = (await ticket_of(gql, zhang, family["id"]))["code"]
    await gql.ok(CHECK_IN, check_in_vars(code, session_id), scanner_token(settings))

    response = await client.get(f"/exports/sessions/{session_id}/roster.csv", headers=bearer(organiser_token))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    assert phone.encode() not in response.content  # the organisers' own roster: names in full
    text = response.content.decode("utf-8-sig")
    assert "\r\n" in text
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[:3] == ["序号 No.", "居民 Resident", "电话 Phone"]
    assert [row[1:6] for row in rows] == [
        ["张三丰", mask_phone(phone), "已确认 Confirmed", "2", "是 Yes"],
        ["未填姓名", "", "已确认 Confirmed", "1", "否 No"],
        ["未填姓名", "", "候补 Waiting", "1", "否 No"],
    ]
    assert mask_phone(anonymous_id).encode() not in response.content
    assert mask_phone(late_id).encode() not in response.content
    assert rows[0][6] and not rows[1][6]  # when the family arrived, local time


async def test_only_the_communitys_organisers_export_a_roster(
    client: httpx.AsyncClient, gql: GraphQLClient, organiser_token: str, new_resident: Any
) -> None:
    session_id = await schedule_at(gql, organiser_token, timedelta(days=1))
    url = f"/exports/sessions/{session_id}/roster.csv"

    nobody = await client.get(url)
    assert (nobody.status_code, nobody.json()["code"]) == (401, "UNAUTHENTICATED")
    resident = await client.get(url, headers=bearer(new_resident()[1]))
    assert (resident.status_code, resident.json()["code"]) == (403, "FORBIDDEN")
    unknown = await client.get(
        f"/exports/sessions/{uuid.uuid4()}/roster.csv", headers=bearer(organiser_token)
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "SESSION_NOT_FOUND")
    garbled = await client.get("/exports/sessions/not-an-id/roster.csv", headers=bearer(organiser_token))
    assert (garbled.status_code, garbled.json()["code"]) == (400, "BAD_USER_INPUT")


async def test_anyone_can_put_a_session_in_their_calendar(
    client: httpx.AsyncClient, gql: GraphQLClient, organiser_token: str
) -> None:
    session_id = await schedule_at(gql, organiser_token, timedelta(days=3), title="义诊, 免费")
    session = await gql.ok(
        "query($id: ID!) { session(id: $id) { startsAt endsAt venue } }", {"id": session_id}
    )

    response = await client.get(f"/exports/sessions/{session_id}.ics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    [event] = events_of(response.content)
    assert str(event["SUMMARY"]) == "义诊, 免费"
    assert str(event["LOCATION"]) == session["session"]["venue"]
    assert event.decoded("DTSTART") == datetime.fromisoformat(session["session"]["startsAt"])
    assert event.decoded("DTEND") == datetime.fromisoformat(session["session"]["endsAt"])
    assert str(event["UID"]) == f"session-{session_id}@linli"
    assert str(event["STATUS"]) == "CONFIRMED"
    missing = await client.get(f"/exports/sessions/{uuid.uuid4()}.ics")
    assert missing.status_code == 404


async def test_a_draft_festivals_session_is_in_no_calendar_but_its_organisers(
    client: httpx.AsyncClient, gql: GraphQLClient, organiser_token: str, new_resident: Any
) -> None:
    session_id = await schedule_at(gql, organiser_token, timedelta(days=3), published=False)
    url = f"/exports/sessions/{session_id}.ics"

    assert (await client.get(url)).status_code == 404
    assert (await client.get(url, headers=bearer(new_resident()[1]))).status_code == 404
    assert (await client.get(url, headers=bearer("not-a-token"))).status_code == 404
    assert len(events_of((await client.get(url, headers=bearer(organiser_token))).content)) == 1


async def test_a_called_off_session_says_so_in_the_calendar(
    client: httpx.AsyncClient, gql: GraphQLClient, organiser_token: str
) -> None:
    session_id = await schedule_at(gql, organiser_token, timedelta(days=3))
    cancel = {"input": {"sessionId": session_id, "reason": "大风预警", "idempotencyKey": uuid.uuid4().hex}}
    await gql.ok(CANCEL_SESSION, cancel, organiser_token)

    [event] = events_of((await client.get(f"/exports/sessions/{session_id}.ics")).content)

    assert str(event["STATUS"]) == "CANCELLED"
    assert "大风预警" in str(event["DESCRIPTION"])


async def test_my_calendar_holds_my_confirmed_sessions_only(
    client: httpx.AsyncClient, gql: GraphQLClient, organiser_token: str, new_resident: Any
) -> None:
    later = await schedule_at(gql, organiser_token, timedelta(days=4), title="亲子手工")
    sooner = await schedule_at(gql, organiser_token, timedelta(days=2), title="义诊")
    full = await schedule_at(gql, organiser_token, timedelta(days=3), capacity=1, title="书法")
    await sign_up(gql, new_resident()[1], full)
    _, token = new_resident()
    await sign_up(gql, token, later, party_size=3)
    await sign_up(gql, token, sooner)
    assert (await sign_up(gql, token, full))["status"] == "WAITLISTED"

    by_bearer = await client.get("/exports/me/signups.ics", headers=bearer(token))
    by_cookie = await client.get("/exports/me/signups.ics", headers={"Cookie": f"linli_token={token}"})

    assert by_bearer.status_code == by_cookie.status_code == 200
    events = events_of(by_bearer.content)
    assert [str(e["SUMMARY"]) for e in events] == ["义诊", "亲子手工"]
    assert [str(e["UID"]) for e in events] == [f"session-{sooner}@linli", f"session-{later}@linli"]
    assert "Party size: 3" in str(events[1]["DESCRIPTION"])
    assert [str(e["UID"]) for e in events_of(by_cookie.content)] == [str(e["UID"]) for e in events]
    assert (await client.get("/exports/me/signups.ics")).status_code == 401


async def test_another_communitys_organiser_reads_no_roster_and_exports_nothing(
    client: httpx.AsyncClient, gql: GraphQLClient, organiser_token: str, settings: Settings
) -> None:
    session_id = await schedule_at(gql, organiser_token, timedelta(days=1))
    elsewhere = token_for(settings, "organiser-xiyuan", {"organiser"}, {OTHER_COMMUNITY})

    roster = "query($id: ID!) { sessionRoster(sessionId: $id) { status } }"
    assert await gql.error_code(roster, {"id": session_id}, elsewhere) == "FORBIDDEN"
    csv_file = await client.get(f"/exports/sessions/{session_id}/roster.csv", headers=bearer(elsewhere))
    assert (csv_file.status_code, csv_file.json()["code"]) == (403, "FORBIDDEN")
