"""工作看板 in a real browser at 1280 px: a street's staff open their street's dashboard, change
the period, download the CSV and print it on A4 landscape for the joint meeting."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import unquote

from playwright.async_api import expect

from services.common.settings import Settings
from tests.browser.conftest import LAPTOP, SCREENSHOTS, Person
from tests.browser.test_council_pages import staff_logs_in
from tests.browser.test_door_pages import presses_print, printed
from tests.conftest import GraphQLClient
from tests.dashboard_steps import TITLE, street_with_work
from tests.dates import day_iso
from tests.test_directory import STREET_STAFF

A4_LANDSCAPE_PT = (842, 595)


def _print_shot() -> Any:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / "dashboard-street-print-1280.png"


async def test_a_streets_staff_change_the_period_and_print_their_dashboard(
    person: Any, pool: Any, gql: GraphQLClient, settings: Settings
) -> None:
    made = await street_with_work(gql, settings, pool)
    username, password = f"street-{secrets.token_hex(3)}", f"Pw-{secrets.token_hex(8)}"
    await gql.ok(STREET_STAFF, {"s": made.street, "u": username, "p": password}, made.admin)
    staff: Person = await person(LAPTOP)
    await staff_logs_in(staff, username, password)
    await expect(staff.page.get_by_role("button", name="退出", exact=True)).to_be_visible()

    page = await staff.open("/dashboard")
    await expect(page.get_by_label("范围")).to_have_value(f"STREET:{made.street}")
    await page.get_by_label("开始日期").fill(day_iso(-30))
    await page.get_by_label("结束日期").fill(day_iso(-2))
    await page.get_by_role("button", name="显示").click()
    await expect(page.get_by_text("这段时间没有记录。")).to_be_visible()

    await page.get_by_label("结束日期").fill(day_iso(1))
    await page.get_by_role("button", name="显示").click()
    signups = page.locator("section[data-figure=signups_confirmed]")
    await expect(signups.locator("tbody tr")).to_have_count(1)
    await expect(signups.locator("tbody td").nth(1)).to_have_text(TITLE)
    await expect(signups.locator("tbody td").nth(2)).to_have_text("6")
    admitted = page.locator("section[data-figure=people_admitted]")
    await expect(admitted.locator("tbody td").nth(2)).to_have_text("<5")  # two people: not told apart
    await expect(signups.locator("svg rect.bar title")).to_have_text(f"{TITLE}: 6")  # the number on hover
    wishes = page.locator("section[data-figure=wishes_posted]")
    await expect(wishes.locator("tbody td").nth(1)).to_have_text("维修")  # words, not codes

    csv = unquote(await page.get_by_role("link", name="下载CSV").get_attribute("href") or "")
    community = await signups.locator("tbody td").first.text_content()
    assert f'"活动报名（已确认）","{community}","{TITLE}","6"' in csv
    await staff.screenshot("dashboard-street")

    await presses_print(page, "打印")
    await page.screenshot(path=_print_shot(), full_page=True)
    paper = await printed(page)
    first = paper.pages[0]
    assert (round(float(first.mediabox.width)), round(float(first.mediabox.height))) == A4_LANDSCAPE_PT
    text = "".join(p.extract_text() for p in paper.pages)
    assert "活动报名（已确认）" in text and TITLE in text
    assert "开始日期" not in text  # the form stays off paper
