"""A resident says where she lives by her community's name, on her phone, from an empty browser:
she types two characters, taps 朔方社区 among the matches grouped by street, and makes a wish.
A station's QR poster fills her community in. No id is typed or shown anywhere."""

from __future__ import annotations

import secrets
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import segno
from playwright.async_api import Page, expect

from services.common.actor import PLATFORM_ADMIN
from services.common.settings import Settings
from services.identity.service import Identity
from tests.browser.conftest import Person
from tests.conftest import COMMUNITY, GraphQLClient, token_for
from tests.identity_steps import staff_account

ADD_GRID = """
mutation($c: String!, $n: String!, $b: [String!]!) {
  addGrid(communityId: $c, name: $n, buildings: $b) { id }
}
"""
ADD_STATION = """
mutation($c: String!, $n: String!, $a: String!) { addStation(communityId: $c, name: $n, address: $a) { id } }
"""


async def no_ids_shown(page: Page) -> None:
    await expect(page.locator("body")).not_to_contain_text("lingwu")


async def test_a_resident_picks_her_community_by_name_and_makes_a_wish(
    person: Any, pool: Any, gql: GraphQLClient, settings: Settings
) -> None:
    tag = uuid.uuid4().hex[:6]
    platform = token_for(settings, "platform-grid", {PLATFORM_ADMIN}, set())
    await gql.ok(ADD_GRID, {"c": COMMUNITY, "n": f"网格{tag}", "b": [f"{tag}栋"]}, platform)
    resident = await person()
    page = await resident.open("/")
    await resident.logs_in_by_phone(pool)
    await page.get_by_role("tab", name="我的", exact=True).click()
    profile = page.locator("#profile-form")
    await profile.get_by_label("姓名").fill("赵淑兰")
    community = profile.get_by_label("所在社区")
    await expect(profile).to_contain_text("输入社区名称中的一两个字")

    await community.press_sequentially("朔方")
    street = profile.locator(".picker-street", has_text="城区街道")
    await expect(street.get_by_role("heading")).to_have_text("灵武市 城区街道")
    choice = street.get_by_role("button", name="朔方社区", exact=True)
    await expect(choice).to_be_visible()
    box = await choice.bounding_box()
    assert box is not None and box["height"] >= 44  # a finger's target
    await resident.screenshot("profile-community-picker")
    await choice.click()
    await expect(community).to_have_value("朔方社区")
    await expect(profile).to_contain_text("已选择：朔方社区（城区街道）")
    await expect(profile.locator(".picker-choice")).to_have_count(0)
    # Her community's buildings (from its grids) are offered as she types hers.
    await expect(profile.locator(f'#profile-building-suggestions option[value="{tag}栋"]')).to_have_count(1)
    await profile.get_by_label("楼栋").fill("3号楼")
    await profile.get_by_label("单元/门牌").fill("1单元301")
    await profile.get_by_role("button", name="保存资料").click()
    await expect(profile.get_by_role("status")).to_have_text("已保存")
    await expect(page.locator("#hello")).to_have_text("您好，赵淑兰 · 朔方社区")
    await no_ids_shown(page)
    await resident.screenshot("profile-community-chosen")

    # With her community known, the wish form opens: the existing wish flow, unchanged.
    await page.get_by_role("tab", name="心愿").click()
    form = page.locator("#wish-form")
    await expect(form.get_by_label("楼栋")).to_have_value("3号楼")
    await form.get_by_label("心愿类别").select_option("REPAIR")
    await form.get_by_label("心愿内容").fill(f"楼道灯坏了，想请人帮忙换一下（{tag}）")
    await form.get_by_role("button", name="提交心愿").click()
    await expect(form.get_by_role("status")).to_contain_text("心愿已提交")
    await expect(page.locator(".wish", has_text=tag)).to_contain_text("待社区审核")
    await no_ids_shown(page)
    await resident.screenshot("profile-community-wish")

    # After a reload the page still shows her community by name.
    await page.reload()
    await page.get_by_role("tab", name="我的", exact=True).click()
    await expect(community).to_have_value("朔方社区")


async def test_a_name_that_matches_no_community_says_what_to_do(person: Any, pool: Any) -> None:
    resident = await person()
    page = await resident.open("/")
    await resident.logs_in_by_phone(pool)
    await page.get_by_role("tab", name="我的", exact=True).click()
    profile = page.locator("#profile-form")
    await profile.get_by_label("姓名").fill("马文学")
    await profile.get_by_label("所在社区").press_sequentially("火星")
    await expect(profile).to_contain_text("没有找到这个社区")
    await profile.get_by_label("楼栋").fill("5号楼")
    await profile.get_by_label("单元/门牌").fill("2单元")
    await profile.get_by_role("button", name="保存资料").click()
    await expect(profile.get_by_role("alert")).to_contain_text("找不到该社区，请输入社区名称中的字")
    await expect(profile.get_by_role("alert")).not_to_contain_text("编号")


