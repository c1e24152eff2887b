"""At the door and on paper, in a real browser: the grid worker prints an elder's ticket (A6 and
PDF) that says what, when, where and who; a resident prints and saves her own; at the door staff
find the elder by her phone's last four digits and let her in before her husband, and the door
lists only its own community's sessions."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import pypdf
from playwright.async_api import Page, expect

from services.common.actor import ORGANISER
from services.common.settings import Settings
from services.gateway.ticket_sheet import day_label
from services.identity.service import Identity
from tests.browser.conftest import LAPTOP
from tests.browser.test_console_proxy import finds
from tests.conftest import (
    COMMUNITY,
    CREATE_ACTIVITY,
    CREATE_FESTIVAL,
    OTHER_COMMUNITY,
    SCHEDULE_SESSION,
    GraphQLClient,
    token_for,
)
from tests.dates import FESTIVAL_DAY, at, at_iso, day_iso
from tests.door_steps import couple_signed_up, desk_phone_listed, session_on
from tests.identity_steps import new_phone, staff_account
from tests.ticket_steps import schedule_at

PT16_IN_PX = 16 * 96 / 72  # CSS pixels of 16 pt


async def presses_print(page: Page, button: str) -> None:
    """Press a print button (a test opens no dialog) and show the page as it goes on paper."""
    await page.evaluate("window.print = () => {}")
    await page.get_by_role("button", name=button).click()
    await page.emulate_media(media="print")


async def printed(page: Page) -> pypdf.PdfReader:
    """The page printed as Chromium prints it, with the paper size its print styles chose."""
    pdf = await page.pdf(prefer_css_page_size=True, print_background=True)
    await page.emulate_media(media="screen")
    return pypdf.PdfReader(io.BytesIO(pdf))


async def festival_of(pool: Any, session_id: str) -> str:
    async with pool.acquire() as conn:
        found = await conn.fetchval(
            "SELECT a.festival_id FROM activities.sessions s "
            "JOIN activities.activities a ON a.id = s.activity_id WHERE s.id = $1",
            uuid.UUID(session_id),
        )
    return str(found)


async def test_a_grid_worker_prints_an_elders_ticket_that_says_what_when_where_and_who(
    person: Any, pool: Any, redis: Any, settings: Settings, gql: GraphQLClient, organiser_token: str
) -> None:
    session_id = await session_on(gql, organiser_token, FESTIVAL_DAY, "09:00", "11:00", title="剪纸书法")
    desk_phone = await desk_phone_listed(gql, settings)
    username, password = await staff_account(Identity(pool, redis, settings), "grid_worker", COMMUNITY)
    worker = await person()
    page = await worker.open("/console")
    await worker.logs_in_as_staff(username, password)
    card = page.locator("#proxy")
    await finds(card, new_phone(), "王秀兰")
    await expect(card.locator("#proxy-found")).to_contain_text("新登记居民：王**")
    member = card.locator("#proxy-member")
    await member.get_by_label("家人姓名").fill("李建国")
    await member.get_by_label("关系").select_option("SPOUSE")
    await member.get_by_label("年龄段").select_option("ELDER")
    await member.get_by_role("button", name="添加").click()
    await expect(card.locator("#proxy-household")).to_contain_text("李**")
    sign_up = card.locator("#proxy-signup")
    await sign_up.get_by_label("场次").select_option(session_id)
    await sign_up.get_by_role("button", name="代为报名（2人）").click()
    await expect(card.locator("#proxy-answer")).to_contain_text("已确认")
    await sign_up.get_by_role("button", name="打印票券").click()

    sheet = card.locator(".ticket-sheet")
    day = day_label(at(FESTIVAL_DAY, "09:00"))
    for words in (
        "剪纸书法",
        day,
        "上午 9:00 – 11:00",
        "朔方社区邻里驿家",
        "王秀兰",
        "可入场 2 人：王秀兰、李建国",
    ):
        await expect(sheet).to_contain_text(words)
    await expect(sheet).to_contain_text("请提前 15 分钟到场（上午 8:45 前）")
    await expect(sheet).to_contain_text("朔方社区")  # the desk, and its phone from the directory
    await expect(sheet).to_contain_text(desk_phone)
    number = (await sheet.locator(".sheet-number strong").inner_text()).strip()
    assert len(number) == 6 and number.isdigit()
    await expect(sheet.get_by_role("img", name="入场二维码")).to_be_visible()
    await worker.screenshot("door-ticket-desk")

    async with page.expect_download() as saved:
        await sheet.get_by_role("link", name="保存为 PDF").click()
    download = await saved.value
    [pdf_page] = pypdf.PdfReader(str(await download.path())).pages
    text = pdf_page.extract_text()
    for words in (
        "剪纸书法",
        day,
        "上午 9:00",
        "朔方社区邻里驿家",
        "王秀兰",
        "李建国",
        f"票号 {number}",
        desk_phone,
    ):
        assert words in text, (words, text)

    await presses_print(page, "打印（A6 纸）")
    sizes = await sheet.locator("dd, dt, .sheet-number").evaluate_all(
        "nodes => nodes.map((n) => parseFloat(getComputedStyle(n).fontSize))"
    )
    assert min(sizes) >= PT16_IN_PX - 0.01, sizes  # 16 pt and more on paper
    await worker.screenshot("door-ticket-print-a6")
    on_a6 = await printed(page)
    assert len(on_a6.pages) == 1, [p.extract_text() for p in on_a6.pages]
    [paper] = on_a6.pages
    assert round(float(paper.mediabox.width) / 72 * 25.4) == 105  # A6: 105 × 148 mm
    assert round(float(paper.mediabox.height) / 72 * 25.4) == 148
    on_paper = "".join(paper.extract_text().split())  # letter-spaced digits come apart
    for words in ("剪纸书法", "朔方社区邻里驿家", "王秀兰", "李建国", "上午9:00", "请提前15分钟到场", number):
        assert words in on_paper, (words, on_paper)
    assert "代居民报名" not in on_paper  # the ticket alone

    await presses_print(page, "打印（小票机）")
    sizes = await sheet.locator("dd, dt, .sheet-number").evaluate_all(
        "nodes => nodes.map((n) => parseFloat(getComputedStyle(n).fontSize))"
    )
    assert min(sizes) >= PT16_IN_PX - 0.01, sizes
    receipt = await printed(page)
    assert round(float(receipt.pages[0].mediabox.width) / 72 * 25.4) == 80
    assert "王秀兰" in receipt.pages[0].extract_text()


async def test_a_resident_prints_and_saves_her_own_ticket(
    person: Any, pool: Any, gql: GraphQLClient, organiser_token: str
) -> None:
    session_id = await session_on(gql, organiser_token, FESTIVAL_DAY, "14:30", "16:30", title="漆扇体验")
    festival_id = await festival_of(pool, session_id)
    resident = await person()
    page = await resident.open(f"/?festival={festival_id}")
    await resident.logs_in_by_phone(pool)
    await page.get_by_role("tab", name="我的", exact=True).click()
    profile = page.locator("#profile-form")
    await profile.get_by_label("姓名").fill("张桂芳")
    await profile.get_by_label("所在社区").fill(COMMUNITY)
    await profile.get_by_label("楼栋").fill("5号楼")
    await profile.get_by_label("单元/门牌").fill("1单元302")
    await profile.get_by_role("button", name="保存资料").click()
    await expect(profile.get_by_role("status")).to_be_visible()

    await page.get_by_role("tab", name="活动").click()
    session = page.locator(f"[data-session='{session_id}']")
    await session.get_by_role("button", name="报名").click()
    await session.get_by_role("button", name="确认报名（1人）").click()
    await expect(session).to_contain_text("报名成功")
    await page.get_by_role("tab", name="我的报名").click()
    signup = page.locator(".signup", has_text="漆扇体验")
    await signup.get_by_role("button", name="出示入场码").click()
    sheet = signup.locator(".ticket-sheet")
    for words in (
        "漆扇体验",
        day_label(at(FESTIVAL_DAY, "14:30")),
        "下午 2:30 – 4:30",
        "张桂芳",
        "可入场 1 人",
    ):
        await expect(sheet).to_contain_text(words)
    await expect(sheet).to_contain_text("请提前 15 分钟到场（下午 2:15 前）")
    await resident.screenshot("door-ticket-resident")

    async with page.expect_download() as saved:
        await sheet.get_by_role("link", name="保存为 PDF").click()
    text = pypdf.PdfReader(str(await (await saved.value).path())).pages[0].extract_text()
    assert "漆扇体验" in text and "张桂芳" in text and "下午 2:30" in text

    await presses_print(page, "打印（A6 纸）")
    await resident.screenshot("door-ticket-resident-print")
    assert "张桂芳" in (await printed(page)).pages[0].extract_text()


async def shared_festival_with_a_neighbours_session(gql: GraphQLClient, settings: Settings) -> str:
    """A festival two communities share, with a session of the neighbouring community's."""
    both = token_for(settings, f"organiser-{uuid.uuid4().hex[:6]}", {ORGANISER}, {COMMUNITY, OTHER_COMMUNITY})
    festival = await gql.ok(
        CREATE_FESTIVAL,
        {
            "input": {
                "name": "两社区联合邻里节",
                "communityIds": [COMMUNITY, OTHER_COMMUNITY],
                "startsOn": day_iso(0),
                "endsOn": day_iso(1),
            }
        },
        both,
    )
    activity = await gql.ok(
        CREATE_ACTIVITY,
        {
            "input": {
                "festivalId": festival["createFestival"]["id"],
                "communityId": OTHER_COMMUNITY,
                "title": "西苑义剪",
            }
        },
        both,
    )
    session = await gql.ok(
        SCHEDULE_SESSION,
        {
            "input": {
                "activityId": activity["createActivity"]["id"],
                "venue": "西苑社区邻里驿家",
                "startsAt": at_iso(1, "09:00"),
                "endsAt": at_iso(1, "11:00"),
                "capacity": 10,
            }
        },
        both,
    )
    session_id: str = session["scheduleSession"]["id"]
    return session_id


