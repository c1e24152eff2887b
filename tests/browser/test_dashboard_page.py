"""工作看板 in a real browser: a street's staff open their street's dashboard at 1280 px, change
the period and see the charts and their tables change (a point a day, then a point a month),
download the CSV and print it on A4 landscape for the joint meeting with no chart split over two
pages; then the same dashboard on a phone at 360 px, where a tap shows a bar's exact number."""

from __future__ import annotations

import asyncio
import re
import secrets
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, expect

from services.common.settings import Settings
from tests.browser.conftest import LAPTOP, PHONE, SCREENSHOTS, Person
from tests.browser.test_council_pages import staff_logs_in
from tests.browser.test_door_pages import presses_print, printed
from tests.conftest import GraphQLClient, eventually
from tests.dashboard_steps import THREE_AND_TEN, TITLE, street_with_work, three_beside_ten
from tests.dates import day, day_iso
from tests.test_directory import STREET_STAFF, platform

A4_LANDSCAPE_PT = (842, 595)


def _shot(name: str) -> Any:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / name


async def shows_period(page: Page, since: int, until: int) -> None:
    await page.get_by_label("开始日期").fill(day_iso(since))
    await page.get_by_label("结束日期").fill(day_iso(until))
    await page.get_by_role("button", name="显示").click()


