"""Residents' log-in inside WeChat's browser by the official account's web authorisation
(网页授权, ``snsapi_base``: silent, it yields the OpenID and nothing else). The resident is sent
to WeChat's authorisation page, which sends her back with a one-time code; the code buys her
OpenID. An OpenID linked to a resident logs her in; the first time, she proves her phone once
with an SMS code and the OpenID is linked to her.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx

from services.common.errors import Refusal

SCOPE = "snsapi_base"
TIMEOUT_S = 10.0


def authorize_url(oauth_endpoint: str, app_id: str, redirect_uri: str, state: str) -> str:
    """Where WeChat asks (for snsapi_base: without asking) and sends the resident back from."""
    query = urlencode(
        {
            "appid": app_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": SCOPE,
            "state": state,
        }
    )
    return f"{oauth_endpoint.rstrip('/')}/connect/oauth2/authorize?{query}#wechat_redirect"


def authorisation_failed() -> Refusal:
    return Refusal(
        "WECHAT_AUTHORISATION_FAILED",
        "微信授权未成功，请重试，或用手机号和验证码登录",
        "WeChat authorisation did not succeed; try again, or log in with your phone and a code",
    )


def authorisation_expired() -> Refusal:
    return Refusal(
        "WECHAT_AUTHORISATION_EXPIRED",
        "微信授权已过期，请重新点击“微信授权登录”",
        "The WeChat authorisation has expired; tap “Log in with WeChat” again",
    )


async def openid_for(api_endpoint: str, app_id: str, secret: str, code: str) -> str:
    """The OpenID a one-time authorisation code stands for (a used or made-up code: refused)."""
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
        response = await client.get(
            f"{api_endpoint.rstrip('/')}/sns/oauth2/access_token",
            params={"appid": app_id, "secret": secret, "code": code, "grant_type": "authorization_code"},
        )
    try:
        answer: dict[str, Any] = response.json()
    except ValueError as exc:
        raise authorisation_failed() from exc
    openid = answer.get("openid")
    if not isinstance(openid, str) or not openid:
        raise authorisation_failed()
    return openid
