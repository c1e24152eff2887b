"""A certificate of volunteer service from request to check, in real browsers at 360 px: a party
member asks for one on /wishes and saves the PDF; a work unit's officer, not logged in, scans its
QR and sees it valid — with the name masked and no phone."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pypdf
import zxingcpp
from playwright.async_api import expect

from services.common.masking import mask_phone
from services.common.settings import Settings
from services.identity.service import Identity
from tests.browser.conftest import LAPTOP, SCREENSHOTS
from tests.browser.test_party_member_pages import lives_in_the_community
from tests.certificate_steps import served
from tests.conftest import COMMUNITY
from tests.dates import day_iso
from tests.identity_steps import staff_account

ME = "{ me { id } }"


async def test_a_party_member_gets_a_certificate_and_a_work_unit_checks_it_by_its_qr(
    person: Any, pool: Any
) -> None:
    member = await person()
    page = await member.open("/wishes")
    phone = await member.logs_in_by_phone(pool)
    await lives_in_the_community(member, "刘建华")
    answer = await page.request.post(member.base_url + "/graphql", data={"query": ME})
    member_id = (await answer.json())["data"]["me"]["id"]
    await served(pool, member_id, minutes=150)  # a shift two days ago: 2.5 hours credited
    await page.reload()

    card = page.locator("#certificates")
    await expect(card).to_contain_text("秩序维护")
    await expect(card).to_contain_text("150 分钟")
    await card.get_by_label("服务期间自").fill(day_iso(-30))
    await card.get_by_label("至", exact=True).fill(day_iso(0))
    await card.get_by_role("button", name="申请证明").click()
    await expect(card.get_by_role("status")).to_contain_text("证明已出具，编号 LW-SF-")
    number = await card.locator(".certificate").first.get_attribute("data-number")
    assert number
    await expect(card.locator(".certificate").first).to_contain_text("有效")
    await member.screenshot("certificate-request")

    async with page.expect_download() as downloading:
        await card.get_by_role("link", name="下载 PDF").first.click()
    pdf_path = await (await downloading.value).path()
    pdf = await asyncio.to_thread(Path(pdf_path).read_bytes)
    [sheet] = pypdf.PdfReader(io.BytesIO(pdf)).pages
    text = sheet.extract_text()
    for shown in (number, "2.50 小时", "朔方社区", "刘建华", "盖章处"):
        assert shown in text, (shown, text)
    assert phone not in text  # masked on the certificate: 手机号 139****1234
    assert mask_phone(phone) in text
    found = zxingcpp.read_barcodes(sheet.images[0].image)
    assert len(found) == 1
    url = found[0].text
    assert url == f"{member.base_url}/v/{number}"

    printable = await member.context.new_page()
    await printable.goto(f"{member.base_url}/certificates/{number}.html")
    await expect(printable.get_by_role("heading", name="志愿服务记录证明")).to_be_visible()
    await expect(printable.get_by_text("盖章处")).to_be_visible()
    member.page = printable
    await member.screenshot("certificate-print")

    officer = await person()  # a work unit's officer: another browser, nobody logged in
    check = await officer.open(url.removeprefix(officer.base_url))
    await expect(check.get_by_text("有效 Valid")).to_be_visible()
    body = await check.content()
    for shown in (number, "刘**", "2.50 小时", "朔方社区"):
        assert shown in body
    for hidden in ("刘建华", phone, mask_phone(phone), phone[-4:], member_id):
        assert hidden not in body
    await officer.screenshot("certificate-verify")


async def test_a_volunteer_disputes_a_record_the_organiser_corrects_it_and_revokes_an_old_certificate(
    person: Any, pool: Any, redis: Any, settings: Settings
) -> None:
    volunteer = await person()
    page = await volunteer.open("/wishes")
    await volunteer.logs_in_by_phone(pool)
    await lives_in_the_community(volunteer, "赵红梅")
    answer = await page.request.post(volunteer.base_url + "/graphql", data={"query": ME})
    volunteer_id = (await answer.json())["data"]["me"]["id"]
    await served(pool, volunteer_id, minutes=90)
    await page.reload()

    card = page.locator("#certificates")
    await card.get_by_label("服务期间自").fill(day_iso(-30))
    await card.get_by_role("button", name="申请证明").click()
    await expect(card.get_by_role("status")).to_contain_text("证明已出具")
    first = await card.locator(".certificate").first.get_attribute("data-number")
    await card.get_by_role("button", name="申请更正").click()
    await card.get_by_label("应记分钟数").fill("120")
    await card.get_by_label("更正理由").fill("签退时手机没电，实际服务到11点")
    await volunteer.screenshot("certificate-correction-request")
    await card.get_by_role("button", name="提交更正申请").click()
    await expect(card.get_by_role("status")).to_contain_text("更正申请已提交")
    await expect(card.locator(".correction")).to_contain_text("待社区处理")

    username, password = await staff_account(Identity(pool, redis, settings), "community_admin", COMMUNITY)
    organiser = await person(LAPTOP)
    console = await organiser.open("/console")
    await organiser.logs_in_as_staff(username, password)
    desk = console.locator("#certificate-desk")
    request = desk.locator(".record-correction", has_text="赵红梅")
    await expect(request).to_contain_text("现记 90 分钟，申请改为 120 分钟")
    await expect(request).to_contain_text("签退时手机没电")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await desk.screenshot(path=SCREENSHOTS / "console-record-corrections-1280.png")  # the card alone
    await request.get_by_role("button", name="同意更正").click()
    await expect(desk.get_by_role("status")).to_contain_text("已更正赵红梅的服务记录")

    export = desk.locator(".record-export")
    await export.get_by_label("自").fill(day_iso(-30))
    async with console.expect_download() as downloading:
        await export.get_by_role("link", name="导出 CSV").click()
    exported = await asyncio.to_thread(Path(await (await downloading.value).path()).read_text, "utf-8-sig")
    assert exported.startswith("序号,姓名,证件类型,证件号码")
    assert "赵红梅" in exported and ",120,朔方社区," in exported  # the corrected minutes

    line = desk.locator(".certificate", has_text=first or "")
    await line.get_by_role("button", name="作废").click()
    await line.get_by_role("textbox", name="作废原因").fill("服务时长已更正，重新出具")
    await line.get_by_role("button", name="确认作废").click()
    await expect(desk.get_by_role("status")).to_contain_text(f"证明 {first} 已作废")

    # The community admin names who signs the community's certificates from now on.
    await desk.get_by_label("负责人").fill("马秀英")
    await desk.get_by_label("经办人").fill("张文")
    await desk.get_by_label("编号代码").fill("SF")
    await desk.get_by_role("button", name="保存").click()
    await expect(desk.get_by_role("status")).to_contain_text("已保存")

    await page.reload()
    await expect(card.locator(".correction")).to_contain_text("已更正")
    await expect(card.locator(".certificate", has_text=first or "")).to_contain_text("已作废")
    await card.get_by_label("服务期间自").fill(day_iso(-30))
    await card.get_by_role("button", name="申请证明").click()
    await expect(card.get_by_role("status")).to_contain_text("证明已出具")
    await expect(card.locator(".certificate").first).to_contain_text("2.00 小时")
    second = await card.locator(".certificate").first.get_attribute("data-number")
    printed = await volunteer.context.new_page()
    await printed.goto(f"{volunteer.base_url}/certificates/{second}.html")
    await expect(printed.locator("table").first).to_contain_text("马秀英")
    await expect(printed.locator("table").first).to_contain_text("张文")
    check = await (await person()).open(f"/v/{first}")
    await expect(check.get_by_text("已作废 Revoked")).to_be_visible()
