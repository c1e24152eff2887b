"""邻里议事会 in real browsers at 360 px: the water-pipe case. A resident raises it, the grid worker
sends it to the council, the organiser convenes a meeting inviting the property company and the
building's 楼栋长, the minutes record a 50/50 split (one that does not add up is refused), the
property company does the work, the resident rates it, and the public board shows it with no
personal data."""

from __future__ import annotations

import secrets
from typing import Any

from playwright.async_api import Page, expect

from services.common.actor import ORGANISER
from services.common.settings import Settings
from services.identity.service import Identity
from tests.browser.conftest import Person
from tests.conftest import COMMUNITY, GraphQLClient, token_for
from tests.council_steps import (
    SET_LEADER,
    VOLUNTEER_PROFILE,
    WATER_PIPE,
    property_company,
    resident_of,
    station,
)
from tests.dates import at_input, day_iso
from tests.identity_steps import identity, staff_account

__all__ = ["identity"]  # a fixture, used by name

UPDATE_PROFILE = """
mutation($c: String!, $n: String!) {
  updateMyProfile(communityId: $c, building: "3号楼", unit: "2单元", name: $n) { id }
}
"""


async def call(
    page: Page, base_url: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A GraphQL call with the person's own cookies, for set-up their page does not offer."""
    answer = await page.request.post(
        base_url + "/graphql", data={"query": query, "variables": variables or {}}
    )
    body: dict[str, Any] = await answer.json()
    assert not body.get("errors"), body
    return body


async def lives_in_building_3(person: Person, pool: Any, name: str) -> str:
    """She logs in on the council page and says where she lives; her id."""
    await person.open("/council")
    await person.logs_in_by_phone(pool)
    await expect(person.page.get_by_text("我反映的事")).to_be_visible()
    await call(person.page, person.base_url, UPDATE_PROFILE, {"c": COMMUNITY, "n": name})
    await call(person.page, person.base_url, "mutation { refreshToken { expiresInS } }")
    me = await call(person.page, person.base_url, "{ me { id } }")
    await person.page.reload()
    user_id: str = me["data"]["me"]["id"]
    return user_id


async def staff_logs_in(person: Person, username: str, password: str) -> None:
    await person.open("/council")
    await person.page.get_by_label("用户名", exact=True).fill(username)
    await person.page.get_by_label("密码", exact=True).fill(password)
    await person.page.get_by_role("button", name="工作人员登录").click()


async def test_the_water_pipe_case_at_360_px(
    person: Any, pool: Any, gql: GraphQLClient, settings: Settings, identity: Identity
) -> None:
    tag = secrets.token_hex(3)
    words = f"{WATER_PIPE}（{tag}）"
    organiser_token = token_for(settings, f"org-{tag}", {ORGANISER}, {COMMUNITY})

    # set-up the pages do not offer: the property company's manager is its member, the
    # building's 楼栋长 is in the directory, the community has a station
    resident: Person = await person()
    await lives_in_building_3(resident, pool, "赵淑兰")
    manager: Person = await person()
    manager_id = await lives_in_building_3(manager, pool, "钱经理")
    await call(
        manager.page,
        manager.base_url,
        VOLUNTEER_PROFILE,
        {"input": {"communityId": COMMUNITY, "availability": "工作日"}},
    )
    partner = await property_company(gql, organiser_token, None)
    await gql.ok(
        "mutation($input: AddPartnerMemberInput!) { addPartnerMember(input: $input) { id } }",
        {"input": {"organisationId": partner["id"], "volunteerId": manager_id}},
        organiser_token,
    )
    leader = await resident_of(gql, pool, "3号楼", "李国强")
    await gql.ok(SET_LEADER, {"c": COMMUNITY, "b": "3号楼", "p": leader["phone"]}, organiser_token)
    station_id = await station(gql, settings)
    station_name = (await gql.ok("query($id: ID!) { station(id: $id) { name } }", {"id": station_id}))[
        "station"
    ]["name"]

    # 听邻里说事: the resident raises it from her phone
    page = resident.page
    await expect(page.get_by_label("楼栋或地点")).to_have_value("3号楼")
    await page.get_by_label("遇到了什么问题").fill(words)
    await page.get_by_role("button", name="提交", exact=True).click()
    mine = page.locator("article.concern", has_text=words)
    await expect(mine.get_by_text("已收到，等待网格员处理")).to_be_visible()
    await resident.screenshot("council-resident-raised")

    # the grid worker sends it to the council
    grid_worker: Person = await person()
    await staff_logs_in(grid_worker, *await staff_account(identity, "grid_worker", COMMUNITY))
    card = grid_worker.page.locator("article.concern", has_text=words)
    await card.get_by_role("button", name="提交议事会").click()
    await expect(card).to_have_count(0)
    # and raises another for the 楼栋长, who gave his number at the desk
    await grid_worker.page.get_by_label("居民姓名").fill("李国强")
    await grid_worker.page.get_by_label("居民手机号").fill(leader["phone"])
    await grid_worker.page.get_by_label("楼栋或地点").fill("3号楼")
    await grid_worker.page.get_by_label("单元", exact=True).fill("2单元")
    await grid_worker.page.get_by_label("遇到了什么问题").fill(f"3号楼楼道堆放杂物（{tag}）")
    await grid_worker.page.get_by_role("button", name="提交", exact=True).click()
    await expect(grid_worker.page.get_by_text("已代居民反映3号楼的问题。")).to_be_visible()
    # its own card (other cards name it only in their 与哪件事重复 list)
    await expect(grid_worker.page.get_by_text(f"3号楼楼道堆放杂物（{tag}）", exact=True)).to_be_visible()
    await grid_worker.screenshot("council-grid-worker")

    # 邀邻里议事: the organiser convenes, inviting the property company and the 楼栋长
    organiser: Person = await person()
    await staff_logs_in(organiser, *await staff_account(identity, "organiser", COMMUNITY))
    page = organiser.page
    await page.get_by_role("tab", name="议事会").click()
    title = f"3号楼水管议事会{tag}"
    await page.get_by_label("议题").fill(title)
    await page.locator("label.check", has_text=words).locator("input").check()
    await page.get_by_label("时间").fill(at_input(2, "19:00"))
    await page.get_by_label("地点（驿站）").select_option(label=station_name)
    await page.locator("label.check", has_text=f"物业公司 · {partner['name']}").locator("input").check()
    await page.locator("label.check", has_text="楼栋长 · 3号楼 李国强").locator("input").check()
    await organiser.screenshot("council-convene")
    await page.get_by_role("button", name="发出邀请").click()
    await expect(page.get_by_text("议事会已召集，邀请已发出。")).to_be_visible()
    meeting = page.locator("article.meeting", has_text=title)
    await expect(meeting.get_by_text(f"物业公司 · {partner['name']}：未回复")).to_be_visible()

    # the property company's manager says he will come
    await manager.page.reload()
    invitation = manager.page.locator(".card", has_text=title)
    await invitation.get_by_role("button", name="能参加", exact=True).click()
    await expect(invitation.get_by_text("已回复：能参加")).to_be_visible()

    # the minutes: a split that does not add up is refused, then half and half
    await page.reload()
    await page.get_by_role("tab", name="议事会").click()
    meeting = page.locator("article.meeting", has_text=title)
    await expect(meeting.get_by_text(f"物业公司 · {partner['name']}：已回复：能参加")).to_be_visible()
    await meeting.get_by_label("会议纪要").fill("物业与居民代表商议水管支架的维修，费用双方各半。")
    await meeting.get_by_label("决定（做什么）").fill("物业更换3号楼水管支架")
    await meeting.get_by_label("由谁办理").select_option(label=f"物业公司 · {partner['name']}")
    await meeting.get_by_label("办理期限").fill(day_iso(7))
    await meeting.get_by_label("监督居民").fill("3号楼居民代表")
    await meeting.get_by_label("费用总额（元）").fill("1200")
    amounts = meeting.get_by_label("金额（元）")
    await amounts.nth(0).fill("600")
    await amounts.nth(1).fill("500")
    await meeting.get_by_role("button", name="保存纪要").click()
    await expect(meeting.get_by_text("与总额1200.00元不符")).to_be_visible()
    await organiser.screenshot("council-split-refused")
    await amounts.nth(1).fill("600")
    await meeting.get_by_role("button", name="保存纪要").click()
    await expect(page.get_by_text("纪要已保存，事项已交办。")).to_be_visible()
    meeting = page.locator("article.meeting", has_text=title)
    await expect(meeting.get_by_text(f"{partner['name']} 600.00元，居民 600.00元")).to_be_visible()
    await organiser.screenshot("council-minutes")

    # 帮邻里办事: the property company records progress and finishes
    await manager.page.reload()
    task = manager.page.locator(".task", has_text="物业更换3号楼水管支架").first
    await task.get_by_label("办理进展").fill("已采购新支架")
    await task.get_by_role("button", name="记录进展").click()
    task = manager.page.locator(".task", has_text="物业更换3号楼水管支架").first
    await expect(task.get_by_text("已采购新支架")).to_be_visible()
    await task.get_by_label("办理进展").fill("支架已更换，水管已固定")
    await task.get_by_role("button", name="标记已办结").click()
    await expect(
        manager.page.locator(".task", has_text="物业更换3号楼水管支架").first.get_by_text("已办结")
    ).to_be_visible()

    # 请邻里评事: the resident follows it in words and rates it
    page = resident.page
    await page.reload()
    mine = page.locator("article.concern", has_text=words)
    await expect(mine.get_by_text("已办结，请您评价")).to_be_visible()
    await mine.get_by_label("评分（1到5星）").select_option(label="5星")
    await mine.get_by_label("评价（可不填）").fill("修得很及时")
    await mine.get_by_role("button", name="提交评价").click()
    await expect(page.get_by_text("谢谢您的评价！")).to_be_visible()
    mine = page.locator("article.concern", has_text=words)
    await expect(mine.get_by_text("状态：已办结并获居民评价")).to_be_visible()
    await resident.screenshot("council-resident-rated")

    # 向邻里晒事: anyone reads the board; it names no resident
    visitor: Person = await person()
    await visitor.open(f"/board?c={COMMUNITY}")
    item = visitor.page.locator("article", has_text=words)
    await expect(item.get_by_text("3号楼 · 已办结并获居民评价")).to_be_visible()
    await expect(item.get_by_text(f"承办：{partner['name']}")).to_be_visible()
    await expect(item.get_by_text(f"{partner['name']}承担600.00元")).to_be_visible()
    await expect(item.get_by_text("1位居民评价，平均5星")).to_be_visible()
    text = await visitor.page.content()
    for personal in ("赵淑兰", "李国强", "钱经理", leader["phone"], manager_id):
        assert personal not in text
    await item.scroll_into_view_if_needed()
    await visitor.screenshot("council-board")
    for someone in (resident, grid_worker, organiser, manager, visitor):
        assert not someone.console_errors, someone.console_errors
