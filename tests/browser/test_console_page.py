"""The organisers' console in a real browser: schedule a session, watch its seats fill, call it off."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from playwright.async_api import expect

from services.common.settings import Settings
from services.identity.service import Identity
from tests.browser.conftest import LAPTOP
from tests.conftest import COMMUNITY, GraphQLClient
from tests.dates import FESTIVAL_DAY, at, at_input, day_iso, utc_stamp, zh_day
from tests.identity_steps import resident_logs_in, staff_account

SIGN_UP = "mutation($input: SignUpInput!) { signUp(input: $input) { status } }"


async def test_an_organiser_schedules_a_session_and_sees_the_count_change_when_a_resident_signs_up(
    person: Any, pool: Any, redis: Any, settings: Settings, gql: GraphQLClient
) -> None:
    username, password = await staff_account(Identity(pool, redis, settings), "organiser", COMMUNITY)
    organiser = await person(LAPTOP)
    page = await organiser.open("/console")
    await organiser.screenshot("console-login")
    await organiser.logs_in_as_staff(username, password)

    festival_name = f"第四届幸福邻里节 {uuid.uuid4().hex[:4]}"
    await page.get_by_label("名称", exact=True).fill(festival_name)
    await page.get_by_label("开始日期").fill(day_iso(FESTIVAL_DAY))
    await page.get_by_label("结束日期").fill(day_iso(FESTIVAL_DAY + 1))
    await page.get_by_label("立即发布").uncheck()  # a draft until the programme is ready
    await page.get_by_role("button", name="创建节日").click()
    await expect(page.locator("#festival-dates")).to_contain_text("草稿")
    await expect(page.get_by_label("节日", exact=True)).to_have_value(
        await page.locator("#festival option", has_text=festival_name).get_attribute("value") or ""
    )

    await page.get_by_label("活动名称").fill("包饺子")
    await page.get_by_label("介绍").fill("邻里一起包饺子")
    await page.get_by_role("button", name="创建活动").click()
    await expect(page.get_by_label("活动", exact=True)).to_contain_text("包饺子")

    await page.get_by_role("button", name="发布给居民").click()
    await expect(page.locator("#festival-dates")).to_contain_text("已发布")

    venue = f"朔方社区邻里驿家 {uuid.uuid4().hex[:4]}"
    register = page.locator("#venue-form")
    await register.get_by_label("场地名称").fill(venue)
    await register.get_by_label("类型").select_option("STATION")
    await register.get_by_label("最多容纳").fill("50")
    await register.get_by_role("button", name="登记场地").click()

    schedule = page.locator("#session-form")
    await expect(schedule.get_by_label("场地")).to_contain_text(venue)  # chosen for the next session
    await schedule.get_by_label("开始（北京时间）").fill(at_input(FESTIVAL_DAY, "14:00"))
    await schedule.get_by_label("结束（北京时间）").fill(at_input(FESTIVAL_DAY, "16:00"))
    await schedule.get_by_label("名额").fill("30")
    await schedule.get_by_role("button", name="安排", exact=True).click()
    row = page.locator("#sessions tbody tr", has_text="包饺子")
    await expect(row).to_contain_text(venue)

    # The same venue at an overlapping time is refused, in words.
    await schedule.get_by_label("开始（北京时间）").fill(at_input(FESTIVAL_DAY, "15:00"))
    await schedule.get_by_label("结束（北京时间）").fill(at_input(FESTIVAL_DAY, "17:00"))
    await schedule.get_by_role("button", name="安排", exact=True).click()
    await expect(schedule.get_by_role("alert")).to_contain_text("已被其他场次占用")
    await expect(page.locator("#sessions tbody tr")).to_have_count(1)
    await expect(row.locator("[data-cell=left]")).to_have_text("30")
    await expect(row).to_contain_text(zh_day(FESTIVAL_DAY))
    session_id = await row.get_attribute("data-session")

    await expect(page.locator("#live")).to_have_attribute("data-live", "true")  # subscribed over graphql-ws
    resident = await resident_logs_in(gql, pool)
    token = resident["accessToken"]
    signed = await gql.ok(
        SIGN_UP, {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}}, token
    )
    assert signed["signUp"]["status"] == "CONFIRMED"
    # No reload: the subscription pushes the new counts (polling would take up to 15 s now).
    await expect(row.locator("[data-cell=left]")).to_have_text("29")
    await expect(row.locator("[data-cell=taken]")).to_contain_text("1")
    await organiser.screenshot("console-sessions")

    await row.get_by_role("button", name="名单").click()
    roster = page.locator("#roster")
    await expect(roster).to_contain_text(resident["me"]["phone"])  # masked, as the API gives it
    assert "****" in resident["me"]["phone"]
    await organiser.screenshot("console-roster")
    async with page.expect_download() as csv_download:
        await roster.get_by_role("link", name="导出名单").click()
    csv = (await (await csv_download.value).path()).read_text(encoding="utf-8-sig")
    assert csv.splitlines()[0].startswith("序号 No.,居民 Resident,电话 Phone")
    assert resident["me"]["phone"] in csv
    async with page.expect_download() as ical_download:
        await roster.get_by_role("link", name="加入日历").click()
    ical = (await (await ical_download.value).path()).read_text(encoding="utf-8")
    assert "BEGIN:VEVENT" in ical and f"DTSTART:{utc_stamp(at(FESTIVAL_DAY, '14:00'))}" in ical

    await row.get_by_role("button", name="改名额").click()
    await row.get_by_label("新名额").fill("40")
    await row.get_by_role("button", name="确认修改").click()
    await expect(row.locator("[data-cell=left]")).to_have_text("39")

    await row.get_by_role("button", name="改时间").click()
    await row.get_by_label("新开始时间").fill(at_input(FESTIVAL_DAY, "15:00"))
    await row.get_by_label("新结束时间").fill(at_input(FESTIVAL_DAY, "17:00"))
    await row.get_by_role("button", name="确认改期").click()
    await expect(row).to_contain_text("15:00–17:00")

    await row.get_by_role("button", name="取消场次").click()
    await row.get_by_label("取消原因").fill("天气原因")
    await row.get_by_role("button", name="确认取消").click()
    await expect(row).to_contain_text("已取消")
    await expect(row).to_contain_text("天气原因")


async def test_a_community_admin_creates_a_shift_and_a_scanner_who_opens_its_station(
    person: Any, pool: Any, redis: Any, settings: Settings, festival: Any
) -> None:
    planned = await festival()
    username, password = await staff_account(Identity(pool, redis, settings), "community_admin", COMMUNITY)
    organiser = await person(LAPTOP)
    page = await organiser.open("/console")
    await organiser.logs_in_as_staff(username, password)
    await page.get_by_label("节日", exact=True).select_option(planned["id"])
    await expect(page.locator("#sessions tbody tr")).to_have_count(3)

    form = page.locator("#shift-form")
    role = f"签到引导 {uuid.uuid4().hex[:4]}"  # the community's list holds other tests' shifts too
    await form.get_by_label("岗位").fill(role)
    await form.get_by_label("地点").fill("朔方社区邻里驿家")
    await form.get_by_label("开始（北京时间）").fill(at_input(FESTIVAL_DAY, "08:00"))
    await form.get_by_label("结束（北京时间）").fill(at_input(FESTIVAL_DAY, "12:00"))
    await form.get_by_label("需要人数").fill("4")
    await form.get_by_role("button", name="创建班次").click()
    shift = page.locator("#shifts tbody tr", has_text=role)
    await expect(shift).to_contain_text("0/4")
    link = shift.get_by_role("link", name="打开签到站")
    station_path = await link.get_attribute("href")
    assert station_path == "/station?venue=" + quote("朔方社区邻里驿家")
    await shift.get_by_role("button", name="名单").click()
    await expect(page.locator("#shifts .shift-roster")).to_contain_text("还没有志愿者报名")
    await organiser.screenshot("console-shifts")

    # Every select of communities shows their names; an id is only an option's value.
    for select in ("festival-community", "staff-community", "report-community"):
        assert await page.locator(f"#{select} option").all_text_contents() == ["朔方社区"]
    staff = page.locator("#staff-form")
    scanner = f"door-{uuid.uuid4().hex[:6]}"
    await staff.get_by_label("角色").select_option("SCANNER")
    await staff.get_by_label("新账号用户名").fill(scanner)
    await staff.get_by_label("初始密码").fill("door-pass-2026")
    await staff.get_by_role("button", name="开设账号").click()
    await expect(staff.get_by_role("status")).to_contain_text(scanner)

    report = page.locator("#report-form")
    await report.get_by_label("工作单位").fill("灵武市供电公司")
    await report.get_by_label("起始日期").fill(day_iso(-30))
    await report.get_by_label("截止日期").fill(day_iso(30))
    async with page.expect_download() as report_download:
        await report.get_by_role("button", name="导出 CSV").click()
    table = (await (await report_download.value).path()).read_text(encoding="utf-8-sig")
    assert table.startswith("单位 Work unit,灵武市供电公司")
    async with page.context.expect_page() as printable:
        await report.get_by_role("button", name="查看报告").click()
    report_page = await printable.value
    await expect(report_page.locator("body")).to_contain_text("灵武市供电公司")
    await report_page.close()

    tablet = await person(LAPTOP)
    station = await tablet.open(station_path)
    await tablet.logs_in_as_staff(scanner, "door-pass-2026")
    await expect(station.get_by_role("img", name="签到二维码")).to_be_visible()