async def test_a_streets_staff_change_the_period_and_print_their_dashboard(
    person: Any, pool: Any, gql: GraphQLClient, settings: Settings, browser: Browser
) -> None:
    made = await street_with_work(gql, settings, pool)
    username, password = f"street-{secrets.token_hex(3)}", f"Pw-{secrets.token_hex(8)}"
    await gql.ok(STREET_STAFF, {"s": made.street, "u": username, "p": password}, made.admin)
    staff: Person = await person(LAPTOP)
    await staff_logs_in(staff, username, password)
    await expect(staff.page.get_by_role("button", name="退出", exact=True)).to_be_visible()

    page = await staff.open("/dashboard")
    await expect(page.get_by_label("范围")).to_have_value(f"STREET:{made.street}")
    await shows_period(page, -30, -2)
    await expect(page.get_by_text("这段时间没有记录。")).to_be_visible()
    await expect(page.locator("section.figure")).to_have_count(0)

    # A week: a point a day. Bars per activity with their table, a line with its table.
    await shows_period(page, -5, 1)
    signups = page.locator("section[data-figure=signups_confirmed]")
    bars = signups.locator(".block.bars")
    await expect(bars.locator("tbody tr")).to_have_count(1)
    await expect(bars.locator("tbody td").nth(0)).to_have_text(TITLE)
    await expect(bars.locator("tbody td").nth(1)).to_have_text("6")
    await expect(bars.locator("svg rect.bar title")).to_have_text(f"{TITLE}: 6")  # the number on hover
    line = signups.locator(".block.line")
    await expect(line.locator("svg text.caption")).to_contain_text("活动报名（已确认）：逐日")
    await expect(line.locator("thead th").first).to_have_text("日期")
    await expect(line.locator("tbody tr")).to_have_count(7)
    await expect(line.locator("tbody tr").nth(5).locator("td").nth(1)).to_have_text("6")  # today
    await expect(line.locator("svg circle.dot title").nth(5)).to_have_text(f"{day_iso(0)[5:]}: 6")
    admitted = page.locator("section[data-figure=people_admitted]")
    await expect(admitted.locator(".block.bars tbody td").nth(1)).to_have_text("<5")  # two people
    await expect(admitted.locator(".block.line tbody tr").nth(5).locator("td").nth(1)).to_have_text("<5")
    wishes = page.locator("section[data-figure=wishes_posted]")
    await expect(wishes.locator(".block.bars tbody td").nth(0)).to_have_text("维修")  # words, not codes
    stations = page.locator("section.stations")
    await expect(stations.locator("tbody tr")).to_have_count(1)
    station = stations.locator("tbody tr").first
    community = await station.locator("th").text_content()
    assert community and community.startswith("仪表社区")
    await expect(station.locator("td").first).to_contain_text("6")
    await expect(station.locator("td svg.spark title").first).to_contain_text(f"{day_iso(0)[5:]} 6")
    await staff.screenshot("dashboard-street")

    # In English the same charts, in words (then back to Chinese for the rest)
    await page.get_by_role("button", name="English").click()
    await expect(line.locator("svg text.caption")).to_contain_text("Sign-ups confirmed: day by day")
    await expect(line.locator("thead th").first).to_have_text("Day")
    await expect(stations.locator("h3")).to_have_text("Communities (stations) at a glance")
    await page.get_by_role("button", name="中文").click()
    await expect(line.locator("svg text.caption")).to_contain_text("活动报名（已确认）：逐日")

    # The quick picks a meeting asks for set the dates and show them: last year is empty.
    await page.get_by_role("button", name="去年").click()
    last_year = day(0).year - 1
    await expect(page.get_by_label("开始日期")).to_have_value(f"{last_year}-01-01")
    await expect(page.get_by_label("结束日期")).to_have_value(f"{last_year}-12-31")
    await expect(page.get_by_text("这段时间没有记录。")).to_be_visible()
    await page.get_by_role("button", name="本月").click()
    await expect(page.get_by_label("开始日期")).to_have_value(day(0).replace(day=1).isoformat())
    await expect(bars.locator("tbody td").nth(1)).to_have_text("6")

    # Half a year and more: a point a month; the line's table now lists months.
    await shows_period(page, -200, 1)
    await expect(line.locator("svg text.caption")).to_contain_text("活动报名（已确认）：逐月")
    await expect(line.locator("thead th").first).to_have_text("月份")
    months = (day(1).year - day(-200).year) * 12 + day(1).month - day(-200).month + 1
    await expect(line.locator("tbody tr")).to_have_count(months)
    await expect(line.locator("tbody tr").last.locator("td").first).to_have_text(day_iso(1)[:7])
    assert re.search(r"since=\d{4}-\d\d-\d\d", page.url)  # the period is in the address: a link to share

    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="下载CSV").click()
    download = await downloading.value
    assert download.suggested_filename == f"dashboard-{day_iso(-200)}-{day_iso(1)}.csv"
    csv = await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8-sig")
    assert f'"活动报名（已确认）","{community}","{TITLE}","","6"' in csv  # a row
    assert f'"活动报名（已确认）","全部","","{day_iso(-200)}","0"' in csv  # a line, step by step
    assert f'"到场人数","{community}","",' in csv and '"<5"' in csv

    await presses_print(page, "打印")
    await page.screenshot(path=_shot("dashboard-street-print-1280.png"), full_page=True)
    paper = await printed(page)
    first = paper.pages[0]
    assert (round(float(first.mediabox.width)), round(float(first.mediabox.height))) == A4_LANDSCAPE_PT
    pages = [re.sub(r"\s+", "", p.extract_text()) for p in paper.pages]  # pdf text spaces CJK from digits
    text = "".join(pages)
    assert "活动报名（已确认）" in text and TITLE in text and community in text
    assert f"{day_iso(-200)}至{day_iso(1)}" in text  # the title says the scope and the period
    assert "开始日期" not in text  # the form stays off paper
    charts = await page.locator("svg text.caption").count()
    assert charts >= 2 * 6  # bars and a line for each of the six figures at least
    for n in range(1, charts + 1):  # each chart's caption and its foot on one page: not split
        on = [i for i, words in enumerate(pages) if f"图{n}：" in words]
        assert on and f"（图{n}）" in pages[on[0]], (n, on)

    # On a phone: the charts stack over their tables, and a tap shows a bar's exact number.
    phone_context = await browser.new_context(
        viewport=PHONE,
        has_touch=True,
        is_mobile=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        storage_state=await staff.context.storage_state(),
    )
    try:
        phone = Person(phone_context, await phone_context.new_page(), staff.base_url)
        period = f"since={day_iso(-5)}&until={day_iso(1)}"
        small = await phone.open(f"/dashboard?scope=STREET:{made.street}&{period}")
        signups = small.locator("section[data-figure=signups_confirmed]")
        await expect(signups.locator(".block.line tbody tr")).to_have_count(7)
        width = await small.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]  # nothing wider than the phone but the stations' own scroller
        await small.screenshot(path=_shot("dashboard-street-360.png"), full_page=True)
        await signups.locator(".block.bars").scroll_into_view_if_needed()
        await signups.locator("svg rect.bar").tap()
        await expect(small.locator("#tip")).to_have_text(f"{TITLE}: 6")
        await small.screenshot(path=_shot("dashboard-street-tap-360.png"), full_page=False)
        assert not phone.console_errors, phone.console_errors
    finally:
        await phone_context.close()


