"""Browser fixtures: Debian's chromium, driven by playwright, against the real gateway.

The gateway runs under uvicorn in a thread of its own (its own event loop, pool and Redis
client; it shares only the settings); the real workers run in the test loop as everywhere
else. ``playwright install`` cannot download browsers here, so the tests use
``/usr/bin/chromium`` (``make test`` installs it) and say so loudly if it is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import threading
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright, expect

from services.common.settings import Settings
from services.gateway.app import create_app
from tests.conftest import COMMUNITY, ROOT, GraphQLClient
from tests.dates import FESTIVAL_DAY, at_input, day_iso, minutes_from_now
from tests.identity_steps import new_phone, texted_code

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HAVE_CHROMIUM = CHROMIUM.exists()
# How long an expectation waits for the page (not a time the page must meet): as long as the
# context's actions wait. Playwright's 5 s was met by a wish's answer on a machine running two
# suites at once (a command, its worker and the page's poll share two cores).
expect.set_options(timeout=15_000)
# Every run saves its screenshots under .linli/ (out of git); `make screenshots` runs the
# browser tests with LINLI_SCREENSHOTS=docs to refresh the README's copies in docs/screenshots.
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("LINLI_SCREENSHOTS") == "docs"
    else ROOT / ".linli" / "screenshots"
)
BEIJING = ZoneInfo("Asia/Shanghai")
PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1280, "height": 800}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
async def base_url(settings: Settings, workers: None) -> AsyncIterator[str]:
    """The real gateway app served over HTTP by uvicorn in its own thread and loop."""
    async with gateway_served(settings) as url:
        yield url


@contextlib.asynccontextmanager
async def gateway_served(settings: Settings) -> AsyncIterator[str]:
    """A gateway with these settings under uvicorn in a thread of its own: its URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="browser-test-gateway", daemon=True)
    thread.start()
    for _ in range(200):
        if server.started or not thread.is_alive():
            break
        await asyncio.sleep(0.05)
    assert server.started, "the gateway did not start under uvicorn"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.to_thread(thread.join)  # off the loop: the gateway may wait on its workers


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    if not HAVE_CHROMIUM:
        line = "!" * 78
        message = (
            f"\n{line}\nBROWSER TESTS SKIPPED: /usr/bin/chromium is missing and could not be installed.\n"
            f"Run `apt-get install -y chromium` as root (make test does this when it can).\n{line}"
        )
        print(message, file=sys.stderr)
        pytest.skip(message)
    async with async_playwright() as running:
        yield running


async def launch(playwright: Playwright, *extra_args: str) -> Browser:
    return await playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args])


@pytest.fixture(scope="session")
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    launched = await launch(playwright)
    yield launched
    await launched.close()


