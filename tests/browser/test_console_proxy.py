"""代居民报名 in a real browser: a grid worker at the community desk registers an elder who has no
smartphone, adds her husband, signs both up, prints her ticket, finds her again by phone, puts a
neighbour on a full session's waitlist and posts a wish for him — all from the console."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.async_api import Locator, Page, expect

from services.activities import signed_tickets
from services.common.settings import Settings
from services.identity.service import Identity
from tests.browser.conftest import LAPTOP
from tests.browser.test_resident_page import decoded
from tests.conftest import COMMUNITY
from tests.identity_steps import new_phone, staff_account


def masked(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


async def finds(card: Locator, phone: str, name: str) -> None:
    """The grid worker types what the elder tells them and asks for her by phone."""
    form = card.locator("#proxy-find")
    await form.get_by_label("居民电话").fill(phone)
    await form.get_by_label("居民姓名").fill(name)
    await form.get_by_label("楼栋").fill("3号楼")
    await form.get_by_label("单元/门牌").fill("2单元201")
    await form.get_by_label("新登记：已向居民说明《隐私告知》，居民同意登记").check()
    await form.get_by_role("button", name="查找或登记居民").click()


async def resident_shown(page: Page, card: Locator, phone: str) -> str:
    await expect(card.locator("#proxy-found")).to_contain_text(masked(phone))
    resident_id = await card.get_attribute("data-resident")
    assert resident_id
    return resident_id


async def test_a_grid_worker_signs_up_an_elder_and_her_husband_prints_the_ticket_and_posts_a_wish(
    person: Any, pool: Any, redis: Any, settings: Settings, festival: Any
) -> None:
    planned = await festival(capacity=2)
    clinic = planned["sessions"]["义诊"]
    username, password = await staff_account(Identity(pool, redis, settings), "grid_worker", COMMUNITY)
    worker = await person()  # on a phone: grid workers also go on home visits
    page = await worker.open("/console")
    await worker.logs_in_as_staff(username, password)
    card = page.locator("#proxy")
    await expect(card.get_by_role("heading", name="代居民报名")).to_be_visible()
    # Organising is not theirs: the console shows only what the API lets a grid worker do.
    await expect(page.locator("#organiser-area")).to_be_hidden()

    phone = new_phone()
    await finds(card, phone, "王秀英")
    await expect(card.locator("#proxy-found")).to_contain_text("新登记居民：王**")
    elder = await resident_shown(page, card, phone)
    assert phone not in await card.inner_text()  # masked, as the API returns it

    member = card.locator("#proxy-member")
    await member.get_by_label("家人姓名").fill("李建国")
    await member.get_by_label("关系").select_option("SPOUSE")
    await member.get_by_label("年龄段").select_option("ELDER")
    await member.get_by_role("button", name="添加").click()
    await expect(card.locator("#proxy-household")).to_contain_text("李**")

    sign_up = card.locator("#proxy-signup")
    await sign_up.get_by_label("场次").select_option(clinic)
    await expect(sign_up.get_by_label("王**（本人）")).to_be_checked()
    await expect(sign_up.get_by_label("李**（80岁以上）")).to_be_checked()
    await sign_up.get_by_role("button", name="代为报名（2人）").click()
    await expect(card.locator("#proxy-answer")).to_contain_text("已确认：报名成功，共 2 人。")

    await sign_up.get_by_role("button", name="打印票券").click()
    qr = sign_up.get_by_role("img", name="入场二维码")
    await expect(qr).to_be_visible()
    assert (await qr.bounding_box() or {}).get("width", 0) >= 250  # big enough to print and scan
    code = await sign_up.locator(".code-text").inner_text()
    assert decoded(await qr.get_attribute("src")) == code
    async with pool.acquire() as conn:
        signup_id = await conn.fetchval(
            "SELECT id FROM activities.signups WHERE resident_id = $1 AND session_id = $2",
            elder,
            uuid.UUID(clinic),
        )
    assert signed_tickets.parse(code)[0].signup_id == signup_id  # the ticket names her sign-up
    await expect(sign_up).to_contain_text("可入场 2 人")
    await worker.screenshot("console-proxy-ticket")

    # She comes back to the desk another day: the same number finds her, not a second resident.
    await finds(card, phone, "王秀英")
    await expect(card.locator("#proxy-found")).to_contain_text("已找到居民：王**")
    assert await resident_shown(page, card, phone) == elder
    await expect(card.locator("#proxy-household")).to_contain_text("李**")

    # The clinic is full now: a neighbour waits, and is told where in the queue.
    neighbour_phone = new_phone()
    await finds(card, neighbour_phone, "张德福")
    await expect(card.locator("#proxy-found")).to_contain_text("新登记居民：张**")
    neighbour = await resident_shown(page, card, neighbour_phone)
    assert neighbour != elder
    await sign_up.get_by_label("场次").select_option(clinic)
    await expect(sign_up.get_by_label("场次")).to_contain_text("已满")
    await sign_up.get_by_role("button", name="代为报名（1人）").click()
    await expect(card.locator("#proxy-answer")).to_contain_text("候补第1位")
    await expect(sign_up.get_by_role("button", name="打印票券")).to_have_count(0)

    wish = card.locator("#proxy-wish")
    await wish.get_by_label("心愿类别").select_option("VISIT")
    await wish.get_by_label("心愿内容").fill("老伴住院了，想有人陪着聊聊天")
    await expect(wish.get_by_label("楼栋")).to_have_value("3号楼")  # his, as found
    await wish.get_by_role("button", name="提交心愿").click()
    await expect(wish.get_by_role("status")).to_have_text("心愿已提交，社区审核通过后会发布到心愿墙。")
    async with pool.acquire() as conn:
        posted = await conn.fetch(
            "SELECT resident_id, posted_by, status FROM volunteers.wishes WHERE resident_id = $1", neighbour
        )
    assert [(w["status"], w["posted_by"] != neighbour) for w in posted] == [("POSTED", True)]
    await worker.screenshot("console-proxy-wish")

    await page.get_by_role("button", name="English").click()
    await expect(card.get_by_role("heading", name="Sign up a resident")).to_be_visible()
    await expect(card.locator("#proxy-answer")).to_contain_text("#1 on the waitlist")
    await expect(wish.get_by_role("status")).to_contain_text("Wish posted")


async def test_an_organiser_does_not_see_the_card_the_api_would_refuse_them(
    person: Any, pool: Any, redis: Any, settings: Settings
) -> None:
    username, password = await staff_account(Identity(pool, redis, settings), "organiser", COMMUNITY)
    organiser = await person(LAPTOP)
    page = await organiser.open("/console")
    await organiser.logs_in_as_staff(username, password)
    await expect(page.get_by_role("heading", name="场次与名额")).to_be_visible()
    await expect(page.locator("#proxy")).to_be_hidden()
