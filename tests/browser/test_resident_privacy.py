"""A resident's rights on the residents' page, at 360 px: the privacy notice at log-in, a child
added with the guardian's consent, her data shown and saved as a file, the account deleted."""

from __future__ import annotations

import json
import uuid
from typing import Any

from playwright.async_api import expect


async def test_a_resident_reads_saves_and_then_deletes_her_data_on_her_phone(person: Any, pool: Any) -> None:
    resident = await person()
    page = await resident.open("/")
    await expect(page.locator("details.privacy-notice summary")).to_contain_text("隐私告知")
    await resident.logs_in_by_phone(pool)

    await page.get_by_role("tab", name="我的", exact=True).click()
    family = page.locator("#member-form")
    await family.get_by_label("姓名").fill("王小明")
    await family.get_by_label("关系").select_option("GRANDCHILD")
    await family.get_by_label("年龄段").select_option("CHILD")
    await family.get_by_role("button", name="添加", exact=True).click()
    await expect(family.get_by_role("alert")).to_contain_text("监护人")  # refused without consent
    await family.get_by_label("我是其监护人，同意登记这位未成年家人的信息").check()
    await family.get_by_role("button", name="添加", exact=True).click()
    await expect(page.locator(".member", has_text="王小明")).to_be_visible()

    await page.get_by_role("button", name="查看我的数据").click()
    shown = page.locator("#my-data-shown")
    await expect(shown.locator("section", has_text="家庭成员")).to_contain_text("王小明（孙辈")
    await expect(shown.locator("section", has_text="同意记录")).to_contain_text("隐私告知")
    await expect(shown.locator("section", has_text="同意记录")).to_contain_text("监护人同意")
    wider = await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not wider, "the data page is wider than a 360 px phone"
    await resident.screenshot("resident-my-data")

    async with page.expect_download() as saving:
        await page.get_by_role("button", name="下载我的数据（JSON 文件）").click()
    saved = json.loads((await (await saving.value).path()).read_text())
    assert [m["name"] for m in saved["household"]] == ["王小明"]
    resident_id = saved["accountId"]

    delete = page.locator("#delete-form")
    await delete.get_by_label("请输入“注销”以确认").fill("注")
    await delete.get_by_role("button", name="注销账号").click()
    await expect(delete.get_by_role("alert")).to_contain_text("注销")
    await delete.get_by_label("请输入“注销”以确认").fill("注销")
    await delete.get_by_role("button", name="注销账号").click()
    await expect(delete.get_by_role("status")).to_contain_text("账号已注销")
    await expect(page.get_by_role("heading", name="手机号登录")).to_be_visible()
    async with pool.acquire() as conn:
        erased = await conn.fetchval(
            "SELECT erased_at IS NOT NULL FROM identity.residents WHERE id = $1", uuid.UUID(resident_id)
        )
    assert erased
    assert resident.console_errors == []
