"""The organisers' console in a real browser: schedule a session, watch its seats fill, call it off."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.async_api import expect

from services.common.settings import Settings
from services.identity.service import Identity
from tests.browser.conftest import LAPTOP
from tests.conftest import COMMUNITY, GraphQLClient
from tests.identity_steps import staff_account

SIGN_UP = "mutation($input: SignUpInput!) { signUp(input: $input) { status } }"


async def test_an_organiser_schedules_a_session_and_sees_the_count_change_when_a_resident_signs_up(
    person: Any, pool: Any, redis: Any, settings: Settings, gql: GraphQLClient, new_resident: Any
) -> None:
    username, password = await staff_account(Identity(pool, redis, settings), "organiser", COMMUNITY)
    organiser = await person(LAPTOP)
    page = await organiser.open("/console")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(password)
    await organiser.screenshot("console-login")
    await page.get_by_role("button", name="登录").click()

    festival_name = f"第四届幸福邻里节 {uuid.uuid4().hex[:4]}"
    await page.get_by_label("名称", exact=True).fill(festival_name)
    await page.get_by_label("开始日期").fill("2026-12-05")
    await page.get_by_label("结束日期").fill("2026-12-06")
    await page.get_by_role("button", name="创建节日").click()
    await expect(page.get_by_label("节日", exact=True)).to_have_value(
        await page.locator("#festival option", has_text=festival_name).get_attribute("value") or ""
    )

    await page.get_by_label("活动名称").fill("包饺子")
    await page.get_by_label("介绍").fill("邻里一起包饺子")
    await page.get_by_role("button", name="创建活动").click()
    await expect(page.get_by_label("活动", exact=True)).to_contain_text("包饺子")

    await page.get_by_label("地点").fill("朔方社区邻里驿家")
    await page.get_by_label("开始（北京时间）").fill("2026-12-05T14:00")
    await page.get_by_label("结束（北京时间）").fill("2026-12-05T16:00")
    await page.get_by_label("名额").fill("30")
    await page.get_by_role("button", name="安排", exact=True).click()
    row = page.locator("#sessions tbody tr", has_text="包饺子")
    await expect(row.locator("[data-cell=left]")).to_have_text("30")
    await expect(row).to_contain_text("12月5日")
    session_id = await row.get_attribute("data-session")

    await expect(page.locator("#live")).to_have_attribute("data-live", "true")  # subscribed over graphql-ws
    _, token = new_resident()
    signed = await gql.ok(
        SIGN_UP, {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}}, token
    )
    assert signed["signUp"]["status"] == "CONFIRMED"
    # No reload: the subscription pushes the new counts (polling would take up to 15 s now).
    await expect(row.locator("[data-cell=left]")).to_have_text("29")
    await expect(row.locator("[data-cell=taken]")).to_contain_text("1")
    await organiser.screenshot("console-sessions")

    await row.get_by_role("button", name="改名额").click()
    await row.get_by_label("新名额").fill("40")
    await row.get_by_role("button", name="确认修改").click()
    await expect(row.locator("[data-cell=left]")).to_have_text("39")

    await row.get_by_role("button", name="改时间").click()
    await row.get_by_label("新开始时间").fill("2026-12-05T15:00")
    await row.get_by_label("新结束时间").fill("2026-12-05T17:00")
    await row.get_by_role("button", name="确认改期").click()
    await expect(row).to_contain_text("15:00–17:00")

    await row.get_by_role("button", name="取消场次").click()
    await row.get_by_label("取消原因").fill("天气原因")
    await row.get_by_role("button", name="确认取消").click()
    await expect(row).to_contain_text("已取消")
    await expect(row).to_contain_text("天气原因")
