"""A stand-in of WeChat's API for an official account, on 127.0.0.1: the access token
(``/cgi-bin/token``, tokens it can be told to expire), subscription messages
(``/cgi-bin/message/subscribe/bizsend``: the token, the template and each data field checked by
its kind's rule, the one-time subscriptions the resident granted, spent one per message, and
43101 when there is none), and web authorisation (``/connect/oauth2/authorize`` redirecting
back with a code, ``/sns/oauth2/access_token`` turning it into the OpenID).
"""

from __future__ import annotations

import re
import secrets
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.test_launcher import free_port

# WeChat's rules for a data field's value, by the field's kind.
_RULES: dict[str, re.Pattern[str]] = {
    "thing": re.compile(r".{1,20}", re.S),
    "phrase": re.compile(r"[\u4e00-\u9fff]{1,5}"),
    "time": re.compile(r"(\d{4}年\d{1,2}月\d{1,2}日 )?\d{1,2}:\d{2}|\d{4}年\d{1,2}月\d{1,2}日"),
    "date": re.compile(r"\d{4}年\d{1,2}月\d{1,2}日"),
    "number": re.compile(r"\d{1,32}(\.\d+)?"),
    "character_string": re.compile(r"[\x21-\x7e]{1,32}"),
    "name": re.compile(r".{1,10}"),
}


@dataclass
class WeChatStandIn:
    app_id: str
    secret: str
    templates: dict[str, dict[str, str]]  # template id -> {field: kind}
    port: int = field(default_factory=free_port)
    tokens: set[str] = field(default_factory=set)
    expired: set[str] = field(default_factory=set)
    token_fetches: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    answers: Counter[int] = field(default_factory=Counter)  # errcode -> how often
    quota: Counter[tuple[str, str]] = field(default_factory=Counter)  # (openid, template) -> left
    users: dict[str, str] = field(default_factory=dict)  # who authorises: code -> openid
    authorising: str | None = None  # the OpenID of whoever opens the authorisation page next

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def expire_tokens(self) -> None:
        """Two hours have passed: every token handed out so far answers 42001."""
        self.expired |= self.tokens
        self.tokens.clear()

    def _answer(self, errcode: int, errmsg: str) -> JSONResponse:
        self.answers[errcode] += 1
        return JSONResponse({"errcode": errcode, "errmsg": errmsg})

    async def token(self, request: Request) -> JSONResponse:
        q = request.query_params
        if q.get("grant_type") != "client_credential":
            return self._answer(40002, "invalid grant_type")
        if q.get("appid") != self.app_id or q.get("secret") != self.secret:
            return self._answer(40013 if q.get("appid") != self.app_id else 40125, "invalid appid or secret")
        self.token_fetches += 1
        token = f"token-{self.token_fetches}-{secrets.token_hex(8)}"
        self.tokens.add(token)
        return JSONResponse({"access_token": token, "expires_in": 7200})

    async def send(self, request: Request) -> JSONResponse:
        token = request.query_params.get("access_token", "")
        if token in self.expired:
            return self._answer(42001, "access_token expired")
        if token not in self.tokens:
            return self._answer(40001, "invalid credential, access_token is invalid or not latest")
        body: dict[str, Any] = await request.json()
        fields = self.templates.get(str(body.get("template_id")))
        if fields is None:
            return self._answer(40037, "invalid template_id")
        data = body.get("data") or {}
        if set(data) != set(fields):
            return self._answer(47003, f"argument invalid! data fields {sorted(data)}")
        for name, kind in fields.items():
            value = data[name].get("value") if isinstance(data[name], dict) else None
            if not isinstance(value, str) or not _RULES[kind].fullmatch(value):
                return self._answer(47003, f"argument invalid! data.{name}.value invalid")
        key = (str(body.get("touser")), str(body["template_id"]))
        if self.quota[key] <= 0:
            return self._answer(43101, "user refuse to accept the msg")
        self.quota[key] -= 1
        self.sent.append(body)
        return self._answer(0, "ok")

    async def authorize(self, request: Request) -> Response:
        """The page WeChat's browser shows (snsapi_base: silently) before sending the resident
        back to ``redirect_uri`` with a one-time code."""
        q = request.query_params
        if q.get("appid") != self.app_id or q.get("response_type") != "code":
            return JSONResponse({"errcode": 10003, "errmsg": "redirect_uri domain mismatch"}, status_code=400)
        if q.get("scope") not in ("snsapi_base", "snsapi_userinfo") or self.authorising is None:
            return JSONResponse({"errcode": 10005, "errmsg": "insufficient scope"}, status_code=400)
        code = secrets.token_hex(8)
        self.users[code] = self.authorising
        back = q["redirect_uri"]
        sep = "&" if "?" in back else "?"
        query = urllib.parse.urlencode({"code": code, "state": q.get("state", "")})
        return RedirectResponse(f"{back}{sep}{query}", status_code=302)

    async def oauth_token(self, request: Request) -> JSONResponse:
        q = request.query_params
        if q.get("appid") != self.app_id or q.get("secret") != self.secret:
            return self._answer(40125, "invalid appsecret")
        openid = self.users.pop(q.get("code", ""), None)  # a code is good once
        if q.get("grant_type") != "authorization_code" or openid is None:
            return self._answer(40029, "invalid code")
        return JSONResponse(
            {
                "access_token": "web-" + secrets.token_hex(6),
                "expires_in": 7200,
                "openid": openid,
                "scope": "snsapi_base",
            }
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/cgi-bin/token", self.token),
                Route("/cgi-bin/message/subscribe/bizsend", self.send, methods=["POST"]),
                Route("/connect/oauth2/authorize", self.authorize),
                Route("/sns/oauth2/access_token", self.oauth_token),
            ]
        )
