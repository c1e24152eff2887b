"""Volunteers at the door in a real browser: the station shows its code; a volunteer types it, or
holds the phone's camera to it (Chromium's fake camera playing the rendered QR)."""

from __future__ import annotations

import base64
import io
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import PIL.Image
import pytest
from playwright.async_api import Page, Playwright, expect

from services.common.actor import VOLUNTEER
from services.common.settings import Settings
from services.gateway.pages import vendored
from services.identity.service import Identity
from services.volunteers import codes
from tests.browser.conftest import LAPTOP, Person, launch
from tests.conftest import COMMUNITY, GraphQLClient, token_for
from tests.identity_steps import staff_account

CREATE_SHIFT = "mutation($input: CreateShiftInput!) { createShift(input: $input) { id } }"
SIGN_UP_FOR_SHIFT = "mutation($input: SignUpForShiftInput!) { signUpForShift(input: $input) { id } }"


async def shift_at(gql: GraphQLClient, organiser_token: str, venue: str) -> str:
    """A shift at ``venue`` that started an hour ago, made through the API."""
    now = datetime.now(UTC)
    made = await gql.ok(
        CREATE_SHIFT,
        {
            "input": {
                "communityId": COMMUNITY,
                "venue": venue,
                "role": "签到引导",
                "startsAt": (now - timedelta(hours=1)).isoformat(),
                "endsAt": (now + timedelta(hours=2)).isoformat(),
                "headcount": 4,
            }
        },
        organiser_token,
    )
    shift_id: str = made["createShift"]["id"]
    return shift_id


async def volunteer_logs_in_for(volunteer: Person, pool: Any, shift_id: str) -> Page:
    """A resident says where they live, logs in on /scan by phone code and takes the shift."""
    page = await volunteer.open("/")
    await volunteer.logs_in_by_phone(pool)
    await page.get_by_role("tab", name="我的", exact=True).click()
    profile = page.locator("#profile-form")
    await profile.get_by_label("姓名").fill("李志愿")
    # The community by its name, from the picker, as residents choose it (never its id).
    await profile.get_by_label("所在社区").press_sequentially("朔方")
    await profile.get_by_role("button", name="朔方社区", exact=True).click()
    await expect(profile).to_contain_text("已选择：朔方社区")
    await profile.get_by_label("楼栋").fill("3号楼")
    await profile.get_by_label("单元").fill("2单元")
    await profile.get_by_role("button", name="保存资料").click()
    await expect(profile.get_by_role("status")).to_have_text("已保存")

    page = await volunteer.open("/scan")  # the same log-in: the cookie is the phone's
    await expect(page.get_by_text("您还没有报名志愿者班次")).to_be_visible()
    await page.locator(f".open-shift[data-shift='{shift_id}']").get_by_role("button", name="报名").click()
    await expect(page.locator(f".shift[data-shift='{shift_id}']")).to_contain_text("签到引导")
    return page


