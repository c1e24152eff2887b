"""微心愿 in real browsers: an elderly resident's wish goes from her phone through the organisers'
review to the wish wall, a party member meets it, and she confirms it — each on their own page."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from services.common.settings import Settings
from tests.browser.conftest import Person
from tests.conftest import COMMUNITY


async def resident_fills_in_her_community(resident: Person) -> None:
    page = resident.page
    await page.get_by_role("tab", name="我的", exact=True).click()
    profile = page.locator("#profile-form")
    await profile.get_by_label("姓名").fill("赵淑兰")
    await profile.get_by_label("所在社区").fill(COMMUNITY)
    await profile.get_by_label("楼栋").fill("3号楼")
    await profile.get_by_label("单元/门牌").fill("1单元301")
    await profile.get_by_role("button", name="保存资料").click()
    await expect(profile.get_by_role("status")).to_have_text("已保存")


async def test_a_wish_goes_from_a_residents_phone_to_the_wall_and_back_as_met(
    person: Any, pool: Any, redis: Any, settings: Settings
) -> None:
    resident = await person()
    page = await resident.open("/")
    await resident.logs_in_by_phone(pool)
    await page.get_by_role("tab", name="心愿").click()
    form = page.locator("#wish-form")
    # No community yet: the page says what to do first rather than letting the API refuse.
    await expect(form).to_contain_text("请先在「我的」里填写所在社区")
    await expect(form.get_by_role("button", name="提交心愿")).to_be_disabled()
    await resident_fills_in_her_community(resident)

    await page.get_by_role("tab", name="心愿").click()
    await expect(form.get_by_label("楼栋")).to_have_value("3号楼")  # from her profile
    await form.get_by_role("button", name="提交心愿").click()
    await expect(form.get_by_role("alert")).to_have_text("请写下您的心愿（1到200个字）。")
    await form.get_by_label("心愿类别").select_option("REPAIR")
    await form.get_by_label("心愿内容").fill("轮椅坏了，想请人帮忙修一修，电话13912345678")
    await form.get_by_role("button", name="提交心愿").click()
    await expect(form.get_by_role("status")).to_contain_text("心愿已提交")
    wish = page.locator(".wish", has_text="轮椅坏了")
    await expect(wish).to_contain_text("待社区审核")
    await expect(wish).to_contain_text("维修")
    await resident.screenshot("wishes-resident-posted")
