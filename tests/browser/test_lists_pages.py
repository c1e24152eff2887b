"""三张清单 in real browsers at 360 px: the organiser publishes a project, the property company's
manager claims it and reports it done, and at the quarter's joint meeting the organiser prints
the report and closes (销号) the item."""

from __future__ import annotations

import secrets
from typing import Any

from playwright.async_api import expect

from services.common.actor import ORGANISER
from services.common.settings import Settings
from services.identity.service import Identity
from tests.browser.conftest import Person
from tests.browser.test_council_pages import call, lives_in_building_3, staff_logs_in
from tests.conftest import COMMUNITY, GraphQLClient, token_for
from tests.council_steps import VOLUNTEER_PROFILE, property_company
from tests.dates import day_iso
from tests.identity_steps import identity, staff_account

__all__ = ["identity"]  # a fixture, used by name


async def test_a_partner_claims_a_project_and_the_quarterly_report_closes_it(
    person: Any, pool: Any, gql: GraphQLClient, settings: Settings, identity: Identity
) -> None:
    tag = secrets.token_hex(3)
    title = f"为3号楼老人安装扶手{tag}"
    manager: Person = await person()
    manager_id = await lives_in_building_3(manager, pool, "钱经理")
    await call(manager.page, manager.base_url, VOLUNTEER_PROFILE, {"input": {"communityId": COMMUNITY}})
    partner = await property_company(gql, token_for(settings, f"org-{tag}", {ORGANISER}, {COMMUNITY}))
    await gql.ok(
        "mutation($input: AddPartnerMemberInput!) { addPartnerMember(input: $input) { id } }",
        {"input": {"organisationId": partner["id"], "volunteerId": manager_id}},
        token_for(settings, f"org-{tag}", {ORGANISER}, {COMMUNITY}),
    )

    organiser: Person = await person()
    await staff_logs_in(organiser, *await staff_account(identity, "organiser", COMMUNITY))
    await expect(organiser.page.get_by_role("tab", name="议事会")).to_be_visible()
    page = await organiser.open("/lists")
    await page.get_by_label("事项").fill(title)
    await page.get_by_label("完成期限（可不填）").fill(day_iso(30))
    await page.get_by_role("button", name="发布").click()
    await expect(page.locator("article.item", has_text=title).get_by_text("待认领")).to_be_visible()

    page = await manager.open("/lists")
    item = page.locator("article.item", has_text=title)
    await item.get_by_role("button", name="认领").click()
    await expect(
        page.locator("article.item", has_text=title).get_by_text(f"{partner['name']}认领")
    ).to_be_visible()
    item = page.locator("article.item", has_text=title)
    await item.get_by_label("完成说明").fill("扶手已装好")
    await item.get_by_role("button", name="报告完成").click()
    await expect(page.locator("article.item", has_text=title).get_by_text("已完成")).to_be_visible()
    await manager.screenshot("lists-partner-done")

    page = organiser.page
    await page.reload()
    await page.get_by_role("button", name="生成报告").click()
    row = page.locator("tr", has_text=partner["name"])
    await expect(row).to_have_text(f"{partner['name']}1100")
    await page.locator("article.item", has_text=title).get_by_role("button", name="销号").click()
    await expect(page.locator("article.item", has_text=title).get_by_text("已销号")).to_be_visible()
    await page.get_by_role("button", name="生成报告").click()
    await expect(page.locator("tr", has_text=partner["name"])).to_have_text(f"{partner['name']}1101")
    await expect(page.get_by_role("link", name="下载CSV")).to_be_visible()
    await organiser.screenshot("lists-quarterly-report")
    for someone in (manager, organiser):
        assert not someone.console_errors, someone.console_errors