async def test_a_count_hidden_beside_a_small_one_reads_hidden_on_screen_and_in_the_csv(
    person: Any, gql: GraphQLClient, settings: Settings
) -> None:
    street, _few, _many = await three_beside_ten(gql, settings, lecture=12)
    username, password = f"street-{secrets.token_hex(3)}", f"Pw-{secrets.token_hex(8)}"
    await gql.ok(STREET_STAFF, {"s": street, "u": username, "p": password}, platform(settings))
    period = {"scope": "STREET", "id": street, "since": day_iso(-1), "until": day_iso(1)}
    lines = """query($scope: DashboardScope!, $id: String, $since: Date!, $until: Date!) {
      dashboard(scope: $scope, id: $id, since: $since, until: $until) {
        series { lines { communityId total } } } }"""

    async def counted() -> bool:  # all 25 sign-ups have reached the dashboard
        found = (await gql.ok(lines, period, platform(settings)))["dashboard"]["series"]["lines"]
        return {"communityId": None, "total": "25"} in found

    assert await eventually(counted)
    staff: Person = await person(LAPTOP)
    await staff_logs_in(staff, username, password)
    await expect(staff.page.get_by_role("button", name="退出", exact=True)).to_be_visible()
    page = await staff.open(f"/dashboard?scope=STREET:{street}&since={day_iso(-1)}&until={day_iso(1)}")
    signups = page.locator("section[data-figure=signups_confirmed]")
    # the first community's 12 at the lecture beside its 3 and its total of 15 is hidden, so the
    # lecture's bar (12, all of it the first community's) is too, and then the other bar (13)
    bars = signups.locator(".block.bars")
    await expect(bars.locator("tbody tr")).to_have_count(2)
    await expect(bars.locator("tbody td.n")).to_have_text(["—", "—"])
    await expect(bars.locator("svg rect.bar.hidden")).to_have_count(2)  # an empty outline: no size
    await expect(bars.locator("svg rect.bar.hidden title").first).to_contain_text("—（为保护隐私不显示）")
    await expect(bars.locator(".hidden-note")).to_contain_text("为保护隐私不显示")
    stations = page.locator("section.stations")
    # each community's total (15, 10) is hidden beside the street's 25: either gives the other
    for name in ("小社区", "大社区"):
        await expect(stations.locator("tbody tr").filter(has_text=name).locator("td").first).to_contain_text(
            "—"
        )
    ten = stations.locator("tbody tr").filter(has_text="大社区").locator("td").first
    await expect(ten.locator("svg.spark title")).to_contain_text("—")
    await expect(stations.locator(".hidden-note")).to_contain_text("为保护隐私不显示")

    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="下载CSV").click()
    csv = await asyncio.to_thread(
        Path(await (await downloading.value).path()).read_text, encoding="utf-8-sig"
    )
    assert '"数值","说明"' in csv.splitlines()[0]
    assert '"活动报名（已确认）",' in csv and f'"{THREE_AND_TEN}","","<5","少于5"' in csv
    assert f'"{THREE_AND_TEN}","","—","为保护隐私不显示"' in csv  # the ten's row, hidden as on screen
    signups_csv = [line for line in csv.splitlines() if line.startswith('"活动报名（已确认）"')]
    assert not [line for line in signups_csv if re.search(r'"(3|10|12|15)",', line)], signups_csv
    assert not staff.console_errors, staff.console_errors
