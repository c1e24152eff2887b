"""Checking in by hand: the station shows six digits beside its QR, in sight on a venue's
1024x700 display and on a phone; a volunteer types them; a mis-tapped check-out is taken back
at the question it asks."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.async_api import Page, expect

from services.common.settings import Settings
from services.identity.service import Identity
from tests.browser.conftest import LAPTOP, PHONE, Person
from tests.browser.test_scan_page import volunteer_logs_in_for
from tests.conftest import COMMUNITY, GraphQLClient
from tests.dates import minutes_from_now
from tests.identity_steps import staff_account

CREATE_SHIFT = "mutation($input: CreateShiftInput!) { createShift(input: $input) { id } }"
DISPLAY = {"width": 1024, "height": 700}


async def shift_now(gql: GraphQLClient, organiser_token: str, venue: str) -> str:
    made = await gql.ok(
        CREATE_SHIFT,
        {
            "input": {
                "communityId": COMMUNITY,
                "venue": venue,
                "role": "签到引导",
                "startsAt": minutes_from_now(-60).isoformat(),
                "endsAt": minutes_from_now(120).isoformat(),
                "headcount": 4,
            }
        },
        organiser_token,
    )
    shift_id: str = made["createShift"]["id"]
    return shift_id


async def in_sight(page: Page, selector: str) -> None:
    """The element is wholly inside the viewport as the page first shows (no scrolling)."""
    box = await page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"], (selector, box, size)
    assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"], (selector, box, size)


async def test_a_volunteer_types_the_six_digits_and_a_mis_tapped_check_out_is_taken_back(
    person: Any,
    pool: Any,
    redis: Any,
    settings: Settings,
    gql: GraphQLClient,
    organiser_token: str,
    festival: Any,
) -> None:
    venue = f"朔方社区邻里驿家 {uuid.uuid4().hex[:4]}"
    shift_id = await shift_now(gql, organiser_token, venue)

    username, password = await staff_account(Identity(pool, redis, settings), "scanner", COMMUNITY)
    display = await person(DISPLAY)
    station = await display.open(f"/station?venue={venue}")
    await display.logs_in_as_staff(username, password)
    await expect(station.locator("#digits")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    await expect(station.get_by_role("img", name="签到二维码")).to_be_visible()
    await in_sight(station, "#digits")
    await in_sight(station, "#qr")
    await display.screenshot("station-digits")
    await station.set_viewport_size(PHONE)  # the same screen on a phone: the digits first
    await in_sight(station, "#digits")
    await station.set_viewport_size(DISPLAY)

    volunteer: Person = await person()
    page = await volunteer_logs_in_for(volunteer, pool, shift_id)
    await expect(page.get_by_label("站点码")).to_be_visible()
    shown = await station.locator("#digits").inner_text()  # read off the screen within its step
    await page.get_by_label("站点码").fill(shown)
    await volunteer.screenshot("scan-digits-typed")
    await page.get_by_role("button", name="签到", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("已签到")

    # A mis-tap on 签退: the page asks, with the minutes it would record, and "no" keeps the shift.
    await page.get_by_role("button", name="签退", exact=True).click()
    ask = page.get_by_role("alertdialog")
    await expect(ask).to_contain_text("确认签退？本次将计入 0 分钟")
    await volunteer.screenshot("scan-check-out-ask")
    await ask.get_by_role("button", name="不签退，继续服务").click()
    await expect(ask).to_be_hidden()
    await expect(page.get_by_role("status")).to_contain_text("已签到")
    await expect(page.get_by_role("status")).to_contain_text("未签退，您仍在服务中")
    await expect(page.get_by_role("button", name="签退", exact=True)).to_be_visible()
    await page.reload()  # still checked in, as the server sees it
    await expect(page.get_by_role("status")).to_contain_text("已签到")
    await expect(page.get_by_role("status")).not_to_contain_text("已签退")

    await page.get_by_role("button", name="签退", exact=True).click()
    await page.get_by_role("alertdialog").get_by_role("button", name="确认签退").click()
    await expect(page.get_by_role("status")).to_contain_text("本次计入 0 分钟")

    # The organiser takes that check-out back from the console while the shift lasts.
    planned = await festival()
    username, password = await staff_account(Identity(pool, redis, settings), "organiser", COMMUNITY)
    organiser = await person(LAPTOP)
    console = await organiser.open("/console")
    await organiser.logs_in_as_staff(username, password)
    await console.get_by_label("节日", exact=True).select_option(planned["id"])
    row = console.locator("#shifts tbody tr", has_text=venue)
    await row.get_by_role("button", name="名单").click()
    roster = console.locator("#shifts .shift-roster")
    await expect(roster).to_contain_text("签退（0 分钟）")
    # The volunteer by the name she gave and her masked phone, never an id.
    await expect(roster).to_contain_text(re.compile(r"李志愿（1\d{2}\*{4}\d{4}）"))
    await expect(roster).not_to_contain_text(re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-"))
    # The community card beside it: a community without grids leaves them out, not "null".
    await expect(console.locator("#directory-card")).to_contain_text("朔方社区")
    await expect(console.locator("#directory-card")).not_to_contain_text("null")
    await roster.get_by_role("button", name="撤销签退").click()
    await expect(roster.get_by_role("status")).to_have_text("已撤销签退：该志愿者恢复为服务中。")
    await organiser.screenshot("console-undo-check-out")
    await page.reload()
    await expect(page.get_by_role("status")).to_contain_text("已签到")
    await expect(page.get_by_role("status")).not_to_contain_text("已签退")
    await expect(page.get_by_role("button", name="签退", exact=True)).to_be_visible()
