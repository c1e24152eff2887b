"""People without a smartphone, and a party that shrinks, in a real browser at 360 px.

A grid worker registers an elder who has only a landline (no id typed anywhere), signs him and
his wife up, prints the ticket, later cancels it; when the session of another elder of hers
(who has no phone at all) moves, she tells him and ticks the "要告知的居民" entry off. A resident
cancels her husband's place in their party of two and the head of the waitlist moves up."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.async_api import expect

from services.common.actor import RESIDENT
from services.common.settings import Settings
from services.identity.service import Identity
from tests.browser.test_resident_page import decoded
from tests.conftest import COMMUNITY, GraphQLClient, eventually, token_for
from tests.dates import FESTIVAL_DAY, at_iso
from tests.elder_steps import FIND, MOVE, SIGN_UP, SIGNUP, elder, grid_worker, key, plan_festival
from tests.identity_steps import new_phone, staff_account


async def test_a_grid_worker_registers_an_elder_with_a_landline_cancels_and_ticks_off_what_to_tell(
    person: Any, pool: Any, redis: Any, settings: Settings, gql: GraphQLClient, organiser_token: str
) -> None:
    _, sessions = await plan_festival(
        gql,
        organiser_token,
        [("义诊", FESTIVAL_DAY, "09:00", "11:00", 10), ("包饺子", FESTIVAL_DAY, "14:00", "16:00", 10)],
    )
    username, password = await staff_account(Identity(pool, redis, settings), "grid_worker", COMMUNITY)
    worker = await person()
    page = await worker.open("/console")
    await worker.logs_in_as_staff(username, password)
    card = page.locator("#proxy")
    to_tell = page.locator("#to-tell")
    await expect(to_tell.get_by_role("heading", name="要告知的居民")).to_be_visible()

    # 马福贵 has a landline only; whose phone it is stays "the resident's own".
    find = card.locator("#proxy-find")
    await expect(find.get_by_label("电话是谁的")).to_have_value("SELF")
    await find.get_by_label("居民电话").fill("0951 2345678")
    await find.get_by_label("居民姓名").fill("马福贵")
    await find.get_by_label("楼栋").fill("3号楼")
    await find.get_by_label("单元/门牌").fill("2单元201")
    await find.get_by_label("新登记：已向居民说明《隐私告知》，居民同意登记").check()
    await find.get_by_role("button", name="查找或登记居民").click()
    found = card.locator("#proxy-found")
    await expect(found).to_contain_text("新登记居民：马**")
    await expect(found).to_contain_text("固定电话 0951-***5678")
    await expect(found).to_contain_text("不发短信")

    member = card.locator("#proxy-member")
    await member.get_by_label("家人姓名").fill("马桂兰")
    await member.get_by_label("关系").select_option("SPOUSE")
    await member.get_by_label("年龄段").select_option("ELDER")
    await member.get_by_role("button", name="添加").click()
    await expect(card.locator("#proxy-household")).to_contain_text("马**")

    sign_up = card.locator("#proxy-signup")
    await sign_up.get_by_label("场次").select_option(sessions["义诊"])
    await sign_up.get_by_role("button", name="代为报名（2人）").click()
    await expect(card.locator("#proxy-answer")).to_contain_text("已确认：报名成功，共 2 人。")
    await sign_up.get_by_role("button", name="打印票券").click()
    qr = sign_up.get_by_role("img", name="入场二维码")
    await expect(qr).to_be_visible()
    assert decoded(await qr.get_attribute("src")) == await sign_up.locator(".code-text").inner_text()
    await expect(sign_up).to_contain_text("可入场 2 人")
    listed = card.locator("#proxy-signups .signup", has_text="义诊")
    await expect(listed).to_contain_text("共 2 人：马**（本人）、马**")
    await worker.screenshot("console-elder-landline")

    # Later his wife is ill and neither goes: the grid worker cancels, asked once more.
    await listed.get_by_role("button", name="取消报名").click()
    await listed.get_by_role("button", name="确认取消整个报名？").click()
    await expect(listed).to_contain_text("已取消报名，名额已让给候补的居民。")
    await expect(listed.locator(".badge")).to_have_text("已取消")
    await expect(sign_up.get_by_role("img", name="入场二维码")).to_have_count(0)  # no stale ticket
    await worker.screenshot("console-elder-cancelled")

    # 海大爷 has no phone at all: found again by name and door, not typed twice.
    await find.get_by_label("电话是谁的").select_option("NONE")
    await expect(find.get_by_label("居民电话")).to_be_hidden()
    await find.get_by_label("居民姓名").fill("海大爷")
    await find.get_by_label("楼栋").fill("5号楼")
    await find.get_by_label("单元/门牌").fill("1单元101")
    await find.get_by_label("新登记：已向居民说明《隐私告知》，居民同意登记").check()
    await find.get_by_role("button", name="查找或登记居民").click()
    await expect(found).to_contain_text("新登记居民：海**")
    await expect(found).to_contain_text("没有电话，请上门告知")
    await sign_up.get_by_label("场次").select_option(sessions["包饺子"])
    await expect(sign_up.get_by_label("海**（本人）")).to_be_checked()
    await sign_up.get_by_role("button", name="代为报名（1人）").click()
    await expect(card.locator("#proxy-answer")).to_contain_text("已确认：报名成功，共 1 人。")

    # The organisers move 包饺子 an hour later: his grid worker must go and tell him.
    moved = {
        "sessionId": sessions["包饺子"],
        "idempotencyKey": key(),
        "startsAt": at_iso(FESTIVAL_DAY, "15:00"),
        "endsAt": at_iso(FESTIVAL_DAY, "17:00"),
    }
    await gql.ok(MOVE, {"input": moved}, organiser_token)

    # (the community's list is shared: other elders of other tests may be on it too)
    entry = to_tell.locator(".to-tell[data-kind='session.rescheduled']", has_text="5号楼 1单元101")

    async def listed_now() -> int:
        await to_tell.get_by_role("button", name="刷新").click()
        return await entry.count()

    assert await eventually(listed_now)
    await expect(entry).to_contain_text("海** · 5号楼 1单元101")
    await expect(entry).to_contain_text("没有电话，请上门告知")
    await expect(entry).to_contain_text("15:00")
    # The landline elder's sign-up and its cancellation are his to hear of too, once each.
    await expect(
        to_tell.locator(".to-tell[data-kind='signup.confirmed']", has_text="0951-2345678")
    ).to_have_count(1)
    await expect(
        to_tell.locator(".to-tell[data-kind='signup.cancelled']", has_text="0951-2345678")
    ).to_have_count(1)
    await worker.screenshot("console-to-tell")
    await entry.get_by_role("button", name="我已告知").click()
    told = to_tell.locator(".to-tell.told[data-kind='session.rescheduled']", has_text="5号楼 1单元101")
    await expect(told).to_contain_text(f"已告知 · {username}")
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT told_at, told_by FROM notify.to_tell "
            "WHERE kind = 'session.rescheduled' AND community_id = $1 ORDER BY created_at DESC LIMIT 1",
            COMMUNITY,
        )
        account = await conn.fetchval("SELECT id FROM identity.staff_accounts WHERE username = $1", username)
        texts = await conn.fetchval(
            "SELECT count(*) FROM notify.deliveries d "
            "JOIN identity.residents r ON d.recipient_id = r.id::text "
            "WHERE r.phone IS NULL AND r.name IN ('马福贵', '海大爷') AND d.channel = 'sms'"
        )
    assert row["told_at"] is not None and row["told_by"] == str(account)
    assert texts == 0
    await worker.screenshot("console-to-tell-done")

    await page.get_by_role("button", name="English").click()
    await expect(to_tell.get_by_role("heading", name="Residents to tell", exact=False)).to_be_visible()


async def test_a_resident_cancels_her_husband_and_the_head_of_the_waitlist_moves_up(
    person: Any, pool: Any, settings: Settings, gql: GraphQLClient, organiser_token: str
) -> None:
    festival_id, sessions = await plan_festival(
        gql, organiser_token, [("义诊", FESTIVAL_DAY, "09:00", "11:00", 2)]
    )
    clinic = sessions["义诊"]
    resident = await person()
    page = await resident.open(f"/?festival={festival_id}")
    await resident.logs_in_by_phone(pool)

    await page.get_by_role("tab", name="我的", exact=True).click()
    family = page.locator("#member-form")
    await family.get_by_label("姓名").fill("张大爷")
    await family.get_by_label("关系").select_option("SPOUSE")
    await family.get_by_label("年龄段").select_option("ELDER")
    await family.get_by_role("button", name="添加", exact=True).click()
    await expect(page.locator(".member", has_text="张大爷")).to_be_visible()

    await page.get_by_role("tab", name="活动").click()
    session = page.locator(f"[data-session='{clinic}']")
    await session.get_by_role("button", name="报名").click()
    await session.get_by_role("button", name="确认报名（2人）").click()
    await expect(session).to_contain_text("报名成功")

    # A neighbour, signed up at the desk, waits for a place.
    _, worker_token = grid_worker(settings)
    neighbour = (await gql.ok(FIND, elder("李奶奶", new_phone()), worker_token))["residentByPhone"]
    neighbour_token = token_for(settings, neighbour["id"], {RESIDENT}, {COMMUNITY})
    waiting = (
        await gql.ok(SIGN_UP, {"input": {"sessionId": clinic, "idempotencyKey": key()}}, neighbour_token)
    )["signUp"]
    assert (waiting["status"], waiting["waitlistPosition"]) == ("WAITLISTED", 1)

    await page.get_by_role("tab", name="我的报名").click()
    signup = page.locator(".signup", has_text="义诊")
    await expect(signup).to_contain_text("共 2 人")
    await signup.get_by_role("button", name="只取消其中一人").click()
    await expect(signup.get_by_role("button", name="取消 我本人")).to_be_visible()
    await resident.screenshot("resident-party-choose")
    await signup.get_by_role("button", name="取消 张大爷").click()
    await signup.get_by_role("button", name="确认取消 张大爷？").click()
    await expect(signup.get_by_role("status")).to_have_text(
        "已为张大爷取消，您本人的报名保留，共 1 人。原票券仍可使用，空出的名额已让给候补的居民。"
    )
    await expect(signup).to_contain_text("共 1 人")
    await signup.get_by_role("button", name="出示入场码").click()
    await expect(signup).to_contain_text("可入场 1 人")
    await resident.screenshot("resident-party-cut")

    promoted = (await gql.ok(SIGNUP, {"id": waiting["id"]}, neighbour_token))["signup"]
    assert promoted["status"] == "CONFIRMED"
    async with pool.acquire() as conn:
        taken = await conn.fetchval("SELECT taken FROM activities.sessions WHERE id = $1", uuid.UUID(clinic))
    assert taken == 2

    await page.get_by_role("tab", name="消息").click()
    await expect(page.locator(".message[data-kind='signup.party_reduced']")).to_contain_text(
        "已为张大爷取消报名，您本人的报名保留，共1人"
    )
