"""WeChat subscription messages of the official account (公众号订阅通知, ``subscribe/bizsend``),
and the access token they need.

The access token (fetched with the AppID and secret, valid two hours) is shared by every
worker through Redis: fetched by one at a time, kept until a few minutes before it expires, and
fetched again when WeChat says it is invalid (40001, 40014) or expired (42001). Fetching a new
token retires the old one for every process, so a worker drops only the token that failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import httpx
from redis.asyncio import Redis

from services.common.clock import LOCAL_TZ, now
from services.notify.wechat_templates import WeChatTemplate, fill

WECHAT_API = "https://api.weixin.qq.com"
# Fetch a new token this long before WeChat's expires_in runs out.
REFRESH_MARGIN_S = 300
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
USER_REFUSED = 43101
_LOCK_TTL_S = 10


class WeChatError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat {errcode}: {errmsg}")
        self.errcode = errcode


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class AccessTokens:
    """The official account's access token, cached in Redis for every worker."""

    def __init__(self, redis: Redis, namespace: str, endpoint: str, app_id: str, secret: str) -> None:
        self.redis, self.endpoint, self.app_id, self.secret = redis, endpoint.rstrip("/"), app_id, secret
        self.key = f"{namespace}:wechat:access-token:{app_id}"
        self.lock = f"{self.key}:lock"

    async def current(self, client: httpx.AsyncClient) -> str:
        token = _text(await self.redis.get(self.key))
        return token if token else await self._fetch(client)

    async def replace(self, client: httpx.AsyncClient, failed: str) -> str:
        """A new token instead of ``failed`` (unless another worker already replaced it)."""
        token = _text(await self.redis.get(self.key))
        if token and token != failed:
            return token
        if token == failed:
            await self.redis.delete(self.key)
        return await self._fetch(client)

    async def _fetch(self, client: httpx.AsyncClient) -> str:
        for _ in range(50):
            if await self.redis.set(self.lock, "1", nx=True, ex=_LOCK_TTL_S):
                try:
                    token = _text(await self.redis.get(self.key))
                    return token if token else await self._ask(client)
                finally:
                    await self.redis.delete(self.lock)
            await asyncio.sleep(0.1)  # another worker is fetching it
            token = _text(await self.redis.get(self.key))
            if token:
                return token
        raise WeChatError(-1, "no access token: another worker holds the refresh lock")

    async def _ask(self, client: httpx.AsyncClient) -> str:
        response = await client.get(
            f"{self.endpoint}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret},
        )
        answer: dict[str, Any] = response.json()
        token = answer.get("access_token")
        if not token:
            raise WeChatError(int(answer.get("errcode", -1)), str(answer.get("errmsg", response.text[:200])))
        ttl = max(int(answer.get("expires_in", 7200)) - REFRESH_MARGIN_S, 60)
        await self.redis.set(self.key, token, ex=ttl)
        return str(token)


class SubscriptionMessages:
    """Sends one subscription message, with a fresh token once if WeChat refused the token."""

    def __init__(
        self,
        tokens: AccessTokens,
        templates: Mapping[str, WeChatTemplate],
        today: Callable[[], date] = lambda: now().astimezone(LOCAL_TZ).date(),
    ) -> None:
        self.tokens, self.templates, self.today = tokens, templates, today

    def body(self, openid: str, template: WeChatTemplate, params: Mapping[str, str]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template.template_id,
            "data": fill(template, params, self.today()),
        }
        if template.page:
            body["page"] = template.page
        return body

    async def send(self, client: httpx.AsyncClient, body: dict[str, Any]) -> None:
        token = await self.tokens.current(client)
        for attempt in range(2):
            response = await client.post(
                f"{self.tokens.endpoint}/cgi-bin/message/subscribe/bizsend",
                params={"access_token": token},
                json=body,
            )
            answer: dict[str, Any] = response.json()
            errcode = int(answer.get("errcode", 0))
            if errcode == 0:
                return
            if errcode in TOKEN_ERRORS and attempt == 0:
                token = await self.tokens.replace(client, token)
                continue
            raise WeChatError(errcode, str(answer.get("errmsg", "")))
