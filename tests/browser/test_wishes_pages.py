"""微心愿 in real browsers: an elderly resident's wish goes from her phone through the organisers'
review to the wish wall, a party member meets it, and she confirms it — each on their own page."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.async_api import Page, expect

from services.common.settings import Settings
from services.identity.service import Identity
from tests.browser.conftest import LAPTOP, Person
from tests.conftest import COMMUNITY, GraphQLClient
from tests.dates import day_iso
from tests.identity_steps import staff_account
from tests.party_steps import approve_party_member

UPDATE_PROFILE = """
mutation($c: String!) {
  updateMyProfile(communityId: $c, building: "7号楼", unit: "2单元", name: "刘建华") { id }
}
"""
REGISTER = """
mutation($input: RegisterPartyMemberInput!) { registerPartyMember(input: $input) { workUnit } }
"""


async def call(page: Page, base_url: str, query: str, variables: dict[str, Any] | None = None) -> None:
    """A GraphQL call with the person's own cookies, for set-up their page does not offer."""
    answer = await page.request.post(
        base_url + "/graphql", data={"query": query, "variables": variables or {}}
    )
    body = await answer.json()
    assert not body.get("errors"), body


async def party_member_reports_to_the_community(
    volunteer: Person, gql: GraphQLClient, settings: Settings
) -> None:
    """She lives in the community (her profile) and reported there as a party member (双报到),
    which the community approved (the console's review: test_party_member_pages.py)."""
    page, url = volunteer.page, volunteer.base_url
    await call(page, url, UPDATE_PROFILE, {"c": COMMUNITY})
    await call(page, url, "mutation { refreshToken { expiresInS } }")  # the token names the community
    member = {
        "communityId": COMMUNITY,
        "name": "刘建华",
        "workUnit": "市税务局",
        "partyBranch": "第一党支部",
        "reportedOn": day_iso(-30),
    }
    await call(page, url, REGISTER, {"input": member})
    me = await (await page.request.post(url + "/graphql", data={"query": "{ me { id } }"})).json()
    await approve_party_member(gql, settings, COMMUNITY, me["data"]["me"]["id"])


async def resident_fills_in_her_community(resident: Person) -> None:
    page = resident.page
    await page.get_by_role("tab", name="我的", exact=True).click()
    profile = page.locator("#profile-form")
    await profile.get_by_label("姓名").fill("赵淑兰")
    await profile.get_by_label("所在社区").press_sequentially("朔方")  # by name: she never sees an id
    await profile.get_by_role("button", name="朔方社区", exact=True).click()
    await profile.get_by_label("楼栋").fill("3号楼")
    await profile.get_by_label("单元/门牌").fill("1单元301")
    await profile.get_by_role("button", name="保存资料").click()
    await expect(profile.get_by_role("status")).to_have_text("已保存")


