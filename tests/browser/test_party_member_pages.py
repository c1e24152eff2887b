"""双报到, a wish's contact that keeps the resident's number private, giving a wish back, and
withdrawing from a shift — in real browsers at 360 px, each person from an empty browser."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.async_api import Page, expect

from services.common.settings import Settings
from services.identity.service import Identity
from tests.browser.conftest import Person
from tests.conftest import COMMUNITY, GraphQLClient
from tests.dates import at_input, at_iso, minutes_from_now
from tests.door_steps import desk_phone_listed
from tests.identity_steps import staff_account
from tests.party_steps import shift_starting

PROFILE = """
mutation($c: String!, $b: String!, $u: String!, $n: String!) {
  updateMyProfile(communityId: $c, building: $b, unit: $u, name: $n) { id }
}
"""
TO_REVIEW = """query($c: String!, $limit: Int! = 200, $after: ID) {
  wishesToReview(communityId: $c, limit: $limit, after: $after) { id description } }"""
REVIEW_WISH = "mutation($input: ReviewWishInput!) { reviewWish(input: $input) { id } }"
PUBLISH = "mutation($id: ID!) { publishWish(wishId: $id) { id } }"


async def call(page: Page, base_url: str, query: str, variables: dict[str, Any] | None = None) -> None:
    """A GraphQL call with the person's own cookies, for set-up their page does not offer here
    (choosing a community by name belongs to the community picker's story)."""
    answer = await page.request.post(
        base_url + "/graphql", data={"query": query, "variables": variables or {}}
    )
    body = await answer.json()
    assert not body.get("errors"), body


async def lives_in_the_community(
    someone: Person, name: str, building: str = "7号楼", unit: str = "2单元"
) -> None:
    page = someone.page
    await expect(page.get_by_role("button", name="退出")).to_be_visible()  # logged in
    await call(page, someone.base_url, PROFILE, {"c": COMMUNITY, "b": building, "u": unit, "n": name})
    await call(page, someone.base_url, "mutation { refreshToken { expiresInS } }")  # the token names it
    await page.reload()


async def test_a_party_member_registers_is_approved_reaches_the_resident_and_gives_a_wish_back(
    person: Any, pool: Any, redis: Any, settings: Settings, gql: GraphQLClient, organiser_token: str
) -> None:
    tag = uuid.uuid4().hex[:6]
    desk_phone = await desk_phone_listed(gql, settings)

    # The resident posts a wish from her phone; the community puts it on the wall.
    resident = await person()
    home = await resident.open("/")
    her_phone = await resident.logs_in_by_phone(pool)
    await lives_in_the_community(resident, "赵淑兰", "3号楼", "1单元301")
    await home.get_by_role("tab", name="心愿").click()
    form = home.locator("#wish-form")
    await form.get_by_label("心愿类别").select_option("REPAIR")
    await form.get_by_label("心愿内容").fill(f"厨房灯坏了，想请人换一下（{tag}）")
    await form.get_by_role("button", name="提交心愿").click()
    await expect(form.get_by_role("status")).to_contain_text("心愿已提交")
    queued = await gql.every(TO_REVIEW, {"c": COMMUNITY}, organiser_token)
    wish_id = next(w["id"] for w in queued if tag in w["description"])
    await gql.ok(REVIEW_WISH, {"input": {"wishId": wish_id, "review": "APPROVE"}}, organiser_token)
    await gql.ok(PUBLISH, {"id": wish_id}, organiser_token)

    # A party member finds the wall; claiming as one before registering says what to do.
    member = await person()
    wall = await member.open("/wishes")
    await member.logs_in_by_phone(pool)
    await lives_in_the_community(member, "刘建华")
    party = wall.locator("#party")
    await expect(party).to_contain_text("您还没有登记双报到")
    on_wall = wall.locator("#wall .wish", has_text=tag)
    await on_wall.get_by_role("button", name="认领").click()
    await on_wall.get_by_label("认领身份").select_option("PARTY_MEMBER")
    await on_wall.get_by_role("button", name="确认认领").click()
    await expect(on_wall.get_by_role("alert")).to_have_text(
        "您还没有在社区登记双报到，请先登记，或联系社区工作人员"
    )
    await member.screenshot("party-claim-refused")

    await party.get_by_role("button", name="登记双报到").click()
    await party.get_by_role("button", name="提交登记").click()
    await expect(party.get_by_role("alert")).to_have_text("请填写姓名、工作单位和所在党支部。")
    await party.get_by_label("姓名").fill("刘建华")
    await party.get_by_label("工作单位").fill("市税务局")
    await party.get_by_label("所在党支部").fill("机关第一党支部")
    await member.screenshot("party-register")
    await party.get_by_role("button", name="提交登记").click()
    await expect(party.get_by_role("status")).to_have_text("已提交，等待社区审核。")
    await expect(party).to_contain_text("待社区审核")
    await on_wall.get_by_role("button", name="确认认领").click()
    await expect(on_wall.get_by_role("alert")).to_contain_text("您的双报到登记正在等待社区审核")
    await member.screenshot("party-pending")

    # The community's organiser reviews it in the console: the branch is not written in full.
    username, password = await staff_account(Identity(pool, redis, settings), "organiser", COMMUNITY)
    organiser = await person()
    console = await organiser.open("/console")
    await organiser.logs_in_as_staff(username, password)
    review = console.locator("#party-review")
    waiting = review.locator(".party-member", has_text="刘建华").filter(has_text="机关第一党支部")
    await expect(waiting).to_contain_text("市税务局")
    await organiser.screenshot("console-party-review")
    await waiting.get_by_role("button", name="不通过").click()
    await waiting.get_by_role("button", name="确认不通过").click()
    await expect(waiting.get_by_role("alert")).to_have_text("请填写不通过的原因（1到200个字）。")
    await waiting.get_by_label("不通过的原因").fill("请写党支部全称")
    await waiting.get_by_role("button", name="确认不通过").click()
    await expect(review.get_by_role("status")).to_have_text("已告知刘建华未通过的原因。")
    await expect(waiting).to_have_count(0)

    # He reads why, corrects it and sends it again; this time the organiser approves it.
    await wall.reload()
    await expect(party).to_contain_text("未通过")
    await expect(party).to_contain_text(
        "未通过的原因：请写党支部全称。请修改后重新登记，或联系社区工作人员。"
    )
    await member.screenshot("party-declined")
    await party.get_by_role("button", name="修改登记").click()
    await party.get_by_label("所在党支部").fill("市税务局机关第一党支部")
    await party.get_by_role("button", name="提交登记").click()
    await expect(party).to_contain_text("待社区审核")
    await review.get_by_role("button", name="刷新").click()
    waiting = review.locator(".party-member", has_text="市税务局机关第一党支部")
    await waiting.get_by_role("button", name="通过", exact=True).click()
    await expect(review.get_by_role("status")).to_have_text("已通过刘建华的双报到登记。")
    await expect(waiting).to_have_count(0)

    # Approved: he claims the wish as a party member, saying when he will come.
    await wall.reload()
    await expect(party).to_contain_text("已通过")
    await expect(party).to_contain_text("报到社区：朔方社区")  # by its name
    await on_wall.get_by_role("button", name="认领").click()
    await on_wall.get_by_label("认领身份").select_option("PARTY_MEMBER")
    await on_wall.get_by_label("计划上门时间").fill(at_input(2, "15:00"))
    await on_wall.get_by_role("button", name="确认认领").click()
    await expect(wall.get_by_role("status")).to_contain_text("认领成功！")
    held = wall.locator("#mine .wish", has_text=tag)
    await expect(held).to_contain_text("地址：3号楼 1单元301")
    await expect(held).to_contain_text("居民：赵**")
    await expect(held).to_contain_text(f"电话：{her_phone[:3]}****{her_phone[-4:]}")
    # Whom to call instead of her: the community's desk, a tap away.
    await expect(held).to_contain_text(f"可联系朔方社区服务台：{desk_phone}")
    await expect(held.get_by_role("link", name=desk_phone)).to_have_attribute(
        "href", "tel:" + desk_phone.replace("-", "")
    )
    await expect(held).to_contain_text("计划上门")
    assert her_phone not in await wall.content()
    await member.screenshot("party-wish-contact")

    # He asks the community to pass a message on; the desk sees it with her number and ticks it off.
    await held.get_by_role("button", name="请社区转告/回电").click()
    await held.get_by_label("想请社区转告的话").fill("周四下午上门换灯，请在家等候")
    await held.get_by_role("button", name="发送请求").click()
    await expect(held).to_contain_text("已请社区转告")
    assert her_phone not in await wall.content()
    await console.reload()
    request = console.locator("#call-backs .call-back", has_text="周四下午上门换灯")
    await expect(request).to_contain_text(her_phone)
    await expect(request).to_contain_text("认领人：刘建华（市税务局）")
    await request.scroll_into_view_if_needed()
    await organiser.screenshot("console-wish-call-back")
    await request.get_by_role("button", name="已转告").click()
    await expect(request).to_contain_text("已转告")
    await expect(request.get_by_role("button", name="已转告")).to_have_count(0)

    # On her phone: who took it on, and when he plans to come.
    await home.reload()
    await home.get_by_role("tab", name="心愿").click()
    hers = home.locator(".wish", has_text=tag)
    await expect(hers).to_contain_text("认领人：刘建华（市税务局）")
    await expect(hers).to_contain_text("计划上门")
    await resident.screenshot("resident-wish-claimant")

    # He cannot come after all: he gives it back with a reason, and it is back on the wall.
    await held.get_by_role("button", name="退回心愿").click()
    await held.get_by_role("button", name="确认退回").click()
    await expect(held.get_by_role("alert")).to_have_text("请写下退回原因（1到200个字）。")
    await held.get_by_label("退回原因").fill("临时出差，这周去不了")
    await member.screenshot("party-wish-give-back")
    await held.get_by_role("button", name="确认退回").click()
    await expect(wall.get_by_role("status")).to_have_text("心愿已退回心愿墙，居民会收到通知。谢谢您告知！")
    await expect(held).to_have_count(0)
    await wall.get_by_role("tab", name="心愿墙").click()
    await expect(on_wall).to_contain_text("等待认领")
    await member.screenshot("party-wish-given-back")

    # Another volunteer takes it on and meets it; she confirms.
    helper = await person()
    other_wall = await helper.open("/wishes")
    await helper.logs_in_by_phone(pool)
    await lives_in_the_community(helper, "马晓东")
    again = other_wall.locator("#wall .wish", has_text=tag)
    await again.get_by_role("button", name="认领").click()
    await again.get_by_label("认领身份").select_option("VOLUNTEER")
    await again.get_by_role("button", name="确认认领").click()
    done = other_wall.locator("#mine .wish", has_text=tag)
    await expect(done).to_contain_text("地址：3号楼 1单元301")
    await done.get_by_label("办理说明").fill("已上门换好灯泡")
    await done.get_by_role("button", name="标记已办好").click()
    await expect(done).to_contain_text("已办好，等待居民确认")
    await expect(done).not_to_contain_text("null")  # a done wish's card has no empty parts written out
    assert her_phone not in await other_wall.content()
    await helper.screenshot("volunteer-wish-done")
    await home.reload()
    await home.get_by_role("tab", name="心愿").click()
    await expect(hers).to_contain_text("认领人：马晓东")
    await hers.get_by_role("button", name="确认已实现").click()
    await expect(hers).to_contain_text("心愿已实现")
    await resident.screenshot("resident-wish-met-after-give-back")

    # The same pages in English.
    await wall.get_by_role("button", name="English").click()
    await expect(party).to_contain_text("Approved")
    await member.screenshot("party-wishes-en")
    await console.get_by_role("button", name="English").click()
    await expect(request).to_contain_text("Claimant: 刘建华 (市税务局)")
    await expect(request).to_contain_text("Passed on")


async def test_a_volunteer_withdraws_from_a_shift_and_is_told_whom_to_call_when_it_is_too_late(
    person: Any, pool: Any, gql: GraphQLClient, organiser_token: str
) -> None:
    tag = uuid.uuid4().hex[:4]
    later = await shift_starting(
        gql, organiser_token, at_iso(3, "09:00"), at_iso(3, "11:00"), role=f"茶歇服务{tag}"
    )
    soon = await shift_starting(
        gql,
        organiser_token,
        minutes_from_now(60).isoformat(),
        minutes_from_now(180).isoformat(),
        role=f"签到引导{tag}",
    )
    volunteer = await person()
    page = await volunteer.open("/scan")
    await volunteer.logs_in_by_phone(pool)
    await lives_in_the_community(volunteer, "王立新")
    for role in (f"茶歇服务{tag}", f"签到引导{tag}"):
        await page.locator(".open-shift", has_text=role).get_by_role("button", name="报名").click()
        await expect(page.locator("#shifts .shift", has_text=role)).to_be_visible()

    mine = page.locator("#shifts .shift", has_text=f"茶歇服务{tag}")
    await expect(mine).to_contain_text("如不能来，请在")
    late = page.locator("#shifts .shift", has_text=f"签到引导{tag}")
    await expect(late).to_contain_text("临近开始，不能在网上退出了。如不能来，请致电 0951-4012345。")
    await expect(late.get_by_role("button", name="退出班次")).to_have_count(0)
    await volunteer.screenshot("volunteer-shifts-withdraw")

    await mine.get_by_role("button", name="退出班次").click()
    await mine.get_by_label("退出原因").fill("家里临时有事")
    await mine.get_by_role("button", name="确认退出").click()
    await expect(page.locator("#shift-notice")).to_have_text("您已退出该班次，组织者已收到通知。")
    await expect(mine).to_have_count(0)
    # The place is free again: it is back among the open shifts.
    await expect(page.locator(".open-shift", has_text=f"茶歇服务{tag}")).to_contain_text(
        re.compile("还差 3 人")
    )
    await volunteer.screenshot("volunteer-shift-withdrawn")
    await page.get_by_role("button", name="English").click()
    await expect(late).to_contain_text(
        "It starts soon: you cannot withdraw online now. If you cannot come, call 0951-4012345."
    )
    assert later["id"] and soon["id"]
