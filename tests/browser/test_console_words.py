"""The console in words: each session's phase (a session a week away is not "进行中"), only the
actions the staff's role allows on it, and a create confirmed by what now exists."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.async_api import expect

from services.common.actor import ORGANISER, PLATFORM_ADMIN
from services.common.settings import Settings
from services.identity.service import Identity
from tests.browser.conftest import LAPTOP
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, GraphQLClient, token_for
from tests.dates import FESTIVAL_DAY, at_iso, day_iso
from tests.identity_steps import staff_account

CREATE_FESTIVAL = "mutation($input: CreateFestivalInput!) { createFestival(input: $input) { id } }"
CREATE_ACTIVITY = "mutation($input: CreateActivityInput!) { createActivity(input: $input) { id } }"
SCHEDULE = "mutation($input: ScheduleSessionInput!) { scheduleSession(input: $input) { id } }"
SIGN_UP = "mutation($input: SignUpInput!) { signUp(input: $input) { status } }"


async def session_of(
    gql: GraphQLClient, token: str, festival_id: str, community: str, title: str, clock: str, **more: Any
) -> str:
    activity = await gql.ok(
        CREATE_ACTIVITY,
        {"input": {"festivalId": festival_id, "communityId": community, "title": title}},
        token,
    )
    start, end = clock.split("-")
    made = await gql.ok(
        SCHEDULE,
        {
            "input": {
                "activityId": activity["createActivity"]["id"],
                "venue": f"{title}的场地",
                "startsAt": at_iso(FESTIVAL_DAY, start),
                "endsAt": at_iso(FESTIVAL_DAY, end),
                "capacity": more.pop("capacity", 20),
                **more,
            }
        },
        token,
    )
    session_id: str = made["scheduleSession"]["id"]
    return session_id


async def test_phases_a_week_ahead_actions_by_role_and_creates_said_in_words(
    person: Any, pool: Any, redis: Any, settings: Settings, gql: GraphQLClient, new_resident: Any
) -> None:
    admin = token_for(settings, f"platform-{uuid.uuid4().hex[:6]}", {PLATFORM_ADMIN}, set())
    ours = token_for(settings, f"organiser-{uuid.uuid4().hex[:6]}", {ORGANISER}, {COMMUNITY})
    theirs = token_for(settings, f"organiser-{uuid.uuid4().hex[:6]}", {ORGANISER}, {OTHER_COMMUNITY})
    name = f"两社区联合邻里节 {uuid.uuid4().hex[:4]}"
    made = await gql.ok(
        CREATE_FESTIVAL,
        {
            "input": {
                "name": name,
                "communityIds": [COMMUNITY, OTHER_COMMUNITY],
                "startsOn": day_iso(FESTIVAL_DAY),
                "endsOn": day_iso(FESTIVAL_DAY + 1),
            }
        },
        admin,
    )
    festival_id = made["createFestival"]["id"]
    open_now = await session_of(gql, ours, festival_id, COMMUNITY, "义诊", "09:00-11:00")
    opens_later = await session_of(
        gql, ours, festival_id, COMMUNITY, "剪纸", "14:00-16:00", registrationOpensAt=at_iso(FESTIVAL_DAY - 2)
    )
    full = await session_of(gql, ours, festival_id, COMMUNITY, "书法", "16:00-17:00", capacity=1)
    _, resident = new_resident()
    await gql.ok(SIGN_UP, {"input": {"sessionId": full, "idempotencyKey": uuid.uuid4().hex}}, resident)
    elsewhere = await session_of(gql, theirs, festival_id, OTHER_COMMUNITY, "包饺子", "10:00-12:00")

    username, password = await staff_account(Identity(pool, redis, settings), "organiser", COMMUNITY)
    organiser = await person(LAPTOP)
    page = await organiser.open("/console")
    await organiser.logs_in_as_staff(username, password)
    await page.get_by_label("节日", exact=True).select_option(festival_id)
    row = lambda session_id: page.locator(f"#sessions tr[data-session='{session_id}']")  # noqa: E731
    await expect(row(open_now)).to_contain_text("报名中")
    await expect(row(opens_later)).to_contain_text("未开始")
    await expect(row(full)).to_contain_text("已满")
    for session_id in (open_now, opens_later, full, elsewhere):
        await expect(row(session_id)).not_to_contain_text("进行中")
    await expect(row(open_now).get_by_role("button", name="改名额")).to_be_visible()
    # another community's session in the shared festival: its phase, and nothing to press
    await expect(row(elsewhere)).to_contain_text("报名中")
    await expect(row(elsewhere).get_by_role("button")).to_have_count(0)

    await row(open_now).get_by_role("button", name="改名额").click()
    await row(open_now).get_by_label("新名额").fill("25")
    await row(open_now).get_by_role("button", name="确认修改").click()
    await expect(row(open_now).get_by_role("status")).to_have_text("已将名额改为 25 个。")

    await page.get_by_label("活动名称").fill("太极拳")
    await page.get_by_role("button", name="创建活动").click()
    await expect(page.locator("#activity-form").get_by_role("status")).to_have_text("已创建活动「太极拳」。")
    await organiser.screenshot("console-phases")