async def test_a_stations_qr_poster_fills_in_the_community(
    person: Any, pool: Any, gql: GraphQLClient, settings: Settings
) -> None:
    admin = token_for(settings, "platform-poster", {PLATFORM_ADMIN}, set())
    name = f"朔方社区邻里驿家{secrets.token_hex(2)}"
    station = await gql.ok(ADD_STATION, {"c": COMMUNITY, "n": name, "a": "灵武市朔方路12号"}, admin)

    resident = await person()
    page = await resident.open(f"/?station={station['addStation']['id']}")
    await resident.logs_in_by_phone(pool)
    await page.get_by_role("tab", name="我的", exact=True).click()
    profile = page.locator("#profile-form")
    await expect(profile.get_by_label("所在社区")).to_have_value("朔方社区")
    await expect(profile).to_contain_text(f"已按「{name}」的二维码填好社区")
    await profile.get_by_label("姓名").fill("李桂芳")
    await profile.get_by_label("楼栋").fill("8号楼")
    await profile.get_by_label("单元/门牌").fill("3单元")
    await profile.get_by_role("button", name="保存资料").click()
    await expect(profile.get_by_role("status")).to_have_text("已保存")
    await expect(page.locator("#hello")).to_have_text("您好，李桂芳 · 朔方社区")


async def test_a_community_admin_keeps_the_desk_phone_and_stations_in_the_console(
    person: Any, pool: Any, redis: Any, settings: Settings, gql: GraphQLClient
) -> None:
    identity = Identity(pool, redis, settings)
    grid = f"朔方小区网格{secrets.token_hex(2)}"
    platform = token_for(settings, "platform-grid", {PLATFORM_ADMIN}, set())
    await gql.ok(ADD_GRID, {"c": COMMUNITY, "n": grid, "b": ["1号楼", "2号楼"]}, platform)
    username, password = await staff_account(identity, "community_admin", COMMUNITY)
    admin = await person()
    page = await admin.open("/console")
    await admin.logs_in_as_staff(username, password)
    await expect(page.locator("#hello")).to_contain_text("朔方社区")
    card = page.locator("#directory-card")
    await expect(card).to_contain_text("所属街道：灵武市 城区街道")
    await expect(card.locator("li", has_text=grid)).to_contain_text("1号楼、2号楼")

    await card.get_by_label("社区电话（座机或手机）").fill("0951-4012345")
    await card.get_by_role("button", name="保存电话").click()
    await expect(card.get_by_role("status")).to_have_text("社区电话已保存。")
    await expect(card.get_by_role("link", name="0951-4012345")).to_have_attribute("href", "tel:0951-4012345")
    station = f"朔方社区邻里驿家{secrets.token_hex(2)}"
    await card.get_by_label("驿站名称").fill(station)
    await card.get_by_label("驿站地址").fill("灵武市朔方路12号")
    await card.get_by_role("button", name="添加驿站").click()
    await expect(card.get_by_role("status")).to_have_text(f"已添加驿站「{station}」。")
    await expect(card.locator("li", has_text=station)).to_contain_text("灵武市朔方路12号")
    await admin.screenshot("console-community-card")

    # Its poster, to print and hang up: the QR code links to the residents' page for this station.
    async with page.expect_popup() as opened:
        await card.locator("li", has_text=station).get_by_role("link", name="打印居民扫码海报").click()
    poster = await opened.value
    sheet = poster.locator("#poster")
    await expect(sheet).to_contain_text("朔方社区")
    await expect(sheet).to_contain_text(station)
    await expect(sheet).to_contain_text("灵武市朔方路12号")
    await expect(sheet).to_contain_text("社区电话：0951-4012345")
    station_id = parse_qs(urlparse(poster.url).query)["station"][0]
    link = f"{admin.base_url}/?{urlencode({'station': station_id})}"
    expected = segno.make_qr(link, error="m").png_data_uri(scale=8, border=4)
    await expect(sheet.get_by_role("img", name=f"{station}的二维码")).to_have_attribute("src", expected)
    await expect(poster.locator("body")).not_to_contain_text(station_id)
    served = await poster.request.get(poster.url)
    assert "unsafe-inline" not in served.headers["content-security-policy"]
    poster_taker = Person(admin.context, poster, admin.base_url)
    await poster_taker.screenshot("station-poster")
    await card.get_by_label("社区电话（座机或手机）").fill("打电话")
    await card.get_by_role("button", name="保存电话").click()
    await expect(card.get_by_role("alert")).to_contain_text("请输入正确的电话号码")
    await card.get_by_label("社区电话（座机或手机）").fill("")
    await no_ids_shown(page)

    # An organiser of the community reads the card but records nothing in it.
    username, password = await staff_account(identity, "organiser", COMMUNITY)
    organiser = await person()
    page = await organiser.open("/console")
    await organiser.logs_in_as_staff(username, password)
    card = page.locator("#directory-card")
    await expect(card.locator("li", has_text=station)).to_be_visible()
    await expect(card).to_contain_text("社区电话和驿站由社区管理员登记。")
    await expect(card.get_by_role("button", name="添加驿站")).to_be_hidden()