async def test_the_door_finds_an_elder_by_phone_tail_and_lets_the_couple_in_one_at_a_time(
    person: Any, pool: Any, redis: Any, settings: Settings, gql: GraphQLClient, organiser_token: str
) -> None:
    session_id = await schedule_at(gql, organiser_token, timedelta(minutes=20), title="剪纸书法")
    couple = await couple_signed_up(gql, settings, session_id)
    neighbours = await shared_festival_with_a_neighbours_session(gql, settings)
    username, password = await staff_account(Identity(pool, redis, settings), "scanner", COMMUNITY)
    door = await person()
    page = await door.open("/scan")
    await page.get_by_role("button", name="我是工作人员").click()
    await door.logs_in_as_staff(username, password)

    sessions = page.get_by_label("场次")
    await expect(sessions.locator(f"option[value='{session_id}']")).to_have_count(1)
    await expect(sessions.locator(f"option[value='{neighbours}']")).to_have_count(0)
    await expect(sessions).not_to_contain_text("西苑义剪")
    await sessions.select_option(session_id)

    find = page.locator("#door-find-form")
    await find.get_by_label("姓名、手机号后 4 位或票号").fill(couple["phone"][-4:])
    await find.get_by_role("button", name="查找").click()
    found = find.locator(f".door-attendee[data-signup='{couple['signup_id']}']")
    await expect(found).to_contain_text("王秀兰")
    await expect(found).to_contain_text("共 2 人：王秀兰、李建国")
    await expect(found).to_contain_text(f"{couple['phone'][:3]}****{couple['phone'][-4:]}")
    await found.get_by_label("本次入场人数").select_option("1")
    await door.screenshot("door-find-by-phone")
    await found.get_by_role("button", name="确认入场（1人）").click()
    await expect(found).to_contain_text("已入场 1 人，还有 1 人未入场")
    await expect(page.locator("#door-log")).to_contain_text("王秀兰 1 人（共 2 人，已入场 1 人）")
    await door.screenshot("door-one-of-two")

    await found.get_by_role("button", name="确认入场（1人）").click()  # her husband, parking the bike
    await expect(found).to_contain_text("全部已入场")
    await expect(found.get_by_role("button")).to_have_count(0)
    await expect(page.locator("#door-log")).to_contain_text("已入场 2 人")
    async with pool.acquire() as conn:
        admitted = await conn.fetchval(
            "SELECT admitted FROM activities.attendance WHERE signup_id = $1", uuid.UUID(couple["signup_id"])
        )
        scans = await conn.fetchval(
            "SELECT count(*) FROM activities.admissions WHERE signup_id = $1", uuid.UUID(couple["signup_id"])
        )
    assert (admitted, scans) == (2, 2)

    await page.get_by_role("button", name="English").click()
    await expect(find.get_by_role("button", name="Find")).to_be_visible()
    await expect(found).to_contain_text("Everyone is in")


