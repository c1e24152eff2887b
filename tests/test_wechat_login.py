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
from tests.conftest import GraphQLClient
from tests.identity_steps import REQUEST_CODE, new_phone, texted_code
from tests.sms_standins import serving
from tests.wechat_standin import WeChatStandIn

LOG_IN_LINKING = """
mutation($phone: String!, $code: String!, $ticket: String) {
  logIn(phone: $phone, code: $code, wechatTicket: $ticket) { me { id } }
}
"""
ME = "{ me { id phone } }"


@pytest.fixture
async def wechat(settings: Settings, workers: None) -> AsyncIterator[tuple[WeChatStandIn, httpx.AsyncClient]]:
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
            yield standin, http


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
    async with httpx.AsyncClient() as browser:
        wechat_page = await browser.get(authorize.removesuffix("#wechat_redirect"))
    assert wechat_page.status_code == 302
    back = urlsplit(wechat_page.headers["location"])
    return await http.get(f"{back.path}?{back.query}")


async def test_the_second_visit_from_wechat_needs_no_code(
    wechat: tuple[WeChatStandIn, httpx.AsyncClient], pool: Any
) -> None:
    standin, http = wechat
    gql = GraphQLClient(http)
    openid, phone = "oWx" + uuid.uuid4().hex[:25], new_phone()
    assert (await gql.ok("{ wechatLogInAvailable }"))["wechatLogInAvailable"] is True

    first = await through_wechat(standin, http, openid)
    assert first.status_code == 303 and "linli_token" not in first.headers.get("set-cookie", "")
    (ticket,) = parse_qs(urlsplit(first.headers["location"]).query)["wechat"]
    await gql.ok(REQUEST_CODE, {"phone": phone})
    code = await texted_code(pool, phone)
    me = (await gql.ok(LOG_IN_LINKING, {"phone": phone, "code": code, "ticket": ticket}))["logIn"]["me"]
    http.cookies.clear()

    again = await through_wechat(standin, http, openid)
    assert (again.status_code, again.headers["location"]) == (303, "/")
    assert (await gql.ok(ME))["me"] == {"id": me["id"], "phone": f"{phone[:3]}****{phone[-4:]}"}  # by cookie
    http.cookies.clear()

    # Someone else's WeChat is not hers; a ticket works once; a state not sent by us is refused.
    stranger = await through_wechat(standin, http, "oWx" + uuid.uuid4().hex[:25])
    assert "wechat=" in stranger.headers["location"] and "linli_token" not in stranger.headers.get(
        "set-cookie", ""
    )
    reused = {"phone": new_phone(), "code": "123456", "ticket": ticket}  # refused before any code
    assert await gql.error_code(LOG_IN_LINKING, reused) == "WECHAT_AUTHORISATION_EXPIRED"
    forged = await http.get("/auth/wechat/back?code=whatever&state=made-up")
    assert forged.headers["location"] == "/?wechat_failed=WECHAT_AUTHORISATION_EXPIRED"
    audit = await pool.fetch(
        "SELECT details FROM identity.audit_log WHERE actor_id = $1 AND action = 'resident.logged_in'",
        me["id"],
    )
    assert [dict(r["details"]).get("via") for r in audit].count("wechat") == 1


async def test_without_an_official_account_there_is_no_wechat_log_in(client: httpx.AsyncClient) -> None:
    gql = GraphQLClient(client)
    assert (await gql.ok("{ wechatLogInAvailable }"))["wechatLogInAvailable"] is False
    assert (await client.get("/auth/wechat")).status_code == 404
    assert (await client.get("/auth/wechat/back?code=x&state=y")).status_code == 404
