"""A list longer than a page, in a real browser: the console's roster shows the first page and
a 更多 button; the next page lost on its way back leaves a 重试 that fetches it; once the whole
roster is shown the button is gone (README.md, "Pages of a list")."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.async_api import Route, expect

from services.common.actor import ORGANISER, RESIDENT
from services.common.settings import Settings
from services.identity.service import Identity
from tests.browser.conftest import LAPTOP
from tests.conftest import COMMUNITY, SIGN_UP, GraphQLClient, eventually, open_session, token_for
from tests.identity_steps import staff_account

PAGE = 50  # what the console asks for (static/common.js)
SIGNUP = "query($id: ID!) { signup(id: $id) { status } }"


async def signed_up(gql: GraphQLClient, settings: Settings, session_id: str) -> None:
    token = token_for(settings, f"resident-{uuid.uuid4().hex[:8]}", {RESIDENT}, {COMMUNITY})
    made = await gql.ok(
        SIGN_UP, {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}}, token
    )

    async def settled() -> bool:
        found = await gql.ok(SIGNUP, {"id": made["signUp"]["id"]}, token)
        return found["signup"]["status"] == "CONFIRMED"

    assert await eventually(settled)


async def test_an_organiser_reads_a_long_roster_a_page_at_a_time_and_retries_a_lost_page(
    person: Any, pool: Any, redis: Any, settings: Settings, gql: GraphQLClient
) -> None:
    organiser_token = token_for(settings, f"organiser-{uuid.uuid4().hex[:6]}", {ORGANISER}, {COMMUNITY})
    session_id = await open_session(gql, organiser_token, capacity=PAGE + 10, title="社区合唱")
    festival_id = await pool.fetchval(
        "SELECT a.festival_id::text FROM activities.sessions s "
        "JOIN activities.activities a ON a.id = s.activity_id WHERE s.id = $1",
        uuid.UUID(session_id),
    )
    for _ in range(PAGE + 2):
        await signed_up(gql, settings, session_id)

    username, password = await staff_account(Identity(pool, redis, settings), "organiser", COMMUNITY)
    organiser = await person(LAPTOP)
    page = await organiser.open("/console")
    await organiser.logs_in_as_staff(username, password)
    await page.get_by_label("节日", exact=True).select_option(festival_id)
    await (
        page.locator(f'#sessions tbody tr[data-session="{session_id}"]')
        .get_by_role("button", name="名单")
        .click()
    )
    rows = page.locator("#roster-table tbody tr")
    await expect(rows).to_have_count(PAGE)
    more = page.locator("#roster").get_by_role("button", name="更多")
    await expect(more).to_be_visible()

    lost: list[str] = []

    async def lose_the_next_page_once(route: Route) -> None:
        body = route.request.post_data_json
        if not lost and "sessionRoster" in body["query"] and body["variables"].get("after"):
            lost.append(body["variables"]["after"])
            await route.fulfill(status=502, body="Bad Gateway")
            return
        await route.continue_()

    await page.route("**/graphql", lose_the_next_page_once)
    await more.click()
    failed = page.locator("#roster-more-error")
    await expect(failed.get_by_role("button", name="重试")).to_be_visible()
    await expect(rows).to_have_count(PAGE)  # nothing shown twice, nothing lost
    await failed.get_by_role("button", name="重试").click()
    await expect(rows).to_have_count(PAGE + 2)
    await expect(failed).to_be_hidden()
    await expect(more).to_be_hidden()  # the whole roster is shown
    signups = await rows.evaluate_all("rows => rows.map((r) => r.dataset.signup)")
    assert len(set(signups)) == PAGE + 2
    await organiser.screenshot("console-roster-more")
    # the browser reports the 502 the test made; nothing else went wrong
    organiser.console_errors = [e for e in organiser.console_errors if "502" not in e]