async def test_the_organisers_roster_names_the_whole_household_and_its_file_the_session(
    person: Any, pool: Any, redis: Any, settings: Settings, gql: GraphQLClient, organiser_token: str
) -> None:
    session_id = await session_on(gql, organiser_token, FESTIVAL_DAY, "09:00", "11:00", title="剪纸书法")
    couple = await couple_signed_up(gql, settings, session_id)
    username, password = await staff_account(Identity(pool, redis, settings), "community_admin", COMMUNITY)
    organiser = await person(LAPTOP)
    page = await organiser.open("/console")
    await organiser.logs_in_as_staff(username, password)
    await page.get_by_label("节日", exact=True).select_option(await festival_of(pool, session_id))
    row = page.locator(f"#sessions tbody tr[data-session='{session_id}']")
    await row.get_by_role("button", name="名单").click()
    roster = page.locator("#roster")
    await expect(roster).to_contain_text("王秀兰")
    await expect(roster).to_contain_text("李建国")
    await expect(roster).to_contain_text(f"{couple['phone'][:3]}****{couple['phone'][-4:]}")
    await expect(roster).not_to_contain_text(couple["phone"])
    await organiser.screenshot("door-roster")
    async with page.expect_download() as saved:
        await roster.get_by_role("link", name="导出名单").click()
    download = await saved.value
    assert download.suggested_filename == f"剪纸书法-{day_iso(FESTIVAL_DAY)}-0900.csv"
    text = (await download.path()).read_text(encoding="utf-8-sig")
    assert "王秀兰" in text and "王秀兰、李建国" in text and couple["phone"] not in text
