"""At the door and on paper, by the API: a party found by the phone's last four digits, a name or
the ticket's six-digit number and let in one person at a time; the printed ticket's words and its
PDF; rosters with full names, every household member and a file named after the session."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import httpx
import pypdf

from services.activities import tickets
from services.common.masking import mask_phone
from services.common.settings import Settings
from services.gateway.ticket_sheet import clock_label, day_label, time_label
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, GraphQLClient
from tests.dates import FESTIVAL_DAY, at, day_iso
from tests.door_steps import ADMIT, DOOR_ATTENDEES, couple_signed_up, desk_phone_listed, session_on
from tests.ticket_steps import CHECK_IN, check_in_vars, scanner_token, schedule_at

SOON = timedelta(minutes=20)  # the door is open (it opens an hour before)
TICKET_FOR = """
query($id: ID!) {
  ticketFor(signupId: $id) {
    code
    sheet {
      activity festival dateLabel timeLabel venue venueAddress holder partySize partyNames arriveBy
      community deskPhone shortCode
    }
  }
}
"""
FULL_ROSTER = """
query($id: ID!) { sessionRoster(sessionId: $id) { signupId resident phone partySize partyNames admitted } }
"""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def admit(session_id: str, signup_id: str, people: int | None, key: str | None = None) -> dict[str, Any]:
    return {
        "input": {
            "sessionId": session_id,
            "signupId": signup_id,
            "people": people,
            "idempotencyKey": key or uuid.uuid4().hex,
        }
    }


async def test_the_door_finds_a_party_by_phone_tail_name_or_ticket_number(
    gql: GraphQLClient, organiser_token: str, settings: Settings
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON)
    couple = await couple_signed_up(gql, settings, session_id)
    await couple_signed_up(gql, settings, session_id, name="张桂芳", partner="赵大明")
    scanner = scanner_token(settings)

    tail = couple["phone"][-4:]
    by_tail = (await gql.ok(DOOR_ATTENDEES, {"s": session_id, "q": tail}, scanner))["doorAttendees"]
    [found] = [a for a in by_tail if a["signupId"] == couple["signup_id"]]
    assert found == {
        "signupId": couple["signup_id"],
        "resident": "王秀兰",
        "phone": mask_phone(couple["phone"]),
        "partySize": 2,
        "partyNames": ["王秀兰", "李建国"],
        "admitted": 0,
        "stillToCome": 2,
    }
    assert all(a["phone"].endswith(tail) for a in by_tail)

    by_partner = (await gql.ok(DOOR_ATTENDEES, {"s": session_id, "q": "建国"}, scanner))["doorAttendees"]
    assert [a["signupId"] for a in by_partner] == [couple["signup_id"]]

    sheet = (await gql.ok(TICKET_FOR, {"id": couple["signup_id"]}, couple["desk"]))["ticketFor"]["sheet"]
    number = sheet["shortCode"]
    assert len(number) == 6 and number.isdigit()
    by_number = (await gql.ok(DOOR_ATTENDEES, {"s": session_id, "q": number}, scanner))["doorAttendees"]
    assert [a["signupId"] for a in by_number] == [couple["signup_id"]]

    nobody = (await gql.ok(DOOR_ATTENDEES, {"s": session_id, "q": "欧阳"}, scanner))["doorAttendees"]
    assert nobody == []
    assert await gql.error_code(DOOR_ATTENDEES, {"s": session_id, "q": "  "}, scanner) == "BAD_USER_INPUT"


async def test_a_party_of_two_comes_in_one_at_a_time_and_once(
    gql: GraphQLClient, organiser_token: str, settings: Settings
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON)
    couple = await couple_signed_up(gql, settings, session_id)
    scanner = scanner_token(settings)
    signup_id = couple["signup_id"]

    first_key = uuid.uuid4().hex
    first = (await gql.ok(ADMIT, admit(session_id, signup_id, 1, first_key), scanner))["admitAttendee"]
    assert (first["people"], first["admitted"], first["partySize"]) == (1, 1, 2)
    assert first["partyNames"] == ["王秀兰", "李建国"]
    replayed = (await gql.ok(ADMIT, admit(session_id, signup_id, 1, first_key), scanner))["admitAttendee"]
    assert replayed == first  # the same scan again lets nobody else in

    assert await gql.error_code(ADMIT, admit(session_id, signup_id, 2), scanner) == "PARTY_ADMITS_FEWER"
    later = await gql.ok(DOOR_ATTENDEES, {"s": session_id, "q": "王秀兰"}, scanner)
    assert [(a["admitted"], a["stillToCome"]) for a in later["doorAttendees"]] == [(1, 1)]

    second = (await gql.ok(ADMIT, admit(session_id, signup_id, 1), scanner))["admitAttendee"]
    assert (second["people"], second["admitted"]) == (1, 2)
    assert await gql.error_code(ADMIT, admit(session_id, signup_id, 1), scanner) == "ALREADY_CHECKED_IN"

    roster = (await gql.ok(FULL_ROSTER, {"id": session_id}, organiser_token))["sessionRoster"]
    assert [(r["resident"], r["admitted"]) for r in roster] == [("王秀兰", 2)]


async def test_a_scanned_ticket_lets_part_of_the_party_in_then_the_rest(
    gql: GraphQLClient, organiser_token: str, settings: Settings
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON)
    couple = await couple_signed_up(gql, settings, session_id)
    code = (await gql.ok(TICKET_FOR, {"id": couple["signup_id"]}, couple["desk"]))["ticketFor"]["code"]
    scanner = scanner_token(settings)

    one = check_in_vars(code, session_id)
    one["input"]["people"] = 1
    first = await gql.ok(CHECK_IN.replace("resident }", "resident people admitted }"), one, scanner)
    assert (first["checkInTicket"]["people"], first["checkInTicket"]["admitted"]) == (1, 1)
    rest = await gql.ok(
        CHECK_IN.replace("resident }", "resident people }"), check_in_vars(code, session_id), scanner
    )
    assert rest["checkInTicket"]["people"] == 1  # only the one still to come
    assert await gql.error_code(CHECK_IN, check_in_vars(code, session_id), scanner) == "ALREADY_CHECKED_IN"


async def test_another_communitys_scanner_neither_finds_nor_admits(
    gql: GraphQLClient, organiser_token: str, settings: Settings
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON)
    couple = await couple_signed_up(gql, settings, session_id)
    elsewhere = scanner_token(settings, OTHER_COMMUNITY)

    search = {"s": session_id, "q": couple["phone"][-4:]}
    assert await gql.error_code(DOOR_ATTENDEES, search, elsewhere) == "FORBIDDEN"
    assert await gql.error_code(ADMIT, admit(session_id, couple["signup_id"], 1), elsewhere) == "FORBIDDEN"
    assert (
        await gql.error_code(ADMIT, admit(session_id, couple["signup_id"], 0), elsewhere) == "BAD_USER_INPUT"
    )


async def test_the_roster_names_everyone_in_full_with_phones_masked_and_the_file_after_the_session(
    gql: GraphQLClient, client: httpx.AsyncClient, organiser_token: str, settings: Settings
) -> None:
    session_id = await session_on(gql, organiser_token, FESTIVAL_DAY, "09:00", title="剪纸书法")
    couple = await couple_signed_up(gql, settings, session_id)

    [entry] = (await gql.ok(FULL_ROSTER, {"id": session_id}, organiser_token))["sessionRoster"]
    assert entry["resident"] == "王秀兰" and entry["phone"] == mask_phone(couple["phone"])
    assert entry["partySize"] == 2 and entry["partyNames"] == ["王秀兰", "李建国"]

    response = await client.get(f"/exports/sessions/{session_id}/roster.csv", headers=bearer(organiser_token))
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    local_name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert local_name == f"剪纸书法-{day_iso(FESTIVAL_DAY)}-0900.csv"
    assert f'filename="roster-{day_iso(FESTIVAL_DAY)}-0900.csv"' in disposition  # the ASCII fallback
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert couple["phone"].encode() not in response.content
    header, row = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    named = dict(zip(header, row, strict=True))
    assert named["居民 Resident"] == "王秀兰"
    assert named["电话 Phone"] == mask_phone(couple["phone"])
    assert named["同行人员 Who comes"] == "王秀兰、李建国"


async def test_the_printed_ticket_and_its_pdf_say_what_when_where_and_who(
    gql: GraphQLClient, client: httpx.AsyncClient, organiser_token: str, settings: Settings, new_resident: Any
) -> None:
    session_id = await session_on(gql, organiser_token, FESTIVAL_DAY, "09:00", "11:00", title="剪纸书法")
    couple = await couple_signed_up(gql, settings, session_id)
    starts = at(FESTIVAL_DAY, "09:00")
    desk_phone = await desk_phone_listed(gql, settings)

    ticket = (await gql.ok(TICKET_FOR, {"id": couple["signup_id"]}, couple["desk"]))["ticketFor"]
    sheet = ticket["sheet"]
    assert sheet["activity"] == "剪纸书法" and sheet["festival"] == "第四届幸福邻里节"
    assert sheet["dateLabel"] == day_label(starts) and sheet["dateLabel"].startswith(
        f"{starts.month}月{starts.day}日"
    )
    assert sheet["timeLabel"] == "上午 9:00 – 11:00"
    assert sheet["venue"] == "朔方社区邻里驿家" and sheet["venueAddress"] is None
    assert sheet["holder"] == "王秀兰" and sheet["partySize"] == 2
    assert sheet["partyNames"] == ["王秀兰", "李建国"]
    assert sheet["arriveBy"] == "请提前 15 分钟到场（上午 8:45 前）"
    assert sheet["community"] == "朔方社区" and sheet["deskPhone"] == desk_phone
    assert sheet["shortCode"] == tickets.short_code(settings.secret, uuid.UUID(couple["signup_id"]))

    response = await client.get(f"/exports/tickets/{couple['signup_id']}.pdf", headers=bearer(couple["desk"]))
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    [page] = pypdf.PdfReader(io.BytesIO(response.content)).pages
    text = page.extract_text()
    for words in (
        "剪纸书法",
        sheet["dateLabel"],
        "上午 9:00",
        "朔方社区邻里驿家",
        "王秀兰",
        "李建国",
        "共 2 人",
    ):
        assert words in text, (words, text)
    assert "请提前 15 分钟到场" in text and f"票号 {sheet['shortCode']}" in text
    assert f"朔方社区 电话 {desk_phone}" in text
    assert float(page.mediabox.width) < 300  # A6: 105 mm wide

    stranger = new_resident()[1]
    refused = await client.get(f"/exports/tickets/{couple['signup_id']}.pdf", headers=bearer(stranger))
    assert refused.status_code == 403
    assert (await client.get(f"/exports/tickets/{couple['signup_id']}.pdf")).status_code == 401


CREATE_VENUE = """
mutation($input: CreateVenueInput!) { createVenue(input: $input) { id name address } }
"""


async def test_a_booked_venues_address_is_on_the_ticket(
    gql: GraphQLClient, client: httpx.AsyncClient, organiser_token: str, settings: Settings
) -> None:
    venue_input = {
        "communityId": COMMUNITY,
        "name": f"朔方社区服务中心 {uuid.uuid4().hex[:4]}",
        "kind": "ROOM",
        "capacity": 40,
        "address": "  朔方路 12 号  一楼  ",
        "idempotencyKey": uuid.uuid4().hex,
    }
    venue = (await gql.ok(CREATE_VENUE, {"input": venue_input}, organiser_token))["createVenue"]
    assert venue["address"] == "朔方路 12 号 一楼"
    session_id = await session_on(gql, organiser_token, FESTIVAL_DAY, "14:00", "16:00", venue_id=venue["id"])
    couple = await couple_signed_up(gql, settings, session_id)

    sheet = (await gql.ok(TICKET_FOR, {"id": couple["signup_id"]}, couple["desk"]))["ticketFor"]["sheet"]
    assert sheet["venue"] == venue["name"] and sheet["venueAddress"] == "朔方路 12 号 一楼"
    assert sheet["timeLabel"] == "下午 2:00 – 4:00"
    response = await client.get(f"/exports/tickets/{couple['signup_id']}.pdf", headers=bearer(couple["desk"]))
    text = "".join(pypdf.PdfReader(io.BytesIO(response.content)).pages[0].extract_text().split())
    assert "朔方路12号一楼" in text

    too_long = {**venue_input, "name": "另一处", "address": "路" * 101, "idempotencyKey": uuid.uuid4().hex}
    assert await gql.error_code(CREATE_VENUE, {"input": too_long}, organiser_token) == "BAD_USER_INPUT"


def test_times_read_as_people_say_them() -> None:
    assert clock_label(at(FESTIVAL_DAY, "09:05")) == "上午 9:05"
    assert clock_label(at(FESTIVAL_DAY, "12:30")) == "下午 12:30"
    assert clock_label(at(FESTIVAL_DAY, "14:00")) == "下午 2:00"
    assert clock_label(at(FESTIVAL_DAY, "19:00")) == "晚上 7:00"
    assert time_label(at(FESTIVAL_DAY, "10:00"), at(FESTIVAL_DAY, "13:00")) == "上午 10:00 – 下午 1:00"
    assert tickets.party_names("王秀兰", 2, ["李建国"]) == ["王秀兰", "李建国"]
    assert tickets.party_names("王秀兰", 1, ["李建国"]) == ["李建国"]  # she stays home