async def test_a_wish_goes_from_a_residents_phone_to_the_wall_and_back_as_met(
    person: Any, pool: Any, redis: Any, settings: Settings, gql: GraphQLClient
) -> None:
    tag = f"{uuid.uuid4().hex[:6]}"  # other stories leave wishes about wheelchairs in the community
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
    await form.get_by_label("心愿内容").fill(f"轮椅坏了，想请人帮忙修一修（{tag}），电话13912345678")
    await form.get_by_role("button", name="提交心愿").click()
    await expect(form.get_by_role("status")).to_contain_text("心愿已提交")
    wish = page.locator(".wish", has_text=tag)
    await expect(wish).to_contain_text("待社区审核")
    await expect(wish).to_contain_text("维修")
    await resident.screenshot("wishes-resident-posted")

    # The organiser reviews it in the console's queue and puts it on the wall.
    username, password = await staff_account(Identity(pool, redis, settings), "organiser", COMMUNITY)
    organiser = await person(LAPTOP)
    console = await organiser.open("/console")
    await organiser.logs_in_as_staff(username, password)
    queue = console.locator("#wish-review")
    await expect(queue.get_by_label("社区")).to_have_value(COMMUNITY)
    queued = queue.locator(".wish", has_text=tag)
    await expect(queued).to_contain_text("待审核")
    await expect(queued).to_contain_text("139****5678")  # the phone number is masked for staff too
    await organiser.screenshot("wishes-console-review")
    await queued.get_by_role("button", name="不通过").click()
    await queued.get_by_role("button", name="确认不通过").click()
    await expect(queued.get_by_role("alert")).to_have_text("请填写不通过的原因（1到200个字）。")
    await queued.get_by_role("button", name="返回").click()
    await queued.get_by_role("button", name="通过", exact=True).click()
    await expect(queue.get_by_role("status")).to_have_text("已通过审核，可以发布到心愿墙。")
    await expect(queued).to_contain_text("已通过，待发布")
    await queued.get_by_role("button", name="发布到心愿墙").click()
    await expect(queue.get_by_role("status")).to_have_text("已发布到心愿墙。")
    await expect(queued).to_have_count(0)

    await page.get_by_role("tab", name="心愿").click()
    await expect(wish).to_contain_text("已发布到心愿墙，等待认领")

    # A party member finds it on the wall (no name, masked phone), claims, starts and finishes it.
    volunteer = await person()
    wall_page = await volunteer.open("/scan")  # where volunteers already go for their shifts
    await volunteer.logs_in_by_phone(pool)
    await wall_page.get_by_role("link", name="心愿墙：认领居民的微心愿").click()
    await expect(wall_page).to_have_url(volunteer.base_url + "/wishes")
    await expect(wall_page.get_by_text("填写所在社区后")).to_be_visible()
    await party_member_reports_to_the_community(volunteer, gql, settings)
    await wall_page.reload()
    on_wall = wall_page.locator("#wall .wish", has_text=tag)
    await expect(on_wall).to_contain_text("等待认领")
    await expect(on_wall).to_contain_text("3号楼")
    await expect(on_wall).to_contain_text("139****5678")
    await expect(on_wall).not_to_contain_text("赵淑兰")
    await expect(on_wall).not_to_contain_text("13912345678")
    await volunteer.screenshot("wishes-wall")
    await on_wall.get_by_role("button", name="认领").click()
    await on_wall.get_by_label("认领身份").select_option("PARTY_MEMBER")
    await expect(on_wall).to_contain_text("计入您双报到时登记的工作单位")
    await volunteer.screenshot("wishes-wall-claim")
    await on_wall.get_by_role("button", name="确认认领").click()
    await expect(wall_page.get_by_role("status")).to_contain_text("认领成功！请在")
    await expect(wall_page.get_by_role("tab", name="我认领的心愿")).to_have_attribute("aria-selected", "true")
    held = wall_page.locator("#mine .wish", has_text=tag)
    await expect(held).to_contain_text("已认领")
    await expect(held).to_contain_text("前开始办理")
    await held.get_by_role("button", name="开始办理").click()
    await expect(wall_page.get_by_role("status")).to_have_text("已开始办理，认领不会再过期。")
    await expect(held).to_contain_text("已开始办理")
    await expect(held.get_by_role("button", name="开始办理")).to_have_count(0)
    await wall_page.reload()  # under way on any device: the API says when it was started
    await wall_page.get_by_role("tab", name="我认领的心愿").click()
    await expect(held).to_contain_text("已开始办理")
    await expect(held.get_by_role("button", name="开始办理")).to_have_count(0)
    await held.get_by_role("button", name="标记已办好").click()
    await expect(held.get_by_role("alert")).to_have_text("请写下办理说明（1到500个字）。")
    await held.get_by_label("办理说明").fill("已上门更换轮胎，轮椅可以正常使用")
    await held.get_by_role("button", name="标记已办好").click()
    await expect(wall_page.get_by_role("status")).to_contain_text("已标记办好")
    await expect(held).to_contain_text("已办好，等待居民确认")
    await expect(held).to_contain_text("办理说明：已上门更换轮胎")
    await volunteer.screenshot("wishes-mine")

    # Back on her phone the wish is done; she confirms it, and the party member sees it met.
    await page.get_by_role("tab", name="心愿").click()
    await expect(wish).to_contain_text("已办好，请您确认")
    await expect(wish).to_contain_text("办理说明：已上门更换轮胎")
    await resident.screenshot("wishes-resident-done")
    await wish.get_by_role("button", name="确认已实现").click()
    await expect(wish).to_contain_text("心愿已实现")
    await expect(wish).to_contain_text("谢谢您的确认")
    await expect(wish.get_by_role("button", name="确认已实现")).to_have_count(0)
    await resident.screenshot("wishes-resident-met")

    await wall_page.get_by_role("tab", name="我认领的心愿").click()
    await expect(held).to_contain_text("居民已确认实现")
    await wall_page.get_by_role("button", name="English").click()
    await expect(held).to_contain_text("Confirmed by the resident")
    await wall_page.get_by_role("tab", name="Wish wall").click()
    await expect(wall_page.locator("#wall .wish", has_text=tag)).to_contain_text("Wish come true")
    await volunteer.screenshot("wishes-wall-en")


async def test_the_wish_wall_is_served_with_the_pages_policy(person: Any) -> None:
    visitor = await person()
    answer = await visitor.page.goto(visitor.base_url + "/wishes")
    assert answer is not None and answer.status == 200
    policy = await answer.header_value("content-security-policy") or ""
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy
    await expect(visitor.page.get_by_role("heading", name="志愿者登录")).to_be_visible()
