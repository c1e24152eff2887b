"""A resident on a slow or failing network, and news that arrives while the page is open: the
button says "正在提交…" while the request is out, a 502 leaves a 重试 button that sends the same
request again (one sign-up, not two), and a promotion shows in 我的报名 within two seconds."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from playwright.async_api import Route, expect

from services.common.settings import Settings
from services.volunteers import codes
from tests.browser.test_resident_page import logged_in_at_a_session
from tests.browser.test_scan_page import volunteer_logs_in_for
from tests.browser.test_station_manual import shift_now
from tests.conftest import COMMUNITY, GraphQLClient

SIGN_UP = "mutation($input: SignUpInput!) { signUp(input: $input) { id status } }"
CANCEL = "mutation($input: CancelSignupInput!) { cancelSignup(input: $input) { id status } }"


async def test_a_slow_sign_up_says_so_and_a_502_offers_a_retry_that_signs_up_once(
    person: Any, festival: Any, pool: Any
) -> None:
    resident, page, session = await logged_in_at_a_session(person, festival, pool)
    keys: list[str] = []
    first_out = asyncio.Event()
    release = asyncio.Event()

    async def slow_then_lost(route: Route) -> None:
        body = route.request.post_data_json
        if "signUp(" not in body["query"]:
            await route.continue_()
            return
        keys.append(body["variables"]["input"]["idempotencyKey"])
        if len(keys) > 1:
            await route.continue_()
            return
        first_out.set()
        await release.wait()  # a slow network: the request is out for as long as the test wants
        await route.fetch()  # it reaches the gateway and the sign-up is made...
        await route.fulfill(status=502, body="Bad Gateway")  # ...but a proxy loses the answer

    await page.route("**/graphql", slow_then_lost)
    await session.get_by_role("button", name="报名").click()
    await session.get_by_role("button", name="确认报名（1人）").click()
    await first_out.wait()
    submitting = session.get_by_role("button", name="正在提交…")
    await expect(submitting).to_be_disabled()
    await resident.screenshot("resident-submitting")
    release.set()

    alert = session.get_by_role("alert")
    await expect(alert).to_contain_text("服务暂时没有回应")
    await expect(alert).not_to_contain_text("502")  # words, not a status code
    retry = alert.get_by_role("button", name="重试")
    await expect(retry).to_be_visible()
    await resident.screenshot("resident-retry")
    await retry.click()
    await expect(session).to_contain_text("报名成功")
    await expect(alert).to_be_hidden()
    assert len(keys) == 2 and keys[0] == keys[1]  # the same request again
    await expect(session).to_contain_text("剩余 19 个名额")  # one seat taken, not two
    session_id = await session.get_attribute("data-session")
    made = await pool.fetchval(
        "SELECT count(*) FROM activities.signups WHERE session_id = $1 AND status <> 'CANCELLED'",
        uuid.UUID(session_id),
    )
    assert made == 1
    await page.unroute("**/graphql")
    resident.console_errors = [e for e in resident.console_errors if "502" not in e]


async def test_a_promotion_shows_in_my_sign_ups_within_two_seconds_without_a_reload(
    person: Any, festival: Any, pool: Any, gql: GraphQLClient, new_resident: Any
) -> None:
    planned = await festival(capacity=1)
    session_id = planned["sessions"]["义诊"]
    _, neighbour = new_resident()
    taken = await gql.ok(
        SIGN_UP, {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}}, neighbour
    )
    assert taken["signUp"]["status"] == "CONFIRMED"

    resident = await person()
    page = await resident.open(f"/?festival={planned['id']}")
    await resident.logs_in_by_phone(pool)
    session = page.locator(f"[data-session='{session_id}']")
    await expect(session).to_contain_text("已满")
    await session.get_by_role("button", name="排队候补").click()
    queue = session.get_by_role("button", name="排队候补（1人）")  # not a green 确认报名
    await expect(queue).to_have_class("wide secondary")
    await queue.click()
    said = session.get_by_role("status")
    await expect(said).to_contain_text("您在候补第 1 位")
    await expect(said).to_contain_text("按排队先后自动为您递补")
    await expect(said).to_have_class("confirm waitlisted")
    await resident.screenshot("resident-waitlisted")

    await page.get_by_role("tab", name="我的报名").click()
    mine = page.locator("#signups .signup")
    await expect(mine).to_contain_text("候补第 1 位")
    await asyncio.sleep(1)  # the page is open and settled; nobody reloads it

    await gql.ok(
        CANCEL, {"input": {"signupId": taken["signUp"]["id"], "idempotencyKey": uuid.uuid4().hex}}, neighbour
    )
    await expect(mine).to_contain_text("已报名", timeout=2000)
    await expect(mine).not_to_contain_text("候补")
    await resident.screenshot("resident-promoted-live")


async def test_on_the_scanner_a_slow_check_in_says_so_and_a_502_is_retried_into_one_check_in(
    person: Any, pool: Any, settings: Settings, gql: GraphQLClient, organiser_token: str
) -> None:
    venue = f"朔方社区邻里驿家 {uuid.uuid4().hex[:4]}"
    shift_id = await shift_now(gql, organiser_token, venue)
    volunteer = await person()
    page = await volunteer_logs_in_for(volunteer, pool, shift_id)
    keys: list[str] = []
    first_out = asyncio.Event()
    release = asyncio.Event()

    async def slow_then_lost(route: Route) -> None:
        body = route.request.post_data_json
        if "checkIn(" not in body["query"]:
            await route.continue_()
            return
        keys.append(body["variables"]["input"]["idempotencyKey"])
        if len(keys) > 1:
            await route.continue_()
            return
        first_out.set()
        await release.wait()
        await route.fetch()  # checked in at the service...
        await route.fulfill(status=502, body="Bad Gateway")  # ...and the answer lost on the way

    await page.route("**/graphql", slow_then_lost)
    digits = codes.station_digits(settings.secret, COMMUNITY, venue, time.time())  # as the station shows
    await page.get_by_label("站点码").fill(f"{digits[:3]} {digits[3:]}")
    await page.get_by_role("button", name="签到", exact=True).click()
    await first_out.wait()
    await expect(page.get_by_role("button", name="正在提交…")).to_be_disabled()
    release.set()
    retry = page.locator("#check-form").get_by_role("button", name="重试")
    await expect(retry).to_be_visible()
    await volunteer.screenshot("scan-retry")
    await retry.click()
    await expect(page.get_by_role("status")).to_contain_text("已签到")
    assert len(keys) == 2 and keys[0] == keys[1]
    visits = await pool.fetchval(
        "SELECT count(*) FROM volunteers.check_ins WHERE shift_id = $1", uuid.UUID(shift_id)
    )
    assert visits == 1
    await page.unroute("**/graphql")
    volunteer.console_errors = [e for e in volunteer.console_errors if "502" not in e]


async def test_on_a_cold_slow_load_the_lists_say_they_are_loading(
    person: Any, festival: Any, pool: Any
) -> None:
    planned = await festival()
    resident = await person()
    page = await resident.open(f"/?festival={planned['id']}")
    release = asyncio.Event()

    async def slow_festival(route: Route) -> None:
        if "festival(id:" in route.request.post_data_json["query"]:
            await release.wait()
        await route.continue_()

    await page.route("**/graphql", slow_festival)
    await resident.logs_in_by_phone(pool)
    for name in ("日期", "地点"):
        await expect(page.get_by_label(name, exact=True)).to_have_text("正在加载…")
    await resident.screenshot("resident-loading")
    release.set()
    await expect(page.get_by_label("日期", exact=True)).to_contain_text("全部")
    await expect(page.locator(f"[data-session='{planned['sessions']['义诊']}']")).to_contain_text("剩余")
    await page.unroute("**/graphql")
