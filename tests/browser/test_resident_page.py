"""The residents' mini-page in a real browser: log in by phone, sign up the family, cancel, inbox."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import uuid
from typing import Any

import PIL.Image
import zxingcpp
from playwright.async_api import Route, expect

from tests.conftest import GraphQLClient
from tests.dates import FESTIVAL_DAY, at, at_iso, day_iso, utc_stamp


def decoded(data_url: str | None) -> str:
    """What a scanner reads from a QR image given as a data URL."""
    assert data_url and data_url.startswith("data:image/png;base64,")
    image = PIL.Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1])))
    [found] = zxingcpp.read_barcodes(image)
    text: str = found.text
    return text


async def test_a_resident_signs_up_a_family_of_three_and_reads_the_confirmation(
    person: Any, festival: Any, pool: Any
) -> None:
    planned = await festival(capacity=20)
    resident = await person()
    page = await resident.open(f"/?festival={planned['id']}")
    await expect(page.get_by_role("heading", name="手机号登录")).to_be_visible()
    await resident.screenshot("resident-login")

    phone = await resident.logs_in_by_phone(pool)

    await page.get_by_role("tab", name="我的", exact=True).click()
    family = page.locator("#member-form")
    for name, relation, age in (("王芳", "SPOUSE", "ADULT"), ("王小明", "CHILD", "CHILD")):
        await family.get_by_label("姓名").fill(name)
        await family.get_by_label("关系").select_option(relation)
        await family.get_by_label("年龄段").select_option(age)
        if age == "CHILD":  # a child only with the guardian's consent, asked for beside the age
            await family.get_by_label("我是其监护人，同意登记这位未成年家人的信息").check()
        await family.get_by_role("button", name="添加", exact=True).click()
        await expect(page.locator(".member", has_text=name)).to_be_visible()

    await page.get_by_role("tab", name="活动").click()
    session = page.locator(f"[data-session='{planned['sessions']['义诊']}']")
    await expect(session).to_contain_text("剩余 20 个名额")
    await resident.screenshot("resident-activities")
    await session.get_by_role("button", name="报名").click()
    confirm = session.get_by_role("button", name="确认报名（3人）")
    await resident.screenshot("resident-sign-up-family")
    await confirm.click()
    await expect(session).to_contain_text("报名成功")
    await expect(session).to_contain_text("剩余 17 个名额")
    await expect(session.locator("[data-status=CONFIRMED]")).to_be_visible()

    await page.get_by_role("tab", name="我的报名").click()
    signup = page.locator(".signup", has_text="义诊")
    await expect(signup).to_contain_text("已报名")
    await expect(signup).to_contain_text("共 3 人")
    await signup.get_by_role("button", name="出示入场码").click()
    ticket = signup.get_by_role("img", name="入场二维码")
    await expect(ticket).to_be_visible()
    assert decoded(await ticket.get_attribute("src")) == await signup.locator(".code-text").inner_text()
    await resident.screenshot("resident-my-signups")
    async with page.expect_download() as calendar:
        await page.get_by_role("link", name="加入手机日历").click()
    ics = (await (await calendar.value).path()).read_text(encoding="utf-8")
    assert ics.count("BEGIN:VEVENT") == 1 and f"DTSTART:{utc_stamp(at(FESTIVAL_DAY, '09:00'))}" in ics

    await page.get_by_role("tab", name="消息").click()
    message = page.locator(".message[data-kind='signup.confirmed']")
    await expect(message).to_contain_text("报名成功")  # the notify worker's message reaches the page
    await resident.screenshot("resident-inbox")

    await page.get_by_role("tab", name="我的", exact=True).click()
    await page.get_by_role("checkbox", name="短信").check()
    await page.get_by_label("接收短信的手机号").fill(phone)
    await page.get_by_label("免打扰开始").fill("22:00")
    await page.get_by_role("button", name="保存通知设置").click()
    await expect(page.locator("#prefs-form [role=status]")).to_have_text("已保存")
    await resident.screenshot("resident-me")
    await page.reload()
    await page.get_by_role("tab", name="我的", exact=True).click()
    await expect(page.get_by_role("checkbox", name="短信")).to_be_checked()
    await expect(page.get_by_label("免打扰开始")).to_have_value("22:00")

    await page.get_by_role("button", name="English").click()
    await expect(page.get_by_role("tab", name="Inbox")).to_be_visible()
    await expect(page.get_by_role("tab", name="Me")).to_be_visible()
    await page.get_by_role("tab", name="Sign-ups").click()
    await expect(page.locator(".signup", has_text="义诊")).to_contain_text("Signed up")
    await resident.screenshot("resident-my-signups-en")


async def test_a_resident_cancels_after_the_access_token_lapsed_and_the_seats_come_back(
    person: Any, festival: Any, pool: Any
) -> None:
    planned = await festival(capacity=1)
    resident = await person()
    page = await resident.open(f"/?festival={planned['id']}")
    await resident.logs_in_by_phone(pool)

    session = page.locator(f"[data-session='{planned['sessions']['包饺子']}']")
    await session.get_by_role("button", name="报名").click()
    await session.get_by_role("button", name="确认报名（1人）").click()
    await expect(session).to_contain_text("已满 · 0 人候补")

    # The 15-minute access cookie is gone (the page stayed open); the refresh cookie renews it.
    await resident.context.clear_cookies(name="linli_token")
    await page.get_by_role("tab", name="我的报名").click()
    signup = page.locator(".signup", has_text="包饺子")
    await signup.get_by_role("button", name="取消报名").click()
    await signup.get_by_role("button", name="确认取消？").click()
    await expect(page.locator(".signup", has_text="包饺子")).to_contain_text("已取消")

    await page.get_by_role("tab", name="活动").click()
    await expect(session).to_contain_text("剩余 1 个名额")


async def logged_in_at_a_session(person: Any, festival: Any, pool: Any) -> tuple[Any, Any, Any]:
    """A resident logged in on a festival's page: (resident, page, the 义诊 session's card)."""
    planned = await festival(capacity=20)
    resident = await person()
    page = await resident.open(f"/?festival={planned['id']}")
    await resident.logs_in_by_phone(pool)
    return resident, page, page.locator(f"[data-session='{planned['sessions']['义诊']}']")


async def test_a_lost_answer_is_retried_with_the_same_key_and_makes_one_signup(
    person: Any, festival: Any, pool: Any
) -> None:
    resident, page, session = await logged_in_at_a_session(person, festival, pool)
    keys: list[str] = []
    released = asyncio.Event()

    async def lose_the_first_answer(route: Route) -> None:
        body = route.request.post_data_json
        if "signUp(" not in body["query"]:
            await route.continue_()
            return
        keys.append(body["variables"]["input"]["idempotencyKey"])
        answer = await route.fetch()  # the sign-up reaches the gateway and is made...
        if len(keys) == 1:
            await released.wait()
            await route.abort("connectionreset")  # ...but its answer never reaches the phone
        else:
            await route.fulfill(response=answer)

    await page.route("**/graphql", lose_the_first_answer)
    await session.get_by_role("button", name="报名").click()
    confirm = session.get_by_role("button", name="确认报名（1人）")
    await confirm.click()
    # no second tap while the first is in flight, and the button says why
    await expect(session.get_by_role("button", name="正在提交…")).to_be_disabled()
    released.set()
    await expect(session.get_by_role("alert")).to_contain_text("网络连接失败")
    await expect(confirm).to_be_enabled()

    await confirm.click()
    await expect(session).to_contain_text("报名成功")
    assert len(keys) == 2 and keys[0] == keys[1]
    await expect(session).to_contain_text("剩余 19 个名额")  # one seat taken, not two
    await page.unroute("**/graphql")
    # The browser logs the connection we cut; nothing else may go wrong.
    resident.console_errors = [e for e in resident.console_errors if "ERR_CONNECTION_RESET" not in e]


async def test_a_sign_up_refused_during_an_outage_is_sent_again_with_the_same_key(
    person: Any, festival: Any, pool: Any
) -> None:
    _, page, session = await logged_in_at_a_session(person, festival, pool)
    keys: list[str] = []
    outage = {
        "data": None,
        "errors": [
            {
                "message": "服务暂时不可用 / Service unavailable",
                "extensions": {
                    "code": "SERVICE_UNAVAILABLE",
                    "messageZh": "服务暂时不可用，请稍后重试",
                    "messageEn": "Service temporarily unavailable; please retry",
                },
            }
        ],
    }

    async def refuse_the_first(route: Route) -> None:
        body = route.request.post_data_json
        if "signUp(" not in body["query"]:
            await route.continue_()
            return
        keys.append(body["variables"]["input"]["idempotencyKey"])
        if len(keys) == 1:  # what the gateway answers while Redis or PostgreSQL is away
            await route.fulfill(status=200, content_type="application/json", body=json.dumps(outage))
        else:
            await route.continue_()

    await page.route("**/graphql", refuse_the_first)
    await session.get_by_role("button", name="报名").click()
    confirm = session.get_by_role("button", name="确认报名（1人）")
    await confirm.click()
    await expect(session.get_by_role("alert")).to_contain_text("服务暂时不可用")

    await confirm.click()
    await expect(session).to_contain_text("报名成功")
    assert len(keys) == 2 and keys[0] == keys[1]  # a retry, not a second sign-up
    await page.unroute("**/graphql")


ADD_MEMBER = """
mutation($name: String!) {
  addHouseholdMember(name: $name, relation: CHILD, ageBand: CHILD, guardianConsent: true) { id }
}
"""
SCHEDULE = "mutation($input: ScheduleSessionInput!) { scheduleSession(input: $input) { id } }"


async def test_sign_ups_not_yet_open_and_parties_over_the_limit_are_stopped_before_sending(
    person: Any, festival: Any, pool: Any, gql: GraphQLClient, organiser_token: str
) -> None:
    planned = await festival()
    activity = await gql.ok(
        "query($id: ID!) { session(id: $id) { activityId } }", {"id": planned["sessions"]["包饺子"]}
    )
    for opens, limit in ((at_iso(3, "08:00"), 10), (None, 2)):
        await gql.ok(
            SCHEDULE,
            {
                "input": {
                    "activityId": activity["session"]["activityId"],
                    "venue": "西苑广场",
                    "startsAt": at_iso(FESTIVAL_DAY + 1, "14:00" if opens else "16:00"),
                    "endsAt": at_iso(FESTIVAL_DAY + 1, "16:00" if opens else "18:00"),
                    "capacity": 10,
                    "registrationOpensAt": opens,
                    "maxPartySize": limit,
                }
            },
            organiser_token,
        )
    resident = await person()
    page = await resident.open(f"/?festival={planned['id']}")
    await resident.logs_in_by_phone(pool)
    await expect(page.get_by_role("tab", name="活动")).to_be_visible()
    for child in ("小明", "小红"):
        answer = await page.request.post(
            resident.base_url + "/graphql", data={"query": ADD_MEMBER, "variables": {"name": child}}
        )
        assert "errors" not in await answer.json()
    await page.reload()

    await page.get_by_label("日期").select_option(day_iso(FESTIVAL_DAY + 1))
    await page.get_by_label("地点").select_option("西苑广场")
    not_yet = page.locator(".session", has_text="14:00–16:00")
    await expect(not_yet).to_contain_text("开始报名")
    await expect(not_yet.get_by_role("button")).to_have_count(0)

    limited = page.locator(".session", has_text="16:00–18:00")
    await limited.get_by_role("button", name="报名").click()
    confirm = limited.get_by_role("button", name="确认报名（3人）")
    await expect(confirm).to_be_disabled()
    await expect(limited).to_contain_text("每次报名最多 2 人")
    await limited.get_by_label("小红").uncheck()
    await limited.get_by_role("button", name="确认报名（2人）").click()
    await expect(limited).to_contain_text("报名成功")


async def test_a_sign_up_still_queued_shows_as_processing_until_its_answer_arrives(
    person: Any, festival: Any, pool: Any
) -> None:
    planned = await festival(capacity=20)
    resident = await person()
    page = await resident.open(f"/?festival={planned['id']}")
    await resident.logs_in_by_phone(pool)

    keys: list[str] = []

    async def answer_pending(route: Route) -> None:
        """The first answer is the gateway's when the worker has not replied in time: PENDING."""
        response = await route.fetch()
        body = await response.json()
        sent = route.request.post_data_json
        if "signUp(" in sent["query"]:
            keys.append(sent["variables"]["input"]["idempotencyKey"])
            if len(keys) == 1:
                body["data"]["signUp"]["status"] = "PENDING"
        await route.fulfill(response=response, json=body)

    await page.route("**/graphql", answer_pending)
    session = page.locator(f"[data-session='{planned['sessions']['包饺子']}']")
    await session.get_by_role("button", name="报名").click()
    await session.get_by_role("button", name="确认报名（1人）").click()
    await expect(session).to_contain_text("报名处理中")
    await expect(session).to_contain_text("报名成功")
    # It asked again with the same key: the stored answer, which would carry a refusal too.
    assert len(keys) >= 2 and len(set(keys)) == 1
    await page.unroute("**/graphql")


async def test_seats_taken_by_a_neighbour_show_on_an_open_page_without_a_reload(
    person: Any, festival: Any, pool: Any, gql: GraphQLClient, new_resident: Any
) -> None:
    planned = await festival(capacity=20)
    resident = await person()
    await resident.page.clock.install()  # the page's timers run when the test moves the clock
    page = await resident.open(f"/?festival={planned['id']}")
    await resident.logs_in_by_phone(pool)
    session = page.locator(f"[data-session='{planned['sessions']['义诊']}']")
    await expect(session).to_contain_text("剩余 20 个名额")

    _, neighbour = new_resident()
    await gql.ok(
        "mutation($input: SignUpInput!) { signUp(input: $input) { status } }",
        {"input": {"sessionId": planned["sessions"]["义诊"], "idempotencyKey": uuid.uuid4().hex}},
        neighbour,
    )
    await page.clock.run_for(21_000)
    await expect(session).to_contain_text("剩余 19 个名额")
