"""微信授权登录 in a real browser that says it is WeChat's: the authorisation page WeChat would show
is a local stand-in that sends her straight back (snsapi_base asks nothing). The first time she
proves her phone once; the second visit logs her in without a code."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, expect

from services.common.settings import Settings
from tests.browser.conftest import PHONE, Person, gateway_served
from tests.sms_standins import serving
from tests.wechat_standin import WeChatStandIn

WECHAT_BROWSER = (
    "Mozilla/5.0 (Linux; Android 12; V2141A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/107.0 "
    "Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230202 MicroMessenger/8.0.33.2320(0x28002151) WeChat/arm64"
)


@pytest.fixture
async def in_wechat(browser: Browser) -> AsyncIterator[Any]:
    """People on their phones inside WeChat's browser; closed (and checked for errors) after."""
    made: list[Person] = []

    async def make(base_url: str) -> Person:
        context: BrowserContext = await browser.new_context(
            viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", user_agent=WECHAT_BROWSER
        )
        context.set_default_timeout(15_000)
        someone = Person(context, await context.new_page(), base_url)
        made.append(someone)
        return someone

    yield make
    for someone in made:
        await someone.context.close()
    for someone in made:
        assert not someone.console_errors, someone.console_errors


async def test_a_wechat_authorised_resident_needs_no_code_on_her_second_visit(
    in_wechat: Any, settings: Settings, base_url: str, pool: Any
) -> None:
    standin = WeChatStandIn("wx7c6b5a4d3e2f1a0b", "official-account-secret-for-the-page", {})
    ours = settings.model_copy(
        update={
            "wechat_app_id": standin.app_id,
            "wechat_app_secret": standin.secret,
            "wechat_api_endpoint": standin.url,
            "wechat_oauth_endpoint": standin.url,
        }
    )
    standin.authorising = "oWxPage" + uuid.uuid4().hex[:20]
    async with serving(standin.app(), standin.port), gateway_served(ours) as linli:
        zhao = await in_wechat(linli)
        page = await zhao.open("/")
        wechat_button = page.get_by_role("button", name="微信授权登录")
        await expect(wechat_button).to_be_visible()
        await zhao.screenshot("resident-wechat-login")

        await wechat_button.click()  # to WeChat's page and straight back: first time, prove the phone
        await expect(page.get_by_text("微信已授权。第一次请用手机号和验证码登录")).to_be_visible()
        await expect(wechat_button).to_be_hidden()
        await zhao.logs_in_by_phone(pool)
        await expect(page.get_by_role("tab", name="活动")).to_be_visible()
        assert "wechat=" not in page.url

        await page.get_by_role("button", name="退出").click()
        await expect(wechat_button).to_be_visible()
        await wechat_button.click()  # the second visit: no code
        await expect(page.get_by_role("tab", name="活动")).to_be_visible()
        await expect(page.get_by_label("验证码", exact=True)).to_be_hidden()
        assert standin.answers[40029] == 0  # each code was exchanged once
        await zhao.context.close()  # before its gateway stops: the page keeps a live connection

    # Where no official account is configured, WeChat's browser sees no WeChat button.
    elsewhere = await in_wechat(base_url)
    page = await elsewhere.open("/")
    await expect(page.get_by_role("heading", name="手机号登录")).to_be_visible()
    await expect(page.get_by_role("button", name="微信授权登录")).to_be_hidden()