async def test_a_volunteer_types_the_code_the_station_shows_checks_in_and_checks_out(
    person: Any,
    pool: Any,
    redis: Any,
    settings: Settings,
    gql: GraphQLClient,
    organiser_token: str,
) -> None:
    venue = f"朔方社区邻里驿家 {uuid.uuid4().hex[:4]}"
    shift_id = await shift_at(gql, organiser_token, venue)

    username, password = await staff_account(Identity(pool, redis, settings), "scanner", COMMUNITY)
    tablet = await person(LAPTOP)
    station = await tablet.open(f"/station?venue={venue}")
    await tablet.logs_in_as_staff(username, password)
    await expect(station.get_by_role("img", name="签到二维码")).to_be_visible()
    await tablet.screenshot("station")

    volunteer = await person()
    page = await volunteer_logs_in_for(volunteer, pool, shift_id)

    await page.get_by_label("站点码").fill("LS2345")
    await page.get_by_role("button", name="签到", exact=True).click()
    await expect(page.get_by_role("alert")).to_contain_text("二维码无效")  # the refusal, in words

    shown = await station.locator("#code-text").inner_text()  # grouped in fours, as a person reads it
    assert " " in shown
    await page.get_by_label("站点码").fill(shown.lower())
    await volunteer.screenshot("scan-code-typed")
    await page.get_by_role("button", name="签到", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("已签到")
    await volunteer.screenshot("scan-checked-in")

    await page.get_by_role("button", name="签退", exact=True).click()
    await page.get_by_role("button", name="确认签退").click()  # check-out asks once more
    await expect(page.get_by_role("status")).to_contain_text("已签退")
    await expect(page.locator("#hours")).to_contain_text("累计")


def camera_film(code: str, path: Path) -> Path:
    """A Y4M video of the station code's QR as the station renders it, for Chromium's fake camera."""
    rendered = codes.render(code)
    qr = PIL.Image.open(io.BytesIO(base64.b64decode(rendered.png_data_url.split(",", 1)[1]))).convert("L")
    frame = PIL.Image.new("L", (640, 480), 255)
    frame.paste(qr, ((640 - qr.width) // 2, (480 - qr.height) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * (320 * 240)
    with path.open("wb") as film:
        film.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(10):
            film.write(b"FRAME\n" + luma + chroma + chroma)
    return path


async def test_a_volunteer_checks_in_by_pointing_the_phone_camera_at_the_station_code(
    person: Any,
    pool: Any,
    settings: Settings,
    gql: GraphQLClient,
    organiser_token: str,
    playwright: Playwright,
    tmp_path: Path,
) -> None:
    if not vendored("jsqr.js"):
        message = "CAMERA TEST SKIPPED: the QR decoder is not installed (run `npm ci`; make test does it)"
        print(f"\n{'!' * 78}\n{message}\n{'!' * 78}", file=sys.stderr)
        pytest.skip(message)
    venue = f"西苑广场 {uuid.uuid4().hex[:4]}"
    shift_id = await shift_at(gql, organiser_token, venue)
    code = codes.mint_station_code(settings.secret, COMMUNITY, venue, time.time())  # what the station shows
    film = camera_film(code, tmp_path / "station.y4m")
    phone_with_camera = await launch(
        playwright,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={film}",
    )
    try:
        volunteer = await person(on=phone_with_camera)
        page = await volunteer_logs_in_for(volunteer, pool, shift_id)
        await page.get_by_role("button", name="用摄像头扫码").click()
        await expect(page.get_by_role("status")).to_contain_text("已签到")
        await expect(page.locator("#camera")).to_be_hidden()  # the camera is let go once read
    finally:
        await phone_with_camera.close()


SIGN_UP = "mutation($input: SignUpInput!) { signUp(input: $input) { id status } }"
TICKET = "query($id: ID!) { ticket(signupId: $id) { code } }"


async def test_door_staff_admit_a_resident_by_ticket_once_and_check_a_volunteer_in_and_out_by_card(
    person: Any,
    pool: Any,
    redis: Any,
    settings: Settings,
    gql: GraphQLClient,
    festival: Any,
    new_resident: Any,
    organiser_token: str,
) -> None:
    planned = await festival(opening_soon=True)
    session_id = planned["sessions"]["开幕式"]
    _, token = new_resident()
    signed = await gql.ok(
        SIGN_UP, {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}}, token
    )
    ticket = await gql.ok(TICKET, {"id": signed["signUp"]["id"]}, token)

    username, password = await staff_account(Identity(pool, redis, settings), "scanner", COMMUNITY)
    door = await person()
    page = await door.open("/scan")
    await page.get_by_role("button", name="我是工作人员").click()
    await door.logs_in_as_staff(username, password)

    await page.get_by_label("场次").select_option(session_id)
    await page.get_by_label("扫描或输入").fill(ticket["ticket"]["code"])
    await page.get_by_role("button", name="确认入场").click()
    await expect(page.locator("#door-log")).to_contain_text("已入场")
    await door.screenshot("scan-door-tickets")

    await page.get_by_label("扫描或输入").fill(ticket["ticket"]["code"])
    await page.get_by_role("button", name="确认入场").click()
    await expect(page.locator("#door-form [role=alert]")).to_be_visible()  # a ticket admits once

    shift_id = await shift_at(gql, organiser_token, f"西苑广场 {uuid.uuid4().hex[:4]}")
    volunteer_id = f"volunteer-{uuid.uuid4().hex[:8]}"
    volunteer = token_for(settings, volunteer_id, {VOLUNTEER}, {COMMUNITY})
    await gql.ok(
        SIGN_UP_FOR_SHIFT, {"input": {"shiftId": shift_id, "idempotencyKey": uuid.uuid4().hex}}, volunteer
    )
    card = (await gql.ok("{ myVolunteerCard { code } }", token=volunteer))["myVolunteerCard"]["code"]
    await page.get_by_role("tab", name="志愿者卡").click()
    await page.get_by_label("班次").select_option(shift_id)
    await page.get_by_label("扫描或输入").fill(card)
    await page.get_by_role("button", name="志愿者签到").click()
    await expect(page.locator("#door-log")).to_contain_text("志愿者已签到")
    await page.get_by_label("扫描或输入").fill(card)
    await page.get_by_role("button", name="志愿者签退").click()
    await expect(page.locator("#door-log")).to_contain_text("志愿者已签退")
