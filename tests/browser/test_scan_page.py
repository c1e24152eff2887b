"""Volunteers at the door in a real browser: the station shows its code, a volunteer types it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import expect

from services.common.settings import Settings
from services.identity.service import Identity
from tests.browser.conftest import LAPTOP
from tests.conftest import COMMUNITY, GraphQLClient
from tests.identity_steps import new_phone, staff_account, texted_code

CREATE_SHIFT = "mutation($input: CreateShiftInput!) { createShift(input: $input) { id } }"
SIGN_UP_FOR_SHIFT = "mutation($input: SignUpForShiftInput!) { signUpForShift(input: $input) { id } }"


async def test_a_volunteer_types_the_code_the_station_shows_checks_in_and_checks_out(
    person: Any,
    pool: Any,
    redis: Any,
    settings: Settings,
    gql: GraphQLClient,
    organiser_token: str,
) -> None:
    venue = f"朔方社区邻里驿家 {uuid.uuid4().hex[:4]}"
    now = datetime.now(UTC)
    shift = await gql.ok(
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
    shift_id = shift["createShift"]["id"]

    username, password = await staff_account(Identity(pool, redis, settings), "scanner", COMMUNITY)
    tablet = await person(LAPTOP)
    station = await tablet.open(f"/station?venue={venue}")
    await station.get_by_label("用户名").fill(username)
    await station.get_by_label("密码").fill(password)
    await station.get_by_role("button", name="登录").click()
    await expect(station.get_by_role("img", name="签到二维码")).to_be_visible()
    await tablet.screenshot("station")

    volunteer = await person()
    page = await volunteer.open("/scan")
    phone = new_phone()
    await page.get_by_label("手机号").fill(phone)
    await page.get_by_role("button", name="获取验证码").click()
    await page.get_by_label("验证码", exact=True).fill(await texted_code(pool, phone))
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_text("您还没有报名志愿者班次")).to_be_visible()

    # The shift sign-up happens elsewhere (the residents' side); here, with the same log-in.
    answer = await page.request.post(
        volunteer.base_url + "/graphql",
        data={
            "query": SIGN_UP_FOR_SHIFT,
            "variables": {"input": {"shiftId": shift_id, "idempotencyKey": uuid.uuid4().hex}},
        },
    )
    assert "errors" not in await answer.json()
    await page.reload()
    await expect(page.locator(f"[data-shift='{shift_id}']")).to_contain_text("签到引导")

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

    await page.get_by_role("button", name="签退").click()
    await expect(page.get_by_role("status")).to_contain_text("已签退")
    await expect(page.locator("#hours")).to_contain_text("累计")
