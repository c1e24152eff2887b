"""Residents' log-in by WeChat web authorisation (issue 24): the first time she comes back from
WeChat she proves her phone once with an SMS code and her OpenID is linked; the next time WeChat
alone logs her in. WeChat's authorisation page and its code exchange are a local stand-in
(tests/wechat_standin.py); without an AppID configured there is no WeChat log-in at all.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from services.common.settings import Settings
from services.gateway.app import create_app
from services.identity.privacy_notice import VERSION
from tests.conftest import GraphQLClient
from tests.identity_steps import REQUEST_CODE, new_phone, texted_code
from tests.sms_standins import serving
from tests.wechat_standin import WeChatStandIn

# She accepts the privacy notice in force as she logs in (the page's log-in says so).
LOG_IN = (
    f'mutation($phone: String!, $code: String!, $notice: String = "{VERSION}") '
    "{ logIn(phone: $phone, code: $code, privacyNoticeVersion: $notice) { me { id } } }"
)
ME = "{ me { id phone } }"


@pytest.fixture
async def wechat(
    settings: Settings, workers: None
) -> AsyncIterator[tuple[WeChatStandIn, httpx.AsyncClient, httpx.ASGITransport]]:
    """The stand-in, and a gateway of the run's database and workers with an official account."""
    standin = WeChatStandIn("wx0a1b2c3d4e5f6a7b", "official-account-secret-for-log-in", {})
    ours = settings.model_copy(
        update={
            "wechat_app_id": standin.app_id,
            "wechat_app_secret": standin.secret,
            "wechat_api_endpoint": standin.url,
            "wechat_oauth_endpoint": standin.url,
        }
    )
    app = create_app(ours)
    async with serving(standin.app(), standin.port), app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://linli.test") as http:
            yield standin, http, transport


async def through_wechat(standin: WeChatStandIn, http: httpx.AsyncClient, openid: str) -> httpx.Response:
    """Tap 微信授权登录: to WeChat's page (the stand-in) and back; the gateway's last answer."""
    going = await http.get("/auth/wechat")
    assert going.status_code == 302
    authorize = going.headers["location"]
    assert authorize.startswith(f"{standin.url}/connect/oauth2/authorize?") and authorize.endswith(
        "#wechat_redirect"
    )
    asked = parse_qs(urlsplit(authorize).query)
    assert asked["scope"] == ["snsapi_base"] and asked["appid"] == [standin.app_id]
    assert asked["redirect_uri"] == ["http://linli.test/auth/wechat/back"]
    standin.authorising = openid
    async with httpx.AsyncClient() as wechat_browser:
        wechat_page = await wechat_browser.get(authorize.removesuffix("#wechat_redirect"))
    assert wechat_page.status_code == 302
    back = urlsplit(wechat_page.headers["location"])
    return await http.get(f"{back.path}?{back.query}")


async def logs_in_by_phone(gql: GraphQLClient, pool: Any, phone: str, nth: int = 1) -> str:
    await gql.ok(REQUEST_CODE, {"phone": phone})
    code = await texted_code(pool, phone, nth)
    resident: str = (await gql.ok(LOG_IN, {"phone": phone, "code": code}))["logIn"]["me"]["id"]
    return resident


async def test_the_second_visit_from_wechat_needs_no_code(
    wechat: tuple[WeChatStandIn, httpx.AsyncClient, httpx.ASGITransport], pool: Any
) -> None:
    standin, http, _ = wechat
    gql = GraphQLClient(http)
    openid, phone = "oWx" + uuid.uuid4().hex[:25], new_phone()
    assert (await gql.ok("{ wechatLogInAvailable }"))["wechatLogInAvailable"] is True

    first = await through_wechat(standin, http, openid)
    assert (first.status_code, first.headers["location"]) == (303, "/?wechat=linking")
    assert "linli_token" not in first.headers.get("set-cookie", "")
    assert "wechat" not in first.headers["location"].replace("wechat=linking", "")  # no ticket in the URL
    me = await logs_in_by_phone(gql, pool, phone)  # proves her phone once: WeChat is linked
    assert "linli_wechat" not in http.cookies
    http.cookies.clear()

    again = await through_wechat(standin, http, openid)
    assert (again.status_code, again.headers["location"]) == (303, "/")
    mine = {"id": me, "phone": f"{phone[:3]}****{phone[-4:]}"}
    assert (await gql.ok(ME))["me"] == mine  # by the cookie alone
    http.cookies.clear()
    audit = await pool.fetch(
        "SELECT details FROM identity.audit_log WHERE actor_id = $1 AND action = 'resident.logged_in' "
        "ORDER BY at, id",
        me,
    )
    assert [dict(r["details"]).get("via") for r in audit] == [None, "wechat"]


async def test_a_link_prepared_by_someone_else_neither_logs_her_in_nor_links_their_wechat(
    wechat: tuple[WeChatStandIn, httpx.AsyncClient, httpx.ASGITransport], pool: Any
) -> None:
    standin, attacker, transport = wechat
    # The attacker goes to WeChat and stops before coming back: the way back is in his hands.
    going = await attacker.get("/auth/wechat")
    standin.authorising = "oWxAttacker" + uuid.uuid4().hex[:16]
    async with httpx.AsyncClient() as wechat_browser:
        wechat_page = await wechat_browser.get(going.headers["location"].removesuffix("#wechat_redirect"))
    back = urlsplit(wechat_page.headers["location"])

    # The same gateway, another browser: hers, without his cookies.
    async with httpx.AsyncClient(transport=transport, base_url="http://linli.test") as hers:
        lured = await hers.get(f"{back.path}?{back.query}")
        assert lured.headers["location"] == "/?wechat_failed=WECHAT_AUTHORISATION_EXPIRED"
        assert "linli_wechat=" not in lured.headers.get("set-cookie", "")
        gql = GraphQLClient(hers)
        phone = new_phone()
        her_id = await logs_in_by_phone(gql, pool, phone)
    linked = await pool.fetchval(
        "SELECT count(*) FROM identity.wechat_accounts WHERE resident_id = $1", uuid.UUID(her_id)
    )
    assert linked == 0
    forged = await attacker.get("/auth/wechat/back?code=whatever&state=made-up")
    assert forged.headers["location"] == "/?wechat_failed=WECHAT_AUTHORISATION_EXPIRED"


async def test_without_an_official_account_there_is_no_wechat_log_in(client: httpx.AsyncClient) -> None:
    gql = GraphQLClient(client)
    assert (await gql.ok("{ wechatLogInAvailable }"))["wechatLogInAvailable"] is False
    assert (await client.get("/auth/wechat")).status_code == 404
    assert (await client.get("/auth/wechat/back?code=x&state=y")).status_code == 404
