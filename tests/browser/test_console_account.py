"""A staff member looks after her own account in the console, at 360 px (issue 16): she changes
her password, which logs out the office computer where she was still logged in, and after losing
her phone would log out on every device."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.async_api import expect

from services.common.settings import Settings
from services.identity.service import Identity
from tests.conftest import COMMUNITY
from tests.identity_steps import staff_account


async def test_she_changes_her_password_and_the_office_computer_is_logged_out(
    person: Any, pool: Any, redis: Any, settings: Settings
) -> None:
    username, password = await staff_account(Identity(pool, redis, settings), "grid_worker", COMMUNITY)
    office = await person()
    office_page = await office.open("/console")
    await office.logs_in_as_staff(username, password)
    await expect(office_page.locator("#account")).to_be_visible()

    phone = await person()
    page = await phone.open("/console")
    await phone.logs_in_as_staff(username, password)
    card = page.locator("#account")
    await expect(card.get_by_role("heading", name="我的账号")).to_be_visible()
    new = f"xin-{uuid.uuid4().hex[:10]}"

    await card.get_by_label("现在的密码").fill("not-my-password")
    await card.get_by_label("新密码（至少10个字符）").fill(new)
    await card.get_by_label("再输一次新密码").fill(new + "x")
    await card.get_by_role("button", name="更换密码").click()
    await expect(card.get_by_role("alert")).to_contain_text("两次输入的新密码不一样")

    await card.get_by_label("再输一次新密码").fill(new)
    await card.get_by_role("button", name="更换密码").click()
    await expect(card.get_by_role("alert")).to_contain_text("当前密码不正确")

    await card.get_by_label("现在的密码").fill(password)
    await card.get_by_role("button", name="更换密码").click()
    await expect(card.get_by_role("status")).to_have_text("密码已更换。其他设备上的登录已经退出。")
    await expect(card.get_by_label("现在的密码")).to_have_value("")
    await phone.screenshot("console-account-password")

    # The office computer, where someone might have watched her type the old password: logged out.
    await office_page.reload()
    await expect(office_page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    # Her phone is still in; in English the card says the same.
    await page.reload()
    await page.get_by_role("button", name="English").click()
    await expect(card.get_by_role("heading", name="My account")).to_be_visible()
    await page.get_by_role("button", name="中文").click()

    # She would lose her phone: log out on every device, asked once more.
    await card.get_by_role("button", name="在所有设备上退出").click()
    await card.get_by_role("button", name="确认在所有设备上退出？").click()
    await expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    await page.reload()
    await expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    await phone.logs_in_as_staff(username, new)  # the new password works
    await expect(card.get_by_role("heading", name="我的账号")).to_be_visible()
    assert phone.console_errors == []