class Person:
    """One person at one device: their own browser context (cookies) and page."""

    def __init__(self, context: BrowserContext, page: Page, base_url: str) -> None:
        self.context = context
        self.page = page
        self.base_url = base_url
        self.console_errors: list[str] = []
        page.on("console", lambda message: self._console(message))
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    async def open(self, path: str) -> Page:
        await self.page.goto(self.base_url + path)
        return self.page

    async def logs_in_by_phone(self, pool: Any) -> str:
        """On the open page: ask for a code, read it from the SMS outbox, log in. The phone number."""
        phone = new_phone()
        await self.page.get_by_label("手机号", exact=True).fill(phone)
        await self.page.get_by_role("button", name="获取验证码").click()
        await expect(self.page.get_by_text("验证码已发送")).to_be_visible()
        await self.page.get_by_label("验证码", exact=True).fill(await texted_code(pool, phone))
        await self.page.get_by_role("button", name="登录", exact=True).click()
        return phone

    async def logs_in_as_staff(self, username: str, password: str) -> None:
        """On the open page's staff log-in form."""
        await self.page.get_by_label("用户名", exact=True).fill(username)
        await self.page.get_by_label("密码", exact=True).fill(password)
        await self.page.get_by_role("button", name="登录", exact=True).click()

    async def screenshot(self, name: str) -> None:
        """The page as it is now at phone and laptop widths (see SCREENSHOTS)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        before = self.page.viewport_size
        await self.page.evaluate("window.scrollTo(0, 0)")
        for size in (PHONE, LAPTOP):
            await self.page.set_viewport_size(size)
            await self.page.screenshot(path=SCREENSHOTS / f"{name}-{size['width']}.png", full_page=True)
        if before:
            await self.page.set_viewport_size(before)


@pytest.fixture
async def person(browser: Browser, base_url: str) -> AsyncIterator[Any]:
    """Make people, each on a phone-sized screen with their own cookies; closed after the test."""
    made: list[Person] = []

    async def make(viewport: dict[str, int] = PHONE, on: Browser | None = None) -> Person:
        chosen = on or browser
        context = await chosen.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(15_000)
        someone = Person(context, await context.new_page(), base_url)
        made.append(someone)
        return someone

    yield make
    for someone in made:
        await someone.context.close()
    for someone in made:
        assert not someone.console_errors, someone.console_errors


CREATE_FESTIVAL = """
mutation($input: CreateFestivalInput!) { createFestival(input: $input) { id } }
"""
CREATE_ACTIVITY = """
mutation($input: CreateActivityInput!) { createActivity(input: $input) { id } }
"""
SCHEDULE_SESSION = """
mutation($input: ScheduleSessionInput!) { scheduleSession(input: $input) { id } }
"""


@pytest.fixture
def festival(gql: GraphQLClient, organiser_token: str) -> Any:
    """A festival with a few activities and sessions on two days at two venues, via the API."""

    async def make(capacity: int = 20, opening_soon: bool = False) -> dict[str, Any]:
        """With ``opening_soon``, also an opening ceremony starting in half an hour (doors are open)."""
        made = await gql.ok(
            CREATE_FESTIVAL,
            {
                "input": {
                    "name": f"第四届幸福邻里节 {uuid.uuid4().hex[:4]}",
                    "communityIds": [COMMUNITY],
                    "startsOn": day_iso(FESTIVAL_DAY),
                    "endsOn": day_iso(FESTIVAL_DAY + 1),
                }
            },
            organiser_token,
        )
        festival_id = made["createFestival"]["id"]
        sessions: dict[str, str] = {}
        day1, day2 = FESTIVAL_DAY, FESTIVAL_DAY + 1
        plan = [
            ("义诊", "测血压、量血糖", "朔方社区邻里驿家", at_input(day1, "09:00"), at_input(day1, "11:00")),
            ("义诊", "测血压、量血糖", "朔方社区邻里驿家", at_input(day2, "09:00"), at_input(day2, "11:00")),
            (
                "包饺子",
                "邻里一起包饺子，老少皆宜",
                "西苑广场",
                at_input(day1, "14:00"),
                at_input(day1, "16:00"),
            ),
        ]
        if opening_soon:
            starts = minutes_from_now(30)
            ends = starts + timedelta(hours=2)
            plan.append(("开幕式", "", "朔方社区邻里驿家", starts.isoformat()[:16], ends.isoformat()[:16]))
        activities: dict[str, str] = {}
        for title, description, venue, starts, ends in plan:
            if title not in activities:
                activity = await gql.ok(
                    CREATE_ACTIVITY,
                    {
                        "input": {
                            "festivalId": festival_id,
                            "communityId": COMMUNITY,
                            "title": title,
                            "description": description,
                        }
                    },
                    organiser_token,
                )
                activities[title] = activity["createActivity"]["id"]
            session = await gql.ok(
                SCHEDULE_SESSION,
                {
                    "input": {
                        "activityId": activities[title],
                        "venue": venue,
                        "startsAt": f"{starts}:00+08:00",
                        "endsAt": f"{ends}:00+08:00",
                        "capacity": capacity,
                    }
                },
                organiser_token,
            )
            sessions.setdefault(title, session["scheduleSession"]["id"])
        return {"id": festival_id, "sessions": sessions}

    return make
